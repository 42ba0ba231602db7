"""Statements awaiting the current user's decision, where approvers look: the workspace home's
panel and the dashboards' block. Who is an approver follows services.statement_can_decide (a
role, or the named members); the list costs one query whatever its length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delivery.models import ChangeRequest
from governance import services
from governance.models import ImpactStatement
from governance.selectors import statements_awaiting_decision
from pmhub.models import Role
from roadmaps.models import Product
from tests.delivery.factories import StoryFactory
from tests.factories import MembershipFactory, UserFactory
from tests.roadmaps.factories import InitiativeFactory, ReleaseFactory

from .factories import ProductFactory

pytestmark = pytest.mark.django_db


def _awaiting(product, requester, *, title, approver_role=Role.ADMIN, approvers=()):
    initiative = InitiativeFactory(product=product, title=title)
    statement = services.statement_save(user=requester, product=product, initiative=initiative, data={
        "benefit": f"Benefit of {title}", "approver_role": approver_role, "approvers": list(approvers)})
    return services.statement_submit(user=requester, statement=statement, version=statement.version)


def _titles(rows):
    return [s.initiative.title if s.initiative_id else s.change_request.story.title for s in rows]


def test_an_admin_role_statement_awaits_the_admins_not_the_editors(product, editor, admin, viewer):
    _awaiting(product, editor, title="Lineage view")
    products = Product.objects.filter(pk=product.pk)
    assert _titles(statements_awaiting_decision(user=admin, role=Role.ADMIN, products=products)) == ["Lineage view"]
    assert statements_awaiting_decision(user=editor, role=Role.EDITOR, products=products) == []
    assert statements_awaiting_decision(user=viewer, role=Role.VIEWER, products=products) == []


def test_named_approvers_only_them_and_an_editor_role_statement_awaits_editors(product, workspace, editor, admin):
    other_editor = UserFactory(email="second@acme.test")
    MembershipFactory(user=other_editor, workspace=workspace, role=Role.EDITOR)
    _awaiting(product, admin, title="Named", approvers=[other_editor])
    _awaiting(product, admin, title="Editors", approver_role=Role.EDITOR)
    products = Product.objects.filter(pk=product.pk)
    assert _titles(statements_awaiting_decision(user=other_editor, role=Role.EDITOR, products=products)) == [
        "Named", "Editors"]
    assert _titles(statements_awaiting_decision(user=editor, role=Role.EDITOR, products=products)) == ["Editors"]
    assert _titles(statements_awaiting_decision(user=admin, role=Role.ADMIN, products=products)) == ["Editors"]


def test_drafts_and_decided_statements_and_other_workspaces_are_left_out(product, foreign_product, editor, admin):
    draft = services.statement_save(user=editor, product=product, initiative=InitiativeFactory(product=product),
                                    data={"benefit": "b"})
    assert draft.status == "draft"
    decided = _awaiting(product, editor, title="Decided")
    services.statement_decide(user=admin, statement=decided, decision="approved", version=decided.version)
    ImpactStatement.objects.create(product=foreign_product, initiative=InitiativeFactory(product=foreign_product),
                                   status="awaiting")
    assert statements_awaiting_decision(user=admin, role=Role.ADMIN, products=Product.objects.all()
                                        .filter(workspace=product.workspace)) == []


def test_home_panel_and_dashboard_list_what_awaits_me_with_links(client_as, product, editor, admin):
    statement = _awaiting(product, editor, title="Lineage view")
    change = ChangeRequest.objects.create(release=ReleaseFactory(product=product, name="Spring"),
                                          story=StoryFactory(product=product, title="Export to CSV"), kind="add",
                                          reason="r")
    cr_statement = services.statement_save(user=editor, product=product, change_request=change,
                                           data={"benefit": "b"})
    services.statement_submit(user=editor, statement=cr_statement, version=cr_statement.version)
    ws = product.workspace.slug
    statement_url = reverse("governance:statement", kwargs={"ws": ws, "product_id": product.id,
                                                            "initiative_id": statement.initiative_id})
    cr_url = reverse("governance:cr_statement", kwargs={"ws": ws, "product_id": product.id,
                                                        "release_id": change.release_id, "cr_id": change.id})
    for url in (reverse("workspace_home", kwargs={"ws": ws}), reverse("metrics_workspace_dashboard",
                                                                       kwargs={"ws": ws}),
                reverse("metrics_product_dashboard", kwargs={"ws": ws, "product_id": product.id})):
        html = client_as(admin).get(url).content.decode()
        assert "Awaiting your approval" in html, url
        assert statement_url in html and cr_url in html and "Export to CSV" in html, url
        assert "Awaiting your approval" not in client_as(editor).get(url).content.decode(), url


def test_the_list_costs_the_same_queries_for_2_and_15_statements(product, editor, admin):
    counts = []
    for n in (2, 15):
        other = ProductFactory(workspace=product.workspace)
        for i in range(n):
            _awaiting(other, editor, title=f"I{n}-{i}")
        products = Product.objects.filter(pk=other.pk)
        with CaptureQueriesContext(connection) as ctx:
            rows = statements_awaiting_decision(user=admin, role=Role.ADMIN, products=products)
            _titles(rows)
            [(s.product.name, s.requested_by) for s in rows]
        assert len(rows) == n
        counts.append(len(ctx.captured_queries))
    # the ids, then the rows by id (decision 1957): the same two for 2 and 15
    assert counts == [2, 2]


def test_an_empty_list_costs_one_small_query(product, admin):
    """Nothing awaits (the usual case on the home page and the dashboards): only the ids are read,
    not the seven-join query that cost more to plan than to run."""
    with CaptureQueriesContext(connection) as ctx:
        assert statements_awaiting_decision(user=admin, role=Role.ADMIN, products=[product]) == []
    assert len(ctx.captured_queries) == 1 and "JOIN" not in ctx.captured_queries[0]["sql"].split("WHERE")[0]


def test_home_page_costs_the_same_queries_for_2_and_15_awaiting_statements(client_as, workspace, editor):
    counts, total = [], 0
    for n in (2, 15):
        total += n
        approver = UserFactory(email=f"approver{n}@acme.test")
        MembershipFactory(user=approver, workspace=workspace, role=Role.ADMIN)
        product = ProductFactory(workspace=workspace)
        for i in range(n):
            _awaiting(product, editor, title=f"I{n}-{i}")
        client = client_as(approver)
        url = reverse("workspace_home", kwargs={"ws": workspace.slug})
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(url).content.decode()
        listed = html.split('data-testid="statements-awaiting"')[1].split("</ul>")[0]
        assert listed.count("<li>") == total
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
