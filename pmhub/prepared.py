"""A fixed-shape query of every request, compiled to SQL once per process and database.

Building and compiling a QuerySet costs more than running it when the query is small: the
memberships read of every signed-in page took about 0.7-0.9 ms in the ORM against 0.12-0.16 ms
for the same SQL through a cursor (floors database, the loaded 2-core machine; decision 2001).
`Prepared(model, build)` keeps the ORM as the one description of the query: `build(*slots)`
returns the QuerySet with stand-in values, compiled once per database alias (the alias the router
picks for reading `model`, so replica reads keep working); `rows(*values)` runs that SQL with the
real values in the stand-ins' places and applies the same converters the ORM applies, so the rows
are what `list(queryset.values_list(...))` returns, and `objects(*values)` the instances iterating
the QuerySet makes (select_related and annotations included; tests/core/test_prepared.py).
`statement(*values)` gives the (sql, params) to send with other statements (pmhub.sqlbatch.run), on
the alias it names (a write's statements: "default").
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Stand-ins for the values of a query: ids nothing has, told apart from every other parameter.
SLOTS = (-7_000_000_001, -7_000_000_002, -7_000_000_003)


class Prepared:
    def __init__(self, model, build: Callable[..., QuerySet]):
        self.model, self.build = model, build
        self._by_alias: dict[str, tuple] = {}

    def _compile(self, alias: str) -> tuple:
        compiler = self.build(*SLOTS).using(alias).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = [(i, SLOTS.index(p)) for i, p in enumerate(params) if isinstance(p, int) and p in SLOTS]
        if not slots:
            raise ValueError("the query uses none of its stand-in values")
        converters = compiler.get_converters([s[0] for s in compiler.select[:compiler.col_count]])
        return compiler, sql, tuple(params), slots, converters

    def _compiled(self, alias: str) -> tuple:
        compiled = self._by_alias.get(alias)
        if compiled is None:
            compiled = self._by_alias[alias] = self._compile(alias)
        return compiled

    @staticmethod
    def _params(compiled: tuple, values) -> list:
        params = list(compiled[2])
        for i, k in compiled[3]:
            params[i] = values[k]
        return params

    def statement(self, *values, using: str = "default") -> tuple[str, list]:
        """(sql, params) with the values in the stand-ins' places, for pmhub.sqlbatch.run (no
        converters: the caller reads the raw row, e.g. with sqlbatch.from_db)."""
        compiled = self._compiled(using)
        return compiled[1], self._params(compiled, values)

    def _run(self, values) -> tuple[str, object, list[tuple]]:
        alias = router.db_for_read(self.model)
        compiled = self._compiled(alias)
        compiler, sql, _, _, converters = compiled
        params = self._params(compiled, values)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            return alias, compiler, [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return alias, compiler, [tuple(row) for row in rows]

    def rows(self, *values) -> list[tuple]:
        """The rows of a `values_list()` query."""
        return self._run(values)[2]

    def objects(self, *values) -> list:
        """The model instances of a model query, as iterating the QuerySet makes them: every column
        loaded, select_related objects attached, annotations set (Django's ModelIterable)."""
        alias, compiler, rows = self._run(values)
        klass_info, select = compiler.klass_info, compiler.select
        annotations = compiler.annotation_col_map
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        model = klass_info["model"]
        found = []
        for row in rows:
            obj = model.from_db(alias, init_list, row[start:end])
            for populator in get_related_populators(klass_info, select, alias):
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found
