"""A faster flush between transactional tests on PostgreSQL (docs/decisions/1990).

After every transactional test (live server, browser, real worker, fuzzing), Django empties the
test database with one `TRUNCATE` of every table (about 140 here). PostgreSQL truncates by giving
each table and each of its indexes a new file, so the cost is per table whether it holds a row or
not: 1-4.6 s per test on this machine, for tests that wrote to a dozen tables.

Here the flush takes the same locks a TRUNCATE takes (ACCESS EXCLUSIVE on every table, in one
statement, so a request still running in the live server waits, as it did) and then deletes the
rows of every table in the same transaction; an empty table costs a delete of nothing. The foreign
keys Django creates on PostgreSQL are DEFERRABLE INITIALLY DEFERRED, so the order of the deletes
does not matter; the schema has no triggers and no non-deferrable foreign key
(tests/core/test_fastflush.py checks both, so a migration that adds one fails there instead of
in a flush). What a test finds afterwards is what TRUNCATE left: every table of the project empty,
sequences not reset (Django's teardown does not reset them either), then Django's post_migrate as
before (content types, permissions).

With `reset_sequences=True` (no test of the suite asks for it) Django's own TRUNCATE ... RESTART
IDENTITY is used unchanged.
"""

from django.db.backends.postgresql.operations import DatabaseOperations

_truncate_flush = DatabaseOperations.sql_flush


def _delete_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or not tables:
        return _truncate_flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    quoted = [self.quote_name(t) for t in tables]
    return [
        f"LOCK TABLE {', '.join(quoted)} IN ACCESS EXCLUSIVE MODE;",
        "SET CONSTRAINTS ALL DEFERRED;",
        *(f"DELETE FROM {q};" for q in quoted),
    ]


def install() -> None:
    DatabaseOperations.sql_flush = _delete_flush
