"""`make test`'s phases and test databases (tests/phases.sh, tests/templatedb.py, decision 2100)."""

import re
from pathlib import Path

import pytest
from django.db import connection

from tests import templatedb

PHASES = Path(__file__).resolve().parent.parent / "phases.sh"


def _markers() -> list[str]:
    return re.findall(r'-m "([^"]+)"', PHASES.read_text())


def test_the_three_phases_select_every_test_once():
    """phase 1 `not e2e`, the browser phase `e2e and not drag`, the drags `e2e and drag`: for every
    combination of the two marks, exactly one phase runs the test."""
    markers = _markers()
    assert sorted(markers) == sorted(["not e2e", "e2e and not drag", "e2e and drag"])
    for e2e in (False, True):
        for drag in (False, True):
            chosen = [m for m in markers if eval(m, {}, {"e2e": e2e, "drag": drag})]  # noqa: S307
            assert len(chosen) == 1, (e2e, drag, chosen)


def test_the_browser_phase_has_databases_of_its_own():
    text = PHASES.read_text()
    assert "PMHUB_TEST_DB_SUFFIX=browser" in text
    # Phase 1's processes take REDIS_CACHE_DB + 0, 2, ...; the browser phase's start one higher.
    assert "${REDIS_CACHE_DB:-1} + 1" in text


def test_the_template_is_used_only_by_a_run_of_make_test_that_creates_its_databases(monkeypatch):
    monkeypatch.setattr(templatedb, "RUN", "")
    assert not templatedb.applies(createdb=True)
    monkeypatch.setattr(templatedb, "RUN", "1764960000-42")
    assert not templatedb.applies(createdb=False)
    assert templatedb.applies(createdb=True) == (connection.vendor == "postgresql")


@pytest.mark.django_db
def test_a_template_is_this_runs_only_if_labelled_with_this_runs_id():
    """The id on the template decides: a template left by an earlier run (an older schema) is
    migrated anew, never copied. (The label is written in the test's transaction, rolled back.)"""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        assert templatedb._template_run(cursor, "test_no_such_template_database") is None
        cursor.execute("SELECT current_database()")
        [name] = cursor.fetchone()
        templatedb._label(cursor, name, "1764960000-41")
        assert templatedb._template_run(cursor, name) == "1764960000-41"
        templatedb._label(cursor, name, "1764960000-42")
        assert templatedb._template_run(cursor, name) == "1764960000-42"


def test_the_run_writes_bytecode_compiled_once_before_phase_one():
    """Decision 2231: with PYTHONDONTWRITEBYTECODE every process compiled the app and pytest rewrote
    every test module anew; the run lets them be written, and compiles the checkout (not the venv)
    before the first pytest call."""
    text = PHASES.read_text()
    first_pytest = text.index('"$PYTEST" -n')
    assert -1 < text.index("unset PYTHONDONTWRITEBYTECODE") < first_pytest
    compile_at = text.index("-m compileall")
    assert compile_at < first_pytest and ".venv" in text[compile_at:first_pytest]
