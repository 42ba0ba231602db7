"""One ordering rule for every list that people sort, on pages and in the API.

A list is ordered by a named choice (`rank`, `-score`, ...). Each choice is a tuple of keys; a
key on a nullable figure (a score, an estimate) puts the rows without a value LAST in both
directions: "lowest score first" and "highest score first" both end with the unscored stories,
because an unscored story is neither high nor low.

Pages order with `F(field).asc/desc(nulls_last=True)` (`Orderings.order_by`). The API pages large
lists with a cursor, which needs plain column names and no NULL in its first column, so it orders
by an annotation that replaces a missing value with a sentinel beyond every real one
(`Orderings.annotated`): the same rule, and tests/core/test_ordering.py checks that both give the
same order.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce


@dataclass(frozen=True)
class Key:
    field: str
    descending: bool = False
    nullable: bool = False

    @classmethod
    def parse(cls, spec: str) -> "Key":
        """"-score?" -> Key("score", descending=True, nullable=True)."""
        nullable = spec.endswith("?")
        spec = spec.rstrip("?")
        return cls(field=spec.lstrip("-"), descending=spec.startswith("-"), nullable=nullable)

    def expression(self):
        expr = F(self.field)
        return expr.desc(nulls_last=True) if self.descending else expr.asc(nulls_last=True)

    @property
    def alias(self) -> str:
        return f"_order_{self.field.replace('__', '_')}"


def nulls_last(expression, *, descending: bool):
    """Order by any expression (a custom field's JSON value, say) with missing values last."""
    return expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)


def nulls_last_key(value, *, descending: bool) -> tuple:
    """The same rule for a list sorted in Python (`rows.sort(key=...)`): a number or None, None last
    in both directions."""
    return (value is None, -(value or 0) if descending else (value or 0))


def _sentinel(field: models.Field, *, descending: bool) -> Value:
    """A value past every real one on the side the order ends on."""
    if isinstance(field, models.DecimalField):
        big = Decimal(10) ** (field.max_digits - field.decimal_places + 1)
        return Value(-big if descending else big, output_field=models.DecimalField())
    if isinstance(field, models.IntegerField):
        big = 2**62
        return Value(-big if descending else big, output_field=models.BigIntegerField())
    raise TypeError(f"No cursor sentinel for a nullable {type(field).__name__}; order it on pages only.")


class Orderings:
    """The named orderings a list offers: `{"-score": ("-score?", "rank"), ...}` with `?` marking
    a nullable key. `default` is used when none is asked for."""

    def __init__(self, choices: dict[str, tuple[str, ...]], *, default: str):
        self.choices = {name: tuple(Key.parse(k) for k in keys) for name, keys in choices.items()}
        assert default in self.choices
        self.default = default

    def names(self) -> list[str]:
        return list(self.choices)

    def order_by(self, name: str) -> list:
        """Expressions for `QuerySet.order_by` (pages)."""
        return [k.expression() for k in self.choices[name]]

    def columns(self, name: str) -> tuple[str, ...]:
        """The column names `annotated` orders by, without annotating anything (a cursor reads them)."""
        keys = self.choices[name]
        return tuple(f"{'-' if k.descending else ''}{k.alias if k.nullable else k.field}" for k in keys)

    def annotated(self, queryset: QuerySet, name: str) -> tuple[QuerySet, tuple[str, ...]]:
        """The queryset with a non-null sort column per nullable key, and the column names to order
        by (for cursor pagination, which compares the first column's value)."""
        annotations, names = {}, []
        for key in self.choices[name]:
            column = key.field
            if key.nullable:
                sentinel = _sentinel(queryset.model._meta.get_field(key.field), descending=key.descending)
                annotations[key.alias] = Coalesce(key.field, sentinel, output_field=sentinel.output_field)
                column = key.alias
            names.append(f"-{column}" if key.descending else column)
        if annotations:
            queryset = queryset.annotate(**annotations)
        return queryset, tuple(names)
