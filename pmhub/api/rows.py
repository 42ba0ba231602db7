"""Read-only list rows from `values()` dicts, in exactly a ModelSerializer's JSON (issue 23).

A serializer with `many=True` builds a model instance per row and per joined row, then walks
every field through `get_attribute` and `to_representation`: about half of a story list's time.
`ValuesRows(StorySerializer)` reads the serializer once — its field names, order and sources —
and answers rows from `queryset.values(*rows.columns)` with the same keys, the same order and
the same values: a field whose representation of a database value is that value (integers,
strings, primary keys, JSON, choices) is copied; decimals and date-times go through the
serializer's own field (`to_representation`, so formats, time zones and quantizing stay DRF's).
`rows.values(queryset)` yields plain tuples (no dict per row, no JSON decoded twice: equal jsonb
texts of one page, such as `[]` and `{}`, are decoded once), and a row is built by one `zip` of the
field names with the converted tuple (decision 2020).
A field of any other kind refuses to build (TypeError), so a serializer that grows a method or
nested field fails in its test, never answers a different JSON. The serializer stays the schema
(drf-spectacular reads it); tests compare both answers field by field.
See docs/decisions/1930-values-rows.md.
"""

from __future__ import annotations

import datetime
import decimal
import json

from django.db import connections
from django.db.models import JSONField
from django.db.models.query import BaseIterable
from django.db.models.sql.constants import MULTI
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
        """The queryset as `values()` of the columns, with its annotations (a cursor reads them),
        yielding tuples (`TupleRows`) that `self(...)` turns into the serializer's rows."""
        values = queryset.values(*self.columns, *queryset.query.annotations)
        values._iterable_class = TupleRows
        return values

    def _bound(self) -> list[tuple[str, str, object]]:
        """The plan with a converter per computed field, for this request (its time zone)."""
        return [(name, column, None if field is None else _converter(field)) for name, column, field in self.plan]

    def __call__(self, rows) -> list[dict]:
        """The serializer's rows from `self.values(...)` tuples (or from `values()` dicts)."""
        plan = self._bound()
        rows = list(rows)
        if rows and isinstance(rows[0], tuple):
            return self._from_tuples(rows, plan)
        out = []
        for values in rows:
            row = {}
            for name, column, convert in plan:
                value = values[column]
                row[name] = value if convert is None or value is None else convert(value)
            out.append(row)
        return out

    @staticmethod
    def _from_tuples(rows, plan) -> list[dict]:
        names = [name for name, _, _ in plan]
        index = rows[0]._index
        positions = [index[column] for _, column, _ in plan]
        converted = [(i, convert) for i, (_, _, convert) in zip(positions, plan, strict=True) if convert is not None]
        # values(*columns, *annotations): the plan's columns lead each tuple, in the plan's order,
        # and zip stops before the annotations. Otherwise pick them.
        pick = None if positions == list(range(len(positions))) else (lambda v: [v[i] for i in positions])
        out = []
        for values in rows:
            values = list(values)
            for i, convert in converted:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
            out.append(dict(zip(names, values if pick is None else pick(values), strict=False)))
        return out


class TupleRows(BaseIterable):
    """The iterable of `ValuesRows.values()`: each row a tuple in values() order (extra select,
    fields, annotations), read as a cursor paginator reads an instance (`row.rank`), with Django's
    converters applied, except that a JSON column's texts are decoded once per distinct text in
    the query (the decoded values are shared between rows: rows are read, never changed)."""

    def __iter__(self):
        queryset = self.queryset
        compiler = queryset.query.get_compiler(queryset.db)
        results = compiler.execute_sql(MULTI, chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size)
        reader = _RowReader(queryset.query, compiler)  # after execute_sql: the compiler is set up
        for chunk in results:
            yield from reader(chunk)


class _RowReader:
    """Tuples of a compiled values() query -> TupleRows' rows (see there)."""

    def __init__(self, query, compiler):
        names = (list(query.selected) if query.selected
                 else [*query.extra_select, *query.values_select, *query.annotation_select])
        self.row_class = _row_class(tuple(names))
        self.connection = compiler.connection
        self.col_count = compiler.col_count if compiler.has_extra_select else None
        converters = compiler.get_converters([s[0] for s in compiler.select[0:compiler.col_count]])
        self.steps = []
        for i, (convs, expression) in converters.items():
            field = getattr(expression, "output_field", None)
            plain_json = (isinstance(field, JSONField) and field.decoder is None
                          and convs == [field.from_db_value])
            self.steps.append((i, plain_json, convs, expression))

    def __call__(self, rows, connection=None):
        """`connection`: this thread's (a compiled query is read by every thread), or the compiler's."""
        row_class, col_count = self.row_class, self.col_count
        connection = connection or self.connection
        steps = [(i, _json_once() if plain_json else None, convs, expression)
                 for i, plain_json, convs, expression in self.steps]
        if connection.vendor == "postgresql" and any(decode is not None for _, decode, _, _ in steps):
            # The jsonb texts of a chunk (each one JSON value: PostgreSQL wrote them) decoded
            # together, in one json.loads (decision 2301).
            rows = rows if isinstance(rows, list) else list(rows)
            _decode_together([row[i] for row in rows for i, decode, _, _ in steps if decode is not None],
                             [decode for _, decode, _, _ in steps if decode is not None])
        for row in rows:
            if col_count is not None:
                row = row[:col_count]
            if steps:
                row = list(row)
                for i, decode, convs, expression in steps:
                    value = row[i]
                    if decode is not None:
                        row[i] = decode(value)
                    else:
                        for convert in convs:
                            value = convert(value, expression, connection)
                        row[i] = value
            yield row_class(row)


class CompiledRows:
    """A values() query of `ValuesRows.values()` compiled once (issue 23, decision 2024): `run(...)`
    executes its SQL with other ids in the places of the stand-ins it was built with and answers
    TupleRows' rows. Building and compiling the story list's query cost about 0.6 ms in-process;
    the SQL is the ORM's.

    `build(ids)` must return the queryset for a list of `count` ids. It is built and compiled twice,
    with two sets of stand-in ids: the SQL texts must be equal, and the parameters must differ
    exactly where a stand-in stands, each stand-in once at least: those places are the slots.
    A constant of the query that happens to equal a stand-in, or an id written into the SQL,
    refuses to compile (ValueError), never runs with a wrong parameter."""

    STAND_INS = (-4_611_686_018_427_380_001, -4_611_686_018_426_380_001)  # ids are positive

    def __init__(self, build, count: int):
        compiled = []
        for base in self.STAND_INS:
            queryset = build([base - i for i in range(count)])
            compiler = queryset.query.get_compiler(queryset.db)
            sql, params = compiler.as_sql()
            compiled.append((sql, tuple(params), queryset, compiler))
        (self.sql, self.params, queryset, compiler), (other_sql, other_params, _, _) = compiled
        first, second = ([base - i for i in range(count)] for base in self.STAND_INS)
        if other_sql != self.sql or len(other_params) != len(self.params):
            raise ValueError("the query's SQL depends on the ids: it cannot be compiled once")
        self.slots = []
        for position, (a, b) in enumerate(zip(self.params, other_params, strict=True)):
            if a == b:
                if a in first or a in second:
                    raise ValueError(f"a constant of the query equals a stand-in id ({a})")
                continue
            if a not in first or second[first.index(a)] != b:
                raise ValueError(f"parameter {position} changes with the ids but is not one of them")
            self.slots.append((position, first.index(a)))
        if {i for _, i in self.slots} != set(range(count)):
            raise ValueError("an id is not a parameter of the query")
        self.using = queryset.db
        self.reader = _RowReader(queryset.query, compiler)

    def parameters(self, ids) -> list:
        """The query's parameters with `ids` (as many as it was built for) in the stand-ins' places."""
        params = list(self.params)
        for position, i in self.slots:
            params[position] = ids[i]
        return params

    def run(self, params) -> list:
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return list(self.reader(cursor.fetchall(), connection))


