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
