"""Read-only list rows from `values()` dicts, in exactly a ModelSerializer's JSON (issue 23).

A serializer with `many=True` builds a model instance per row and per joined row, then walks
every field through `get_attribute` and `to_representation`: about half of a story list's time.
`ValuesRows(StorySerializer)` reads the serializer once — its field names, order and sources —
and answers rows from `queryset.values(*rows.columns)` with the same keys, the same order and
the same values: a field whose representation of a database value is that value (integers,
strings, primary keys, JSON, choices) is copied; decimals and date-times go through the
serializer's own field (`to_representation`, so formats, time zones and quantizing stay DRF's).
A field of any other kind refuses to build (TypeError), so a serializer that grows a method or
nested field fails in its test, never answers a different JSON. The serializer stays the schema
(drf-spectacular reads it); tests compare both answers field by field.
See docs/decisions/1930-values-rows.md.
"""

from __future__ import annotations

from rest_framework import ISO_8601, relations
from rest_framework import fields as f
from rest_framework.settings import api_settings

# Fields whose representation of a value read from the database is that value.
_COPIED = (f.IntegerField, f.CharField, f.ChoiceField, f.JSONField, f.BooleanField, relations.PrimaryKeyRelatedField)
# Fields whose representation is computed (format, quantize, time zone): the field itself does it.
_CONVERTED = (f.DecimalField, f.DateTimeField, f.DateField)


class ValuesRows:
    """`rows = ValuesRows(Serializer)`; `rows(queryset.values(*rows.columns))` -> list of dicts."""

    def __init__(self, serializer_class):
        self.serializer_class = serializer_class
        self._plan = None

    def _build(self):
        serializer = self.serializer_class()
        model = serializer.Meta.model
        plan = []
        for name, field in serializer.fields.items():
            if not field.read_only or isinstance(field, f.SerializerMethodField) or getattr(field, "many", False):
                raise TypeError(f"{self.serializer_class.__name__}.{name}: not a plain read-only field")
            if isinstance(field, relations.PrimaryKeyRelatedField):
                column = model._meta.get_field(field.source).attname  # product -> product_id
            elif isinstance(field, (*_COPIED, *_CONVERTED)) and not isinstance(field, relations.RelatedField):
                column = field.source.replace(".", "__")
            else:
                raise TypeError(f"{self.serializer_class.__name__}.{name}: {type(field).__name__} has no values() row")
            if isinstance(field, f.JSONField) and field.binary:
                raise TypeError(f"{self.serializer_class.__name__}.{name}: a binary JSONField is not copied as is")
            plan.append((name, column, field if isinstance(field, _CONVERTED) else None))
        self._plan = plan
        return plan

    @property
    def plan(self) -> list[tuple[str, str, object]]:
        return self._plan or self._build()

    @property
    def columns(self) -> list[str]:
        """The `values()` names the rows read (one per field, joined ones with `__`)."""
        return [column for _, column, _ in self.plan]

    def values(self, queryset):
        """The queryset as `values()` of the columns, with its annotations (a cursor reads them)."""
        return queryset.values(*self.columns, *queryset.query.annotations)

    def _bound(self) -> list[tuple[str, str, object]]:
        """The plan with a converter per computed field, for this request (its time zone)."""
        return [(name, column, None if field is None else _converter(field)) for name, column, field in self.plan]

    def __call__(self, rows) -> list[dict]:
        plan = self._bound()
        out = []
        for values in rows:
            row = {}
            for name, column, convert in plan:
                value = values[column]
                row[name] = value if convert is None or value is None else convert(value)
            out.append(row)
        return out


def _converter(field):
    """`field.to_representation`, with the time zone looked up once per request instead of per
    value for ISO 8601 date-times (DRF's enforce_timezone + isoformat + "Z", the same text)."""
    if not isinstance(field, f.DateTimeField):
        return field.to_representation
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    tz = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if output_format is None or output_format.lower() != ISO_8601 or tz is None:
        return field.to_representation

    def convert(value):
        if isinstance(value, str) or value.utcoffset() is None:
            return field.to_representation(value)  # naive or text: the field's own path
        try:
            text = value.astimezone(tz).isoformat()
        except OverflowError:
            return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert
