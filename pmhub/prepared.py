"""A fixed-shape query of every request, compiled to SQL once per process and database.

Building and compiling a QuerySet costs more than running it when the query is small: the
memberships read of every signed-in page took about 0.7-0.9 ms in the ORM against 0.12-0.16 ms
for the same SQL through a cursor (floors database, the loaded 2-core machine; decision 2001).
`Prepared(model, build)` keeps the ORM as the one description of the query: `build(*values)`
returns the QuerySet, and is called with stand-in values (ids nothing has, dates nobody plans in)
to compile it once per database alias (the alias the router picks for reading `model`, so replica
reads keep working) and per shape of the values (a list of ids compiles once per length);
`rows(*values)` runs that SQL with the real values in the stand-ins' places and applies the same
converters the ORM applies, so the rows are what `list(queryset.values_list(...))` returns,
`named(*values)` the same as `values_list(named=True)` rows, and `objects(*values)` the instances
iterating the QuerySet makes (select_related and annotations included; tests/core/test_prepared.py).

Values may be ints, dates or lists/tuples of ints. The query is built and compiled twice, with two
sets of stand-ins (CompiledRows' rule, pmhub.api.rows, decision 2024): the SQL texts must be equal
and the parameters must differ exactly where a stand-in stands, every value at least once. A
constant that equals a stand-in, a value written into the SQL text or a value the query does not
use refuses to compile (ValueError): a prepared query never runs with a parameter in a wrong place
and never drops a scope it was given (decision 2120).
"""

from __future__ import annotations

import itertools
import re
from collections import namedtuple
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import DatabaseError, connections, router
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Stand-ins of the two compilations. Ints within every integer field's range (a small positive one
# included): Django drops a comparison with a value out of its field's range from the SQL (a role
# `<= -7e12` is never true), which the double compilation refuses, so a stand-in must be a value the
# field could hold. Real rows with these values do not matter: stand-ins are never run. Dates in the
# first millennium.
_INT_BASES = (32_000, 32_300)
_LIST_BASES = (1_000_000_000, 1_500_000_000)
_DATE_BASES = (date(101, 1, 1), date(601, 1, 1))
# Kept for callers of decision 2001: ids nothing has.
SLOTS = (-7_000_000_001, -7_000_000_002, -7_000_000_003)


def _shape(value):
    if isinstance(value, bool):
        raise TypeError("a prepared query takes ints, dates or lists of ints, not a bool")
    if isinstance(value, int):
        return int
    if isinstance(value, date) and not isinstance(value, datetime):
        return date
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError("a list value of a prepared query holds ints only")
        return len(value)
    raise TypeError(f"a prepared query takes ints, dates or lists of ints, not {type(value).__name__}")


def _stand_ins(shape: tuple, which: int) -> list:
    """The stand-in values of one compilation (`which` 0 or 1) for values of `shape`."""
    out = []
    for k, s in enumerate(shape):
        if s is int:
            out.append(_INT_BASES[which] + k)
        elif s is date:
            out.append(_DATE_BASES[which] + timedelta(days=k))
        else:
            out.append([_LIST_BASES[which] + 1_000_000 * k + i for i in range(s)])
    return out


