"""pmhub.prepared: a query compiled once runs with new values and answers what the ORM answers
(decision 2001)."""

import pytest

from pmhub.access import _memberships, forget_roles, memberships_of
from pmhub.models import Membership, Role, User, Workspace
from pmhub.prepared import Prepared

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(workspace, other_workspace):
    third = Workspace.objects.create(name="Aardvark", slug="aardvark")
    ann = User.objects.create_user(email="ann@acme.test", password="x" * 12)
    bob = User.objects.create_user(email="bob@acme.test", password="x" * 12)
    User.objects.create_user(email="nobody@acme.test", password="x" * 12)
    for ws, role in ((workspace, Role.ADMIN), (other_workspace, Role.VIEWER), (third, Role.EDITOR)):
        Membership.objects.create(user=ann, workspace=ws, role=role)
    Membership.objects.create(user=bob, workspace=other_workspace, role=Role.EDITOR)
    return User.objects.order_by("email")


def test_rows_are_the_orm_rows_for_every_user_and_workspace(people, workspace, other_workspace):
    all_of = Prepared(Membership, lambda user_id, *_: _memberships(user_id))
    one_of = Prepared(Membership, lambda user_id, ws_id, *_: _memberships(user_id, ws_id))
    for user in people:
        assert all_of.rows(user.pk) == list(_memberships(user.pk))
        for ws in (workspace, other_workspace):
            assert one_of.rows(user.pk, ws.id) == list(_memberships(user.pk, ws.id))
    assert all_of.rows(-1) == []


def test_one_query_and_the_refs_of_memberships_of(people, django_assert_num_queries):
    ann = people.get(email="ann@acme.test")
    with django_assert_num_queries(1):
        refs = memberships_of(ann)
    assert [(r.name, r.slug, r.role) for r in refs] == [
        ("Aardvark", "aardvark", Role.EDITOR), ("Acme", "acme", Role.ADMIN), ("Globex", "globex", Role.VIEWER)]
    Membership.objects.filter(user=ann, workspace__slug="acme").delete()  # written, then read at once
    forget_roles(ann)
    assert [r.slug for r in memberships_of(ann)] == ["aardvark", "globex"]


def test_a_query_without_its_stand_ins_is_refused():
    with pytest.raises(ValueError):
        Prepared(Membership, lambda *_: Membership.objects.filter(role=Role.ADMIN)).rows()


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.mark.parametrize("with_settings", [True, False])
def test_objects_are_the_querysets_instances_with_their_related_rows(workspace, with_settings,
                                                                      django_assert_num_queries):
    from backlog.models import BacklogSettings
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    Product.objects.create(workspace=workspace, name="Other")
    if with_settings:
        BacklogSettings.objects.create(product=product)
    query = Prepared(Product, lambda pk, *_: Product.objects.alive().select_related(
        "workspace", "backlog_settings").filter(pk=pk))
    expected = Product.objects.alive().select_related("workspace", "backlog_settings").get(pk=product.pk)
    with django_assert_num_queries(1):
        [got] = query.objects(product.pk)
        assert _fields(got) == _fields(expected)
        assert _fields(got.workspace) == _fields(expected.workspace)
        assert not got._state.adding and got._state.db == expected._state.db
        if with_settings:
            assert _fields(got.backlog_settings) == _fields(expected.backlog_settings)
            assert got.backlog_settings.product is got
        else:
            with pytest.raises(BacklogSettings.DoesNotExist):
                got.backlog_settings  # noqa: B018 - known missing, as select_related leaves it
    assert query.objects(-5) == []
    Product.objects.filter(pk=product.pk).update(deleted_at="2026-01-01T00:00:00Z")
    assert query.objects(product.pk) == []  # a deleted product: at once


def test_product_for_user_404s_outside_the_users_workspaces(admin, workspace, other_workspace):
    from django.http import Http404

    from roadmaps.models import Product
    from roadmaps.selectors import product_for_user

    mine = Product.objects.create(workspace=workspace, name="Mine")
    theirs = Product.objects.create(workspace=other_workspace, name="Theirs")
    assert product_for_user(user=admin, product_id=mine.id).workspace == workspace
    assert product_for_user(user=admin, product_id=str(mine.id)) == mine  # a text id: the ORM's path
    for kwargs in ({"product_id": theirs.id}, {"product_id": mine.id, "workspace_id": other_workspace.id},
                   {"product_id": -1}, {"product_id": None}):
        with pytest.raises(Http404):
            product_for_user(user=admin, **kwargs)


# --- values of every kind, and the double compilation's refusals (decision 2120) -------------------------
def _stories_of(ids, day):
    from backlog.models import Story

    return (Story.objects.filter(product_id__in=ids, created_at__date__lte=day)
            .order_by("id").values_list("id", "product_id", "title"))


