"""Reads of reports, dashboards and exports go to the replica when one is configured
(pmhub/dbrouter.py), through Django's test mirror: "replica" is a second connection to the test
database (`TEST: {"MIRROR": "default"}`), so the queries it runs are counted apart.

With DATABASE_REPLICA_URL set, settings define the mirror themselves and the whole suite runs
with the router on; without it, this module adds the mirror for its own tests only."""

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from pmhub.dbrouter import PIN_COOKIE, REPLICA, ReplicaRouter, replica_reads
from pmhub.models import Workspace

BOTH = ["default", REPLICA]


@pytest.fixture(scope="module", autouse=True)
def replica_mirror(django_db_setup):
    """The replica alias as a test mirror of default, unless settings already define it."""
    from tests.services import on_postgres, require

    require(on_postgres(), "PostgreSQL (SQLite's in-memory test database locks its tables against a mirror "
                           "connection)")
    added = REPLICA not in connections.settings
    if added:
        default = connections.settings["default"]
        connections.settings[REPLICA] = {**default, "TEST": {**default["TEST"], "MIRROR": "default"}}
    yield
    if added:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


def _split(client, path, **extra):
    """(response, SELECTs on default, queries on the replica) of one GET."""
    with CaptureQueriesContext(connections["default"]) as on_default, \
            CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client.get(path, **extra)
    reads = [q["sql"] for q in on_default.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    return response, reads, len(on_replica)


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_workspace_dashboard_and_its_export_read_the_replica(admin, workspace, client_as):
    client = client_as(admin)
    for path in (f"/w/{workspace.slug}/dashboard/", f"/w/{workspace.slug}/dashboard/export.csv"):
        response, on_default, on_replica = _split(client, path)
        assert response.status_code == 200
        assert on_replica > 0
        assert on_default == [], path  # only writes (the session's) on the primary


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_pages_outside_reports_dashboards_and_exports_read_the_primary(admin, workspace, client_as):
    response, on_default, on_replica = _split(client_as(admin), f"/w/{workspace.slug}/")
    assert response.status_code == 200
    assert on_replica == 0 and on_default


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_browser_that_just_wrote_reads_its_dashboard_from_the_primary(admin, workspace, client_as):
    client = client_as(admin)
    wrote = client.post(f"/w/{workspace.slug}/dashboard/")  # any unsafe request pins the browser
    assert wrote.cookies[PIN_COOKIE]["max-age"] == 10
    response, on_default, on_replica = _split(client, f"/w/{workspace.slug}/dashboard/")
    assert response.status_code == 200
    assert on_replica == 0 and on_default


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_reads_inside_a_transaction_and_all_writes_stay_on_the_primary(workspace):
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Workspace) == REPLICA
        assert Workspace.objects.get(pk=workspace.pk)._state.db == REPLICA
        with transaction.atomic():
            assert router.db_for_read(Workspace) is None  # the default database
            assert Workspace.objects.get(pk=workspace.pk)._state.db == "default"
        assert router.db_for_write(Workspace) == "default"
    assert router.db_for_read(Workspace) is None
    assert router.allow_migrate(REPLICA, "pmhub") is False and router.allow_migrate("default", "pmhub") is True


@pytest.mark.django_db(databases=BOTH)
def test_in_a_testcase_transaction_the_dashboard_reads_the_primary(admin, workspace, client_as):
    """Why every TestCase-style test passes with a replica configured: the router never reads the
    mirror inside a transaction on default, where the test's uncommitted rows live."""
    response, on_default, on_replica = _split(client_as(admin), f"/w/{workspace.slug}/dashboard/")
    assert response.status_code == 200
    assert on_replica == 0 and on_default