class _Compiled:
    """One shape of one Prepared on one alias: the SQL, its parameters and where the values go."""

    def __init__(self, build, alias: str, shape: tuple):
        if not shape:
            raise ValueError("a prepared query takes one value at least (the scope it reads)")
        compiled = []
        for which in (0, 1):
            stand_ins = _stand_ins(shape, which)
            compiler = build(*stand_ins).using(alias).query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            compiled.append((sql, tuple(params), compiler, stand_ins))
        (sql, params, compiler, first), (other_sql, other_params, _, second) = compiled
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError("the query's SQL depends on its values: it cannot be compiled once")
        # A date reaches the parameters as the backend adapts it (PostgreSQL: the date itself;
        # SQLite: its ISO text), and so does a real value at run time (self.adapt).
        adapt = connections[alias].ops.adapt_datefield_value
        # Where each stand-in of the first compilation may stand: (value index, list index or None).
        places = {}
        for k, (a, b) in enumerate(zip(first, second, strict=True)):
            if isinstance(a, list):
                places.update({x: (k, i, y) for i, (x, y) in enumerate(zip(a, b, strict=True))})
            elif isinstance(a, date):
                places[adapt(a)] = (k, None, adapt(b))
            else:
                places[a] = (k, None, b)
        others = {b for _, _, b in places.values()}
        slots, used = [], set()
        for position, (a, b) in enumerate(zip(params, other_params, strict=True)):
            if a == b:
                if _hashable(a) and (a in places or a in others):
                    raise ValueError(f"a constant of the query equals a stand-in value ({a!r})")
                continue
            place = places.get(a) if _hashable(a) else None
            if place is None or place[2] != b:
                raise ValueError(f"parameter {position} changes with the values but is not one of them")
            slots.append((position, place[0], place[1]))
            used.add(place[:2])
        if used != {(k, i) for k, i, _ in places.values()}:
            raise ValueError("a value given to the query is not a parameter of it")
        self.sql, self.params, self.compiler, self.slots = sql, params, compiler, slots
        # The server-side statement (pmhub_<n>, see _server_statement): its name, PREPARE and
        # EXECUTE texts; False once the server's parameter types refused it, and for a shape with a
        # list (compiled once per length: a statement per length would pile up on the server).
        self.server: tuple[str, str, str] | bool | None = None if all(s in (int, date) for s in shape) else False
        self.int_ranges: tuple[tuple[int, int], ...] = ()  # (parameter, 2 ** bits) of its int parameters
        self.adapt = adapt if date in shape else None
        self.converters = compiler.get_converters([s[0] for s in compiler.select[:compiler.col_count]])


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


