"""pmhub.prepared on PostgreSQL: outside a transaction block a compiled query runs as a server-side
prepared statement, planned once per connection (decision 2323), and answers what the ORM answers;
inside one (or where the values' types cannot be declared) it runs as text, as before."""

from datetime import date

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q, Value
from django.test.utils import CaptureQueriesContext

from pmhub.models import Membership, Role, User, Workspace
from pmhub.prepared import Prepared

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = "<b>&\"' 50% ünï ;--"


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("server-side statements are PostgreSQL's")


@pytest.fixture
def people(postgres):
    acme = Workspace.objects.create(name=HOSTILE, slug="acme")
    globex = Workspace.objects.create(name="Globex 100%", slug="globex", time_zone="Europe/Berlin")
    ann = User.objects.create_user(email="ann@acme.test", password="x" * 12, name=HOSTILE)
    bob = User.objects.create_user(email="bob@acme.test", password="x" * 12)
    Membership.objects.create(user=ann, workspace=acme, role=Role.ADMIN)
    Membership.objects.create(user=ann, workspace=globex, role=Role.VIEWER)
    Membership.objects.create(user=bob, workspace=globex, role=Role.EDITOR)
    return acme, globex, ann, bob


def _server_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def _memberships(user_id, workspace_ids):
    return (Membership.objects.filter(user_id=user_id, workspace_id__in=workspace_ids, role__gte=Role.VIEWER)
            .exclude(workspace__name__contains="zz%").order_by("workspace__name")
            .values_list("workspace__name", "role", "workspace__time_zone"))


def test_a_query_is_prepared_once_and_answers_the_orm_rows(people):
    acme, globex, ann, bob = people
    query = Prepared(Membership, _memberships)
    ids = [acme.id, globex.id]
    with CaptureQueriesContext(connection) as first:
        rows = query.rows(ann.id, ids)
    assert rows == list(_memberships(ann.id, ids))
    assert sorted(rows) == sorted([(HOSTILE, Role.ADMIN, "UTC"), ("Globex 100%", Role.VIEWER, "Europe/Berlin")])
    [sent] = first.captured_queries
    assert sent["sql"].startswith("PREPARE pmhub_prepared_")
    name = sent["sql"].split()[1]
    assert name in _server_statements()
    for user in (ann, bob):
        with CaptureQueriesContext(connection) as again:
            rows = query.rows(user.id, ids)
        assert rows == list(_memberships(user.id, ids))
        assert [q["sql"].split("(")[0].strip() for q in again.captured_queries] == [f"EXECUTE {name}"]


def test_dates_text_and_annotations_keep_their_types(people):
    acme, globex, ann, bob = people
    def build(user_id, day):
        return (Membership.objects.filter(user_id=user_id, created_at__date__lte=day)
                 .annotate(one=Value(1), label=Value(HOSTILE)).order_by("workspace_id")
                 .values_list("workspace_id", "one", "label"))
    query = Prepared(Membership, build)
    for _ in range(7):  # past PostgreSQL's five custom plans
        assert query.rows(ann.id, date(2999, 1, 1)) == list(build(ann.id, date(2999, 1, 1)))
        assert query.rows(ann.id, date(2000, 1, 1)) == []


def test_a_grouped_count_with_a_filter_is_the_orm_s(people):
    acme, globex, ann, bob = people
    def build(workspace_id):
        return (Membership.objects.filter(workspace_id=workspace_id).order_by()
                 .values_list("workspace_id").annotate(n=Count("id"), admins=Count("id", filter=Q(role=Role.ADMIN))))
    query = Prepared(Membership, build)
    for ws in (acme, globex, acme):
        assert query.rows(ws.id) == list(build(ws.id))


def test_inside_a_transaction_block_the_query_runs_as_text(people):
    acme, globex, ann, bob = people
    query = Prepared(Membership, lambda user_id: Membership.objects.filter(user_id=user_id).values_list("role"))
    with transaction.atomic(), CaptureQueriesContext(connection) as inside:
        assert query.rows(bob.id) == [(Role.EDITOR,)]
    assert inside.captured_queries[0]["sql"].startswith("SELECT")
    # prepared outside, then executed inside a block too
    assert query.rows(bob.id) == [(Role.EDITOR,)]
    with transaction.atomic(), CaptureQueriesContext(connection) as inside:
        assert sorted(query.rows(ann.id)) == [(Role.VIEWER,), (Role.ADMIN,)]
    assert inside.captured_queries[0]["sql"].startswith("EXECUTE")


def test_a_statement_the_session_lost_is_prepared_again(people):
    acme, globex, ann, bob = people
    query = Prepared(Membership, lambda user_id: Membership.objects.filter(user_id=user_id).values_list("role"))
    assert query.rows(bob.id) == [(Role.EDITOR,)]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's session reset does
    assert query.rows(bob.id) == [(Role.EDITOR,)]
    connection.close()  # a new connection: prepared again on it
    assert query.rows(bob.id) == [(Role.EDITOR,)]
    assert len(_server_statements() & {s for s in _server_statements() if s.startswith("pmhub_prepared_")}) == 1


def test_behind_pgbouncer_nothing_is_prepared(people, settings):
    acme, globex, ann, bob = people
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    try:
        query = Prepared(Membership, lambda user_id: Membership.objects.filter(user_id=user_id).values_list("role"))
        with CaptureQueriesContext(connection) as sent:
            assert query.rows(bob.id) == [(Role.EDITOR,)]
        assert sent.captured_queries[0]["sql"].startswith("SELECT")
    finally:
        connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = False
