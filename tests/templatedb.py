"""One migration per `make test` run, cloned for every test process (docs/decisions/2100).

`make test` (tests/phases.sh) runs the browser tests beside phase 1, so four test processes need a
test database at the same moment; each used to build its own by running every migration (20-35 s of
CPU each, most of it Django rendering model states in Python, not PostgreSQL). Here the first process
of the run builds one template database by migrating, and every process then copies it with
PostgreSQL's `CREATE DATABASE ... TEMPLATE` (a file copy, about a second) before Django opens it as
an existing database (`keepdb`: the migrate that follows finds nothing to apply).

It applies only when `tests/phases.sh` sets PMHUB_TEST_RUN (an id of this run) and the test
databases are created afresh (`--create-db`) on PostgreSQL; any other run builds its databases as
before. The template carries the run's id as its comment, so a template left by an earlier run (an
older schema) is never copied: the first process of a new run migrates a new one.
"""

from __future__ import annotations

import fcntl
import os
import tempfile

RUN = os.environ.get("PMHUB_TEST_RUN", "")


def applies(createdb: bool) -> bool:
    from django.db import connections

    return bool(RUN) and createdb and connections["default"].vendor == "postgresql"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _template_run(cursor, template: str) -> str | None:
    cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template])
    row = cursor.fetchone()
    return row[0] if row else None


def clone_for_this_process() -> None:
    """Make this process's test database a copy of the run's template (built here if first)."""
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    base = settings.DATABASES["default"]["NAME"]
    mine = connection.creation._get_test_db_name()
    template = f"test_{base}_template"
    lock_path = os.path.join(tempfile.gettempdir(), f"pmhub-{template}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process builds; the others wait, then copy
        with connection.creation._nodb_cursor() as cursor:
            built = _template_run(cursor, template) == RUN
        if not built:
            _build_template(connection, template)
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {_quote(mine)}")
            cursor.execute(f"CREATE DATABASE {_quote(mine)} TEMPLATE {_quote(template)}")


def _build_template(connection, template: str) -> None:
    from django.conf import settings

    base = settings.DATABASES["default"]["NAME"]
    test_settings = connection.settings_dict["TEST"]
    worker_name = test_settings.get("NAME")
    test_settings["NAME"] = template
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    finally:
        connection.close()  # no session may stay on a template that is being copied
        test_settings["NAME"] = worker_name
        settings.DATABASES["default"]["NAME"] = base
        connection.settings_dict["NAME"] = base
    with connection.creation._nodb_cursor() as cursor:
        _label(cursor, template, RUN)


def _label(cursor, database: str, run: str) -> None:
    cursor.execute(f"COMMENT ON DATABASE {_quote(database)} IS %s", [run])