class Prepared:
    def __init__(self, model, build: Callable[..., QuerySet]):
        self.model, self.build = model, build
        self._compiled: dict[tuple, _Compiled] = {}
        self._named: dict[tuple, type] = {}

    def _compiled_for(self, alias: str, values) -> _Compiled:
        shape = tuple(_shape(v) for v in values)
        compiled = self._compiled.get((alias, shape))
        if compiled is None:
            compiled = self._compiled[alias, shape] = _Compiled(self.build, alias, shape)
        return compiled

    @staticmethod
    def _params(compiled: _Compiled, values) -> list:
        params = list(compiled.params)
        for position, k, i in compiled.slots:
            params[position] = values[k] if i is None else values[k][i]
        if compiled.adapt is not None:
            params = [compiled.adapt(v) if isinstance(v, date) and not isinstance(v, datetime) else v
                      for v in params]
        return params

    def statement(self, *values, using: str = "default") -> tuple[str, list]:
        """(sql, params) with the values in the stand-ins' places, for pmhub.sqlbatch.run (no
        converters: the caller reads the raw row, e.g. with sqlbatch.from_db), on the alias it
        names (a write's statements: "default")."""
        compiled = self._compiled_for(using, values)
        return compiled.sql, self._params(compiled, values)

    def _run(self, values) -> tuple[str, _Compiled, list[tuple]]:
        alias = router.db_for_read(self.model)
        compiled = self._compiled_for(alias, values)
        params = self._params(compiled, values)
        connection = connections[alias]
        with connection.cursor() as cursor:
            sql = compiled.sql
            if connection.settings_dict.get("SERVER_PREPARED_STATEMENTS") and connection.vendor == "postgresql":
                sql = _server_statement(connection, compiled, params)
            if sql is compiled.sql:
                cursor.execute(sql, params)
            else:
                _execute_prepared(connection, cursor, compiled, sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        return alias, compiled, [tuple(row) for row in rows]

    def rows(self, *values) -> list[tuple]:
        """The rows of a `values_list()` (or `values()`) query, as tuples."""
        return self._run(values)[2]

    def named(self, *values) -> list:
        """The rows of a `values_list()` query as `values_list(named=True)` makes them."""
        alias, compiled, rows = self._run(values)
        key = (alias, tuple(_shape(v) for v in values))
        row_class = self._named.get(key)
        if row_class is None:
            query = compiled.compiler.query
            names = (list(query.selected) if query.selected
                     else [*query.extra_select, *query.values_select, *query.annotation_select])
            row_class = self._named[key] = namedtuple("Row", names)
        return [row_class._make(row) for row in rows]

    def objects(self, *values) -> list:
        """The model instances of a model query, as iterating the QuerySet makes them: every column
        loaded, select_related objects attached, annotations set (Django's ModelIterable)."""
        alias, compiled, rows = self._run(values)
        return self._instances(alias, compiled, rows)

    def objects_from(self, rows: list[tuple], *values, using: str = "default") -> list:
        """`objects(*values)` from the raw rows of `statement(*values, using=using)` run elsewhere
        (the last statement of a pmhub.sqlbatch.run): the ORM's converters applied, instances built."""
        compiled = self._compiled_for(using, values)
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        return self._instances(using, compiled, [tuple(row) for row in rows])

    @staticmethod
    def _instances(alias: str, compiled: _Compiled, rows: list[tuple]) -> list:
        compiler = compiled.compiler
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        annotations = list(compiler.annotation_col_map.items())
        model = klass_info["model"]
        found = []
        for row in rows:
            obj = model.from_db(alias, init_list, row[start:end])
            for populator in get_related_populators(klass_info, select, alias):
                populator.populate(row, obj)
            for name, position in annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found


# --- server-side prepared statements (decision 2310) -----------------------------------------------
# PostgreSQL plans every statement it is sent: 0.1-0.5 ms for the larger page queries, about 2.4 ms
# of the roadmap timeline's SQL. A query prepared on the server (`PREPARE pmhub_<n> AS ...`, then
# `EXECUTE pmhub_<n>(...)`) is parsed once per connection, and once PostgreSQL sees that a generic
# plan costs no more than the custom ones (after five executions) it is planned once too. A
# prepared statement lives as long as the server session: with persistent connections (CONN_MAX_AGE)
# that is many requests. Behind a pooler in transaction mode the next statement may reach another
# server session, where the name is unknown: settings turn it off there (SERVER_PREPARED_STATEMENTS,
# off whenever DISABLE_SERVER_SIDE_CURSORS says a transaction pooler is in the way).
_NAMES = itertools.count(1)
_PLACEHOLDER = re.compile(r"%[s%]")
# Parameter types the server may infer for a Python value, by the value's type: anything else (an
# "unknown" or "text" parameter meant for an int, say) and the query runs unprepared, as before.
_SERVER_TYPES = (  # in this order: a bool is an int, a datetime a date
    (bool, {"boolean"}),
    (int, {"smallint", "integer", "bigint", "numeric"}),
    (str, {"text", "character varying", "character", "citext"}),  # choices (a str enum) included
    (datetime, {"timestamp with time zone", "timestamp without time zone"}),
    (date, {"date"}),
    (float, {"double precision", "real", "numeric"}),
    (Decimal, {"numeric"}),
)


def _dollar_sql(sql: str) -> str:
    """psycopg2's `%s` placeholders as PREPARE's `$1, $2, ...` (and `%%` as the `%` it stands for)."""
    counter = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(counter)}", sql)


# The integer parameter types' ranges: a value outside is sent in the plain SQL instead (there the
# server reads it as a numeric literal, and `id = 99999999999999999999` finds nothing; as a bigint
# parameter it would be an error).
_INT_RANGES = {"smallint": 2 ** 15, "integer": 2 ** 31, "bigint": 2 ** 63}