class FirstPage:
    """What CursorPagination asks of the queryset of a first page (its ordering, then the rows
    [0:page size + 1]), answered by a compiled query; anything else is refused (ValueError)."""

    def __init__(self, compiled: CompiledRows, params: list, ordering: tuple, limit: int):
        self.compiled, self.params, self.ordering, self.limit = compiled, params, tuple(ordering), limit

    def order_by(self, *ordering):
        if tuple(ordering) != self.ordering:
            raise ValueError(f"compiled for the order {self.ordering}, asked for {ordering}")
        return self

    def __getitem__(self, k):
        if not (isinstance(k, slice) and k.start in (0, None) and k.stop == self.limit and k.step is None):
            raise ValueError(f"compiled for the rows [0:{self.limit}], asked for {k}")
        return self.compiled.run(self.params)


def _json_once():
    """JSONField.from_db_value for one query, decoding each distinct text once."""
    seen = {}

    def decode(value):
        if value is None or not isinstance(value, str):
            return value
        try:
            return seen[value]
        except KeyError:
            pass
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            decoded = value
        seen[value] = decoded
        return decoded

    decode.seen = seen
    return decode


def _decode_together(values, decoders) -> None:
    """Decode the distinct JSON texts among `values` in one `json.loads` of them as one array, and
    hand each text's value to every decoder of `_json_once` (each keeps it in its own table): on a
    page of 200 stories one call instead of about 200 (the Python around each json.loads cost more
    than the parsing). For jsonb texts, each one JSON value, so the array holds them in order; a
    text that fails or an array whose length differs from the texts' leaves them to be decoded
    one by one, as before."""
    texts = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    if not texts:
        return
    try:
        decoded = json.loads("[" + ",".join(texts) + "]")
    except json.JSONDecodeError:
        return
    if len(decoded) != len(texts):
        return
    for decode in decoders:
        decode.seen.update(zip(texts, decoded, strict=True))


class _Row(tuple):
    __slots__ = ()
    _index: dict = {}

    def __getattr__(self, name):
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None


_ROW_CLASSES: dict[tuple, type] = {}


def _row_class(names: tuple) -> type:
    found = _ROW_CLASSES.get(names)
    if found is None:
        index = {name: i for i, name in enumerate(names)}
        found = _ROW_CLASSES[names] = type("Row", (_Row,), {"__slots__": (), "_index": index})
    return found


def _converter(field):
    """`field.to_representation`, with what does not change within a request looked up once:
    the time zone of ISO 8601 date-times (DRF's enforce_timezone + isoformat + "Z", the same text)
    and a decimal's quantizing context (DRF's quantize and format, the same text)."""
    if isinstance(field, f.DecimalField):
        return _decimal_converter(field)
    if not isinstance(field, f.DateTimeField):
        return field.to_representation
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    tz = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if output_format is None or output_format.lower() != ISO_8601 or tz is None:
        return field.to_representation

    # In UTC (the settings' zone) a date-time PostgreSQL answered in UTC is printed as it is: the
    # same text as after astimezone, which was a third of the conversion (decision 2301).
    utc = datetime.UTC if tz is datetime.UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC") else None

    def convert(value):
        if value.__class__ is datetime.datetime and value.tzinfo is utc is not None:
            return value.isoformat()[:-6] + "Z"
        if isinstance(value, str) or value.utcoffset() is None:
            return field.to_representation(value)  # naive or text: the field's own path
        try:
            text = value.astimezone(tz).isoformat()
        except OverflowError:
            return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _decimal_converter(field):
    """DRF's DecimalField.to_representation (quantize with a copy of the current context at
    `max_digits` precision, then `{:f}`), with the context and quantum built once per request."""
    coerce_to_string = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if (not coerce_to_string or field.localize or getattr(field, "normalize_output", False)
            or field.decimal_places is None):
        return field.to_representation
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    quantum = decimal.Decimal(".1") ** field.decimal_places
    rounding = field.rounding

    def convert(value):
        if not isinstance(value, decimal.Decimal):
            return field.to_representation(value)
        return f"{value.quantize(quantum, rounding=rounding, context=context):f}"

    return convert
