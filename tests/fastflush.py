"""A faster flush between transactional tests on PostgreSQL (docs/decisions/1990).

After every transactional test (live server, browser, real worker, fuzzing), Django empties the
test database with one `TRUNCATE` of every table (about 140 here). PostgreSQL truncates by giving
each table and each of its indexes a new file, so the cost is per table whether it holds a row or
not: 1-4.6 s per test on this machine, for tests that wrote to a dozen tables.

Here the flush takes the same locks a TRUNCATE takes (ACCESS EXCLUSIVE on every table, in one
statement, so a request still running in the live server waits, as it did) and then deletes the
rows of every table in the same transaction; an empty table costs a delete of nothing. The foreign
keys Django creates on PostgreSQL are DEFERRABLE INITIALLY DEFERRED, so the order of the deletes
does not matter; the schema has no non-deferrable foreign key, and its only triggers (the progress
tally's and the KPI stamps', listed below) write to tables that are emptied once more at the end (tests/core/
test_fastflush.py checks both, so a migration that adds another fails there instead of in a flush). What a test finds afterwards is what TRUNCATE left: every table of the project empty,
sequences not reset (Django's teardown does not reset them either), then Django's post_migrate as
before (content types, permissions).

With `reset_sequences=True` (no test of the suite asks for it) Django's own TRUNCATE ... RESTART
IDENTITY is used unchanged.
"""

from django.db.backends.postgresql.operations import DatabaseOperations

_truncate_flush = DatabaseOperations.sql_flush

# The schema's triggers (tests/core/test_fastflush.py knows each) and the tables they write: the
# progress tally, appended to by deletes of stories (docs/decisions/2040), and the KPIs' measurement
# stamps, written by deletes of measurements (docs/decisions/2321). Emptied again last.
TRIGGERS = {("backlog_story", "backlog_story_tally_insert"), ("backlog_story", "backlog_story_tally_delete"),
            ("backlog_story", "backlog_story_tally_update"),
            ("metrics_measurement", "metrics_measurement_stamp_insert"),
            ("metrics_measurement", "metrics_measurement_stamp_update"),
            ("metrics_measurement", "metrics_measurement_stamp_delete"), ("metrics_kpi", "metrics_kpi_stamp_insert")}
WRITTEN_BY_TRIGGERS = ("backlog_storytally", "metrics_kpimeasured")


def _delete_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or not tables:
        return _truncate_flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    quoted = [self.quote_name(t) for t in tables]
    written = [self.quote_name(t) for t in tables if t in WRITTEN_BY_TRIGGERS]
    return [
        f"LOCK TABLE {', '.join(quoted)} IN ACCESS EXCLUSIVE MODE;",
        "SET CONSTRAINTS ALL DEFERRED;",
        *(f"DELETE FROM {q};" for q in quoted),
        *(f"DELETE FROM {q};" for q in written),  # what the deletes above appended
    ]


def install() -> None:
    DatabaseOperations.sql_flush = _delete_flush