def _server_statement(connection, compiled: _Compiled, params: list) -> str:
    """The SQL to send for `compiled` on this connection: `EXECUTE pmhub_<n>(%s, ...)`, preparing it
    first when this server session has not seen it; the plain SQL when the server's parameter types
    do not fit the values (then never again in this process), and for a call with an int outside
    its parameter's range. PREPARE runs on the driver's own cursor: it is not a query of the page
    (Django's query log and the tests' query counts see the EXECUTE), and it is not undone by a
    rollback (PostgreSQL keeps a statement prepared in a transaction that rolls back)."""
    Database = connection.Database  # noqa: N806 - the driver module, as Django names it
    if compiled.server is False:
        return compiled.sql
    if compiled.server is None:
        name = f"pmhub_{next(_NAMES)}"
        marks = ", ".join(["%s"] * len(params))
        compiled.server = (name, f"PREPARE {name} AS {_dollar_sql(compiled.sql)}", f"EXECUTE {name}({marks})")
    name, prepare, execute = compiled.server
    raw = connection.connection
    state = getattr(connection, "_pmhub_prepared", None)
    if state is None or state[0] is not raw:  # a new server session: nothing prepared on it yet
        state = connection._pmhub_prepared = (raw, set())
    if name not in state[1]:
        # Inside a transaction a refused PREPARE would abort it: a savepoint keeps it usable. In an
        # atomic block whose BEGIN has not been sent yet (sqlbatch.atomic_begun_with_first: the
        # driver in autocommit) there is no transaction: PREPARE runs on its own, as outside one.
        savepoint = connection.in_atomic_block and not (
            raw.autocommit and raw.info.transaction_status == Database.extensions.TRANSACTION_STATUS_IDLE)
        with raw.cursor() as cursor:
            try:
                if savepoint:
                    cursor.execute("SAVEPOINT pmhub_prepare")
                cursor.execute(prepare)
                if savepoint:
                    cursor.execute("RELEASE SAVEPOINT pmhub_prepare")
            except Database.Error:
                if savepoint:
                    cursor.execute("ROLLBACK TO SAVEPOINT pmhub_prepare")
                compiled.server = False
                return compiled.sql
            cursor.execute("SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s", [name])
            (types,) = cursor.fetchone()
            if not _types_fit(types, params):
                cursor.execute(f"DEALLOCATE {name}")
                compiled.server = False
                return compiled.sql
        compiled.int_ranges = tuple((k, _INT_RANGES[kind]) for k, kind in enumerate(types) if kind in _INT_RANGES)
        state[1].add(name)
    for k, limit in compiled.int_ranges:
        value = params[k]
        if isinstance(value, int) and not -limit <= value < limit:
            return compiled.sql
    return execute


# What the server answers an EXECUTE whose statement no longer fits (a migration changed the type
# of a column it returns: "cached plan must not change result type") or is gone (the session was
# reset: DISCARD ALL, DEALLOCATE ALL).
_STALE_STATEMENT = {"0A000", "26000"}


def _execute_prepared(connection, cursor, compiled: _Compiled, execute: str, params: list) -> None:
    """Run `EXECUTE pmhub_<n>(...)`. Outside a transaction, a statement the server calls stale or
    unknown is dropped from this session's set and the plain SQL runs instead (the next call
    prepares it again, with the table as it is now): a deploy whose migration changes a returned
    column's type costs the old processes no error. Inside a transaction the error stands, as any
    failed statement would."""
    try:
        cursor.execute(execute, params)
    except DatabaseError as error:  # Django's, wrapping the driver's (its __cause__)
        code = getattr(error.__cause__, "pgcode", None) or getattr(error, "pgcode", None)
        if code not in _STALE_STATEMENT or connection.in_atomic_block:
            raise
        name = compiled.server[0]
        state = getattr(connection, "_pmhub_prepared", None)
        if state is not None:
            state[1].discard(name)
        if code == "0A000":
            with connection.connection.cursor() as raw:
                raw.execute(f"DEALLOCATE {name}")
        cursor.execute(compiled.sql, params)


def _types_fit(types: list[str], params: list) -> bool:
    if len(types) != len(params):
        return False
    for kind, value in zip(types, params, strict=True):
        if value is None:
            continue
        allowed = next((kinds for cls, kinds in _SERVER_TYPES if isinstance(value, cls)), ())
        if kind not in allowed:
            return False
    return True