def test_a_list_and_a_date_compile_once_per_length_and_answer_the_orm_rows(workspace):
    import datetime as dt

    from backlog.models import Story
    from roadmaps.models import Product

    products = [Product.objects.create(workspace=workspace, name=f"P{i}") for i in range(3)]
    for p in products:
        Story.objects.create(product=p, title=f"Story of <{p.name}> & co", rank="a")
    query = Prepared(Story, _stories_of)
    today, past = dt.date.today(), dt.date(2000, 1, 1)
    for ids in ([products[0].id], [p.id for p in products], [products[2].id, products[0].id]):
        for day in (today, past):
            assert query.rows(ids, day) == list(_stories_of(ids, day))
    assert sorted(shape for _, shape in query._compiled) == [(1, dt.date), (2, dt.date), (3, dt.date)]


def test_named_rows_are_values_list_named_with_annotations_in_their_place(workspace, other_workspace):
    from governance.models import Risk
    from governance.selectors import RISK_ROW, above_appetite
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name="Acme <b>")
    Risk.objects.create(product=product, title="High", likelihood=5, impact=5)
    Risk.objects.create(product=product, title="Low", likelihood=1, impact=1)

    def build(ws):
        return (above_appetite(Risk.objects.filter(product__workspace_id=ws)).order_by("-score", "id")
                .values_list(*RISK_ROW))

    expected = list(build(workspace.id).values_list(*RISK_ROW, named=True))
    got = Prepared(Risk, build).named(workspace.id)
    assert got == expected and [r.title for r in got] == ["High"]
    assert got[0]._fields == expected[0]._fields and got[0].appetite == expected[0].appetite
    assert Prepared(Risk, build).named(other_workspace.id) == []


def test_objects_carry_the_querysets_annotations(workspace):
    from roadmaps.models import Initiative, Product
    from roadmaps.selectors import _products_with_initiative_counts, products_with_initiative_counts

    one, two = (Product.objects.create(workspace=workspace, name=name) for name in ("One", "Two"))
    Initiative.objects.create(product=two, title="I")
    expected = list(_products_with_initiative_counts(workspace.id))
    got = products_with_initiative_counts(workspace=workspace)
    assert [(p.pk, p.name, p.initiative_count) for p in got] == [(p.pk, p.name, p.initiative_count) for p in expected]
    assert {p.name: p.initiative_count for p in got} == {"One": 0, "Two": 1}
    Initiative.objects.create(product=one, title="Written, then read at once")
    assert {p.name: p.initiative_count for p in products_with_initiative_counts(workspace=workspace)} == {
        "One": 1, "Two": 1}


def test_a_value_the_sql_drops_or_ignores_is_refused():
    # A role below any PositiveSmallIntegerField value: Django drops the comparison from the SQL
    # when the value is out of the field's range; a stand-in must never make a clause vanish.
    from django.db.models import Q

    def build(user_id, role):
        return Membership.objects.filter(Q(user_id=user_id) | Q(role__lte=role)).values_list("id")

    assert Prepared(Membership, build).rows(1, 2) == list(build(1, 2))  # in range: both clauses kept
    with pytest.raises(ValueError, match="not a parameter"):
        Prepared(Membership, lambda user_id, other: Membership.objects.filter(user_id=user_id)
                 .values_list("id")).rows(1, 2)  # `other` unused: a scope given and dropped
    with pytest.raises(ValueError, match="equals a stand-in"):
        Prepared(Membership, lambda user_id: Membership.objects.filter(user_id=user_id, role__lte=32_000)
                 .values_list("id")).rows(1)
    with pytest.raises(ValueError, match="depends on its values"):
        Prepared(Membership, lambda ids: Membership.objects.filter(
            **{"user_id" if ids[0] > 1_200_000_000 else "workspace_id": ids[0]}).values_list("id")).rows([1])
    with pytest.raises(TypeError):
        Prepared(Membership, build).rows("1", 2)  # text: the ORM's path, not a prepared one
def test_objects_carry_the_querysets_annotations_and_statements_the_values(workspace):
    from django.db.models import Count, Value
    from django.db.models.functions import Concat

    from pmhub import sqlbatch
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name="Acme <b>Analytics</b>")

    def build(pk, *_):
        return (Product.objects.filter(pk=pk).select_related("workspace")
                .annotate(label=Concat("name", Value(" ✓")), n=Count("workspace__memberships")))

    query = Prepared(Product, build)
    [got] = query.objects(product.pk)
    expected = build(product.pk).get()
    assert (got.label, got.n) == (expected.label, expected.n) == ("Acme <b>Analytics</b> ✓", 0)
    assert _fields(got) == _fields(expected) and got.workspace.slug == workspace.slug
    sql, params = query.statement(product.pk)
    orm_sql, orm_params = build(product.pk).query.get_compiler("default").as_sql()
    assert (sql, list(params)) == (orm_sql, list(orm_params))
    assert len(sqlbatch.run([(sql, params)])) == 1


