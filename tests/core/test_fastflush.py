"""The flush between transactional tests (tests/fastflush.py, docs/decisions/1990) deletes rows
instead of truncating tables. It is only right while every trigger is one it knows (a delete fires
it) and every foreign key is deferrable (the deletes run in table order); and it must leave every
table empty, as TRUNCATE did."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from backlog.models import Story
from pmhub.models import Role
from tests import fastflush
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.services import on_postgres, require


@pytest.fixture
def postgres():
    require(on_postgres(), "PostgreSQL (DATABASE_URL=postgres://...)")


def test_flush_assumptions_hold(postgres, db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal")
        triggers = cursor.fetchall()
        cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
                       "AND NOT (condeferrable AND condeferred)")
        immediate = cursor.fetchall()
    unknown = set(triggers) - fastflush.TRIGGERS
    assert not unknown, f"tests/fastflush.py deletes rows, which would fire these triggers: {unknown}"
    assert not immediate, f"tests/fastflush.py needs deferred foreign keys; these are not: {immediate}"


def test_the_flush_deletes_under_truncates_locks(postgres, db):
    sql = connection.ops.sql_flush(no_style(), ["backlog_story", "pmhub_workspace"])
    assert sql[0].startswith("LOCK TABLE") and "ACCESS EXCLUSIVE" in sql[0]
    assert any(s.startswith("DELETE FROM") for s in sql)
    assert "RESTART IDENTITY" in connection.ops.sql_flush(no_style(), ["backlog_story"], reset_sequences=True)[0]


@pytest.mark.django_db(transaction=True)
def test_the_flush_empties_every_table(postgres):
    """Every app's demo data (rows that reference each other across many tables), then the flush."""
    from importlib import import_module

    from pmhub.management.commands.seed_demo import APP_SEEDERS

    workspace = WorkspaceFactory(name="Flush", slug="flush")
    admin = UserFactory(email="flush-admin@example.com")
    MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    for path in APP_SEEDERS:
        import_module(path).seed(workspace=workspace, users={"demo": admin})
    assert Story.objects.exists()
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
    recreated = {"django_content_type", "auth_permission"}  # post_migrate, as after TRUNCATE
    left = [m._meta.db_table for m in apps.get_models() if m._meta.managed and not m._meta.proxy
            and m._meta.db_table not in recreated and m._base_manager.exists()]
    assert not left, f"rows left after the flush in {left}"
    assert apps.get_model("contenttypes", "ContentType").objects.filter(app_label="backlog", model="story").exists()
