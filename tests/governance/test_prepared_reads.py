"""The governance reads of home and the dashboards, compiled once (pmhub.prepared, decision 2120),
answer what the ORM selectors answer for a workspace's and for a product's live products, and a
write shows at the next read."""

import pytest

from governance.models import ImpactStatement, Risk
from governance.selectors import (
    above_appetite_rows_for_products,
    above_appetite_rows_of,
    risk_summary,
    risk_summary_of,
    statements_awaiting_decision,
    statements_awaiting_decision_of,
)
from pmhub.models import Role
from roadmaps.models import Product

from .factories import InitiativeFactory, ProductFactory, RiskFactory, appetite
from .test_awaiting_approval import _awaiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(workspace, other_workspace, product, foreign_product):
    second = ProductFactory(workspace=workspace, name="<Second> & co")
    deleted = ProductFactory(workspace=workspace, name="Gone")
    appetite(second, 4)
    for p in (product, second, deleted, foreign_product):
        RiskFactory(product=p, title=f"High of {p.name} <script>", likelihood=5, impact=5)
        RiskFactory(product=p, title=f"Issue of {p.name}", likelihood=3, impact=2, kind=Risk.Kind.ISSUE)
        RiskFactory(product=p, title=f"Closed of {p.name}", likelihood=5, impact=5, status=Risk.Status.CLOSED)
    Product.objects.filter(pk=deleted.pk).update(deleted_at="2026-01-01T00:00:00Z")
    return second


def _scopes(workspace, product):
    return [({"scope": "workspace", "scope_id": workspace.id}, Product.objects.alive().filter(workspace=workspace)),
            ({"scope": "product", "scope_id": product.id}, [product])]


@pytest.mark.parametrize("limit", [5, 100])
def test_risks_above_appetite_and_the_summary_are_the_selectors(register, workspace, product, limit):
    for scope, products in _scopes(workspace, product):
        assert above_appetite_rows_of(**scope, limit=limit) == above_appetite_rows_for_products(
            products=products, limit=limit)
        assert risk_summary_of(**scope) == risk_summary(products=products)
    summary = risk_summary_of(scope="workspace", scope_id=workspace.id)
    assert (summary["open"], summary["issues"]) == (4, 2) and summary["above"] >= 1  # deleted, closed, foreign: out


def test_an_empty_register_counts_zero(workspace, product):
    assert risk_summary_of(scope="workspace", scope_id=workspace.id) == {"open": 0, "above": 0, "issues": 0}
    assert above_appetite_rows_of(scope="product", scope_id=product.id) == []


def test_a_written_risk_shows_at_the_next_read(register, workspace, product):
    before = risk_summary_of(scope="workspace", scope_id=workspace.id)
    RiskFactory(product=product, title="Written now", likelihood=5, impact=4)
    assert risk_summary_of(scope="workspace", scope_id=workspace.id)["above"] == before["above"] + 1
    assert "Written now" in [r.title for r in above_appetite_rows_of(scope="product", scope_id=product.id)]
    appetite(product, 25)  # the appetite is raised: nothing of the product is above it any more
    assert above_appetite_rows_of(scope="product", scope_id=product.id) == []


def test_statements_awaiting_are_the_selectors_for_every_role(workspace, product, foreign_product, editor, admin,
                                                              viewer):
    _awaiting(product, editor, title="For admins")
    _awaiting(product, admin, title="For editors", approver_role=Role.EDITOR)
    ImpactStatement.objects.create(product=foreign_product, initiative=InitiativeFactory(product=foreign_product),
                                   status="awaiting", approver_role=Role.EDITOR)
    for user, role in ((admin, Role.ADMIN), (editor, Role.EDITOR), (viewer, Role.VIEWER)):
        for scope, products in _scopes(workspace, product):
            assert statements_awaiting_decision_of(user=user, role=role, **scope) == statements_awaiting_decision(
                user=user, role=role, products=products)
    assert [s.initiative.title for s in statements_awaiting_decision_of(
        user=admin, role=Role.ADMIN, scope="workspace", scope_id=workspace.id)] == ["For admins", "For editors"]