# --- prepared on the server (decision 2310) -------------------------------------------------------
def _server_names(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def server_prepared(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PREPARE/EXECUTE are PostgreSQL's")
    before = connection.settings_dict.get("SERVER_PREPARED_STATEMENTS")
    connection.settings_dict["SERVER_PREPARED_STATEMENTS"] = True
    yield connection
    connection.settings_dict["SERVER_PREPARED_STATEMENTS"] = before


@pytest.mark.django_db(transaction=True)  # the connection is closed and opened again
def test_a_prepared_query_runs_as_a_statement_prepared_once_per_connection(people, server_prepared,
                                                                           django_assert_num_queries):
    from django.test.utils import CaptureQueriesContext

    connection = server_prepared
    query = Prepared(Membership, lambda user_id, *_: _memberships(user_id))
    ann, bob = people.get(email="ann@acme.test"), people.get(email="bob@acme.test")
    want = [list(_memberships(ann.pk)), list(_memberships(bob.pk))]
    with CaptureQueriesContext(connection) as seen, django_assert_num_queries(2):  # PREPARE is not a page's query
        got = [query.rows(ann.pk), query.rows(bob.pk)]
    assert got == want and want[0] and want[1]
    name = query._compiled_for("default", (ann.pk,)).server[0]
    assert [q["sql"] for q in seen.captured_queries] == [f"EXECUTE {name}({ann.pk})", f"EXECUTE {name}({bob.pk})"]
    assert name in _server_names(connection)
    # A new server session knows nothing of it: prepared again there, the same rows.
    connection.close()
    assert name not in _server_names(connection)
    assert query.rows(ann.pk) == list(_memberships(ann.pk)) and name in _server_names(connection)


def test_the_objects_of_a_server_prepared_query_are_the_querysets(people, workspace, server_prepared):
    query = Prepared(Membership, lambda user_id, *_: Membership.objects.filter(user_id=user_id)
                     .select_related("workspace").order_by("workspace__name"))
    ann = people.get(email="ann@acme.test")
    got, want = query.objects(ann.pk), list(Membership.objects.filter(user=ann).select_related("workspace")
                                            .order_by("workspace__name"))
    assert [(_fields(m), _fields(m.workspace)) for m in got] == [(_fields(m), _fields(m.workspace)) for m in want]


def test_a_query_whose_parameter_types_do_not_fit_runs_unprepared_and_the_transaction_goes_on(
        people, server_prepared):
    from django.db.models import IntegerField, Value

    # An int in the select list: the server types that parameter as text, so the statement would
    # answer the int as text: it is not kept prepared, the query runs as before.
    query = Prepared(User, lambda user_id, *_: User.objects.filter(pk=user_id).annotate(
        tag=Value(user_id)).values_list("email", "tag"))
    ann = people.get(email="ann@acme.test")
    assert query.rows(ann.pk) == [("ann@acme.test", ann.pk)]
    assert query._compiled_for("default", (ann.pk,)).server is False
    # The test's transaction is still usable, and the query keeps answering.
    assert query.rows(ann.pk) == [("ann@acme.test", ann.pk)]
    assert User.objects.filter(pk=ann.pk).annotate(n=Value(1, output_field=IntegerField())).count() == 1


def test_off_the_sql_is_sent_as_it_is(people, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = connection.settings_dict.get("SERVER_PREPARED_STATEMENTS")
    connection.settings_dict["SERVER_PREPARED_STATEMENTS"] = False
    try:
        query = Prepared(Membership, lambda user_id, *_: _memberships(user_id))
        ann = people.get(email="ann@acme.test")
        with CaptureQueriesContext(connection) as seen:
            assert query.rows(ann.pk) == list(_memberships(ann.pk))
        assert seen.captured_queries[0]["sql"].startswith("SELECT")
    finally:
        connection.settings_dict["SERVER_PREPARED_STATEMENTS"] = before


def test_dollar_sql_numbers_the_placeholders_and_keeps_percent_signs():
    from pmhub.prepared import _dollar_sql

    assert _dollar_sql("SELECT a FROM t WHERE b = %s AND c LIKE 'x%%' AND d IN (%s, %s)") == (
        "SELECT a FROM t WHERE b = $1 AND c LIKE 'x%' AND d IN ($2, $3)")


def test_server_prepared_statements_are_off_behind_a_transaction_pooler_or_without_persistent_connections():
    """DISABLE_SERVER_SIDE_CURSORS says a pooler in transaction mode is in the way (docker-compose
    sets it): the next statement may reach another server session, which never saw the PREPARE. With
    a connection per request (CONN_MAX_AGE=0) a statement would be prepared for one use."""
    import subprocess
    import sys

    code = ("from django.conf import settings; d = settings.DATABASES['default']; "
            "print(d['SERVER_PREPARED_STATEMENTS'])")
    env = {**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "pmhub.settings"}
    for cursors, age, want in (("true", "60", "False"), ("false", "60", "True"), ("false", "0", "False")):
        env["DISABLE_SERVER_SIDE_CURSORS"], env["CONN_MAX_AGE"] = cursors, age
        out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == want


def test_a_query_the_server_cannot_prepare_runs_unprepared_inside_a_transaction(people, server_prepared):
    """PREPARE refused (two untyped parameters added): inside a transaction the savepoint around it
    keeps the transaction usable; the query runs as it always did."""
    from django.db import transaction
    from django.db.models import Value

    query = Prepared(User, lambda user_id, *_: User.objects.filter(pk=user_id).annotate(
        n=Value(user_id) + Value(1)).values_list("email", "n"))
    ann = people.get(email="ann@acme.test")
    with transaction.atomic():
        assert query.rows(ann.pk) == [("ann@acme.test", ann.pk + 1)]
        assert query._compiled_for("default", (ann.pk,)).server is False
        assert User.objects.filter(pk=ann.pk).exists()


def test_a_query_by_a_list_of_ids_is_not_prepared_on_the_server(people, server_prepared):
    """A list compiles once per length: one server statement per length would pile up per connection."""
    from django.test.utils import CaptureQueriesContext

    query = Prepared(User, lambda ids, *_: User.objects.filter(pk__in=ids).order_by("pk").values_list("email"))
    ids = [u.pk for u in people]
    with CaptureQueriesContext(server_prepared) as seen:
        assert query.rows(ids) == list(User.objects.filter(pk__in=ids).order_by("pk").values_list("email"))
    assert seen.captured_queries[0]["sql"].startswith("SELECT")


def test_an_int_out_of_its_parameters_range_is_sent_in_the_plain_sql(people, server_prepared):
    """The ORM's SQL compares `id = 99999999999999999999` as a numeric literal and finds nothing; as a
    bigint parameter of a prepared statement it would be an error (a 500 on a hostile URL)."""
    from django.test.utils import CaptureQueriesContext

    query = Prepared(Membership, lambda user_id, *_: _memberships(user_id))
    ann = people.get(email="ann@acme.test")
    assert query.rows(ann.pk) == list(_memberships(ann.pk))  # prepared
    with CaptureQueriesContext(server_prepared) as seen:
        assert query.rows(99999999999999999999) == [] and query.rows(-(2 ** 63) - 1) == []
        assert query.rows(2 ** 63 - 1) == [] and query.rows(ann.pk) == list(_memberships(ann.pk))
    sent = [q["sql"].split(" ", 1)[0] for q in seen.captured_queries]
    assert sent[:3] == ["SELECT", "SELECT", "EXECUTE"] and sent[-2] == "EXECUTE"


@pytest.mark.django_db(transaction=True)  # outside a transaction block, as a page's reads run
def test_a_statement_the_server_calls_stale_or_lost_is_prepared_again_without_an_error(people, server_prepared):
    """A deploy's migration that changes a returned column's type makes the old processes'
    statements stale ("cached plan must not change result type"), and a reset session loses them:
    the call answers from the plain SQL and the next one prepares the statement afresh."""
    connection = server_prepared
    table = User._meta.db_table
    query = Prepared(User, lambda user_id, *_: User.objects.filter(pk=user_id).values_list("email"))
    ann = people.get(email="ann@acme.test")
    assert query.rows(ann.pk) == [(ann.email,)]
    name = query._compiled_for("default", (ann.pk,)).server[0]
    assert name in _server_names(connection)
    # Lost: the session forgot every statement.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert query.rows(ann.pk) == [(ann.email,)]
    assert query.rows(ann.pk) == [(ann.email,)] and name in _server_names(connection)
    # Stale: the type of a column it returns changed under it (put back exactly as it was).
    with connection.cursor() as cursor:
        cursor.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                       "WHERE attrelid = %s::regclass AND attname = 'email'", [table])
        (was,) = cursor.fetchone()
        cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN email TYPE text')
    try:
        assert query.rows(ann.pk) == [(ann.email,)]
        assert query.rows(ann.pk) == [(ann.email,)] and name in _server_names(connection)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN email TYPE {was}')
