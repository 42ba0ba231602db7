"""Several SQL statements in one round trip (issue 23, decision 1960).

On the loaded 2-core machine every round trip to PostgreSQL costs 1 to 3 ms; a write's statements
that need no answer from each other (a row lock and the read it guards, an UPDATE and its
activity row) can travel together. psycopg2 sends a string of several statements as one simple
query; in READ COMMITTED each statement still takes its own snapshot, so a read that follows a
`SELECT ... FOR UPDATE` in the same string sees what the lock's holder committed while the lock
was awaited (tests/core/test_sqlbatch.py checks this with two connections). On another database
the statements run one by one, with the same result.

`run([...])` answers the rows of the LAST statement (psycopg2 keeps only the last result): put the
statement whose answer you need last. Statements are (sql, params) pairs: `select_of(queryset)`,
`insert_of(instance)`, or SQL written by hand with %s placeholders.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, transaction
from django.db.models import sql as sql_queries

_collecting: ContextVar[list | None] = ContextVar("sqlbatch_collecting", default=None)


@contextmanager
def collected():
    """Inside the block, `insert_soon(instance)` adds the instance's INSERT to the list this yields
    instead of running it: the caller sends them with its own statements (`run`)."""
    pending: list[tuple[str, tuple]] = []
    token = _collecting.set(pending)
    try:
        yield pending
    finally:
        _collecting.reset(token)


def insert_soon(instance) -> None:
    """Insert a new row now, or, inside `collected()`, with the collecting caller's statements (in
    the same transaction, before it commits). Collected, the instance gets no id: for rows nobody
    reads back in the request (a history line). No post_save signal either way."""
    pending = _collecting.get()
    if pending is None:
        instance.save(force_insert=True)
    else:
        pending.append(insert_of(instance))


def next_id_sql(model) -> str:
    """SQL of the next value of `model`'s id sequence (PostgreSQL): an id known before the INSERT."""
    table, column = model._meta.db_table, model._meta.pk.column
    return f"nextval(pg_get_serial_sequence('{table}', '{column}'))"


def select_of(queryset) -> tuple[str, tuple]:
    """A queryset's SELECT (locking clause included) as (sql, params)."""
    query = queryset.query
    return query.get_compiler(queryset.db).as_sql()


def insert_of(instance, using: str = "default") -> tuple[str, tuple]:
    """The INSERT of an unsaved instance (no RETURNING: the caller does not learn its id).
    Defaults and pre_save (auto_now) are applied as Model.save would."""
    meta = instance._meta
    fields = [f for f in meta.local_concrete_fields
              if not f.generated and not (f.primary_key and getattr(instance, f.attname) is None)]
    query = sql_queries.InsertQuery(type(instance))
    query.insert_values(fields, [instance], raw=False)
    compiler = query.get_compiler(using)
    compiler.returning_fields = None
    statements = compiler.as_sql()
    assert len(statements) == 1
    return statements[0]


def update_of(queryset, **values) -> tuple[str, tuple]:
    """`queryset.update(**values)` as (sql, params), as QuerySet.update compiles it."""
    query = queryset.query.chain(sql_queries.UpdateQuery)
    query.add_update_values(values)
    query.annotations = {}
    return query.get_compiler(queryset.db).as_sql()


def from_db(model, fields: list[str], row: tuple, using: str = "default") -> dict:
    """A row of `fields` read by `run` (no ORM converters ran), as the ORM would answer it: jsonb
    decoded by JSONField and so on."""
    connection = connections[using]
    values = {}
    for name, value in zip(fields, row, strict=True):
        field = model._meta.get_field(name)
        column = field.get_col(model._meta.db_table)
        for convert in [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]:
            value = convert(value, column, connection)
        values[field.attname] = value
    return values


def run(statements: list[tuple[str, tuple]], using: str = "default") -> list[tuple]:
    """Execute the statements in order, in one round trip on PostgreSQL; the rows of the last."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            sql = ";\n".join(s for s, _ in statements)
            params = tuple(p for _, ps in statements for p in ps)
            cursor.execute(sql, params)
        else:
            for s, params in statements:
                cursor.execute(s, params)
        return cursor.fetchall() if cursor.description else []


def compiled_annotations(model, annotations: dict, using: str = "default") -> dict:
    """{alias: RawSQL} of each annotation compiled once, as the ORM compiles it in a query on
    `model`'s own table (issue 23, decision 2021): building and compiling subqueries (an
    `ArraySubquery` of JSON objects) cost about 1 ms of a request that reads one row. The SQL
    names the model's table as the outer query's (`"backlog_story"."id"`), so the result may only
    annotate a query whose base table is `model`'s under its own name (any queryset of `model`,
    not a subquery nor a join to it). Parameters are the expressions' constants."""
    from django.db.models.expressions import RawSQL

    out = {}
    for alias, expression in annotations.items():
        query = model._base_manager.using(using).annotate(**{alias: expression}).values(alias).query
        compiler = query.get_compiler(using)
        compiler.setup_query()
        sql, params = compiler.compile(query.annotations[alias])
        out[alias] = RawSQL(sql, tuple(params), output_field=expression.output_field)  # noqa: S611 - the ORM's own SQL
    return out


@contextmanager
def atomic_begun_with_first(using: str = "default"):
    """`transaction.atomic()` whose BEGIN travels with the block's first statement (issue 23,
    decision 2355): psycopg2 sends BEGIN as a round trip of its own before a transaction's first
    query; here the driver is put in autocommit for the block and "BEGIN;" is prefixed to the first
    statement that reaches the database, so the server holds one transaction from it to the COMMIT
    sent on the block's exit (ROLLBACK on an exception, as atomic would). Django still sees an
    atomic block (savepoints, on_commit, needs_rollback work as usual). Only the outermost block on
    PostgreSQL; elsewhere (nested, SQLite, the tests' wrapping transaction) plain atomic."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic(using=using):
            yield
        return
    with transaction.atomic(using=using):
        raw = connection.connection
        raw.autocommit = True  # the server's transaction is ours to begin and end
        begun = False

        def begin_with(execute, sql, params, many, context):
            nonlocal begun
            if begun:
                return execute(sql, params, many, context)
            begun = True
            if many or getattr(context["cursor"].cursor, "name", None):  # executemany, a named cursor
                with raw.cursor() as cursor:
                    cursor.execute("BEGIN")
                return execute(sql, params, many, context)
            return execute("BEGIN;\n" + sql, params, many, context)

        try:
            with connection.execute_wrapper(begin_with):
                yield
        except BaseException:
            if begun and not raw.closed:
                try:
                    with raw.cursor() as cursor:
                        cursor.execute("ROLLBACK")
                except connection.Database.Error:
                    pass  # a broken connection: the server ends its transaction; the original error stands
            raise
        else:
            if begun:
                with connection.wrap_database_errors, raw.cursor() as cursor:
                    cursor.execute("COMMIT")
        finally:
            if not raw.closed:
                raw.autocommit = False  # as atomic left it; its exit's commit/rollback sends nothing
