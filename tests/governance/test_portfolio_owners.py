"""Demand per owner (PMHub has no team; the initiative's owner is the axis, decisions/1509):
hand-computed shares of each quarter's capacity, the ranking's owners, and the portfolio page."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from governance import services
from governance.models import PortfolioEntry
from governance.portfolio import demand_by_owner
from governance.selectors import portfolio_ranking
from tests.factories import UserFactory
from tests.roadmaps.factories import InitiativeFactory

from .factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_demand_by_owner_by_hand():
    rows = [("Ana", "2027-Q1", Decimal(6)), ("Ana", "2027-Q2", Decimal(4)), ("Ben", "2027-Q1", Decimal(3)),
            ("Ana", "2027-Q1", Decimal(2)), (None, None, Decimal(5)), ("Ben", None, Decimal(1))]
    capacity = {"2027-Q1": Decimal(12), "2027-Q3": Decimal(20)}
    out = demand_by_owner(rows, capacity)
    # Ana: Q1 6 + 2 = 8 of 12 = 66.7%; Q2 4, no capacity. Ben: Q1 3 of 12 = 25.0%; 1 unscheduled.
    assert [(o["owner"], o["demand"]) for o in out] == [("Ana", Decimal(12)), ("Ben", Decimal(4)),
                                                        (None, Decimal(5))]
    assert [(q["quarter"], q["demand"], q["share"]) for q in out[0]["quarters"]] == [
        ("2027-Q1", Decimal(8), Decimal("66.7")), ("2027-Q2", Decimal(4), None)]
    assert [(q["quarter"], q["demand"], q["share"]) for q in out[1]["quarters"]] == [
        ("2027-Q1", Decimal(3), Decimal("25.0")), (None, Decimal(1), None)]
    assert demand_by_owner([], capacity) == []


def test_the_ranking_and_the_page_show_demand_per_owner(workspace, admin, client_as):
    product = ProductFactory(workspace=workspace)
    ana = UserFactory(email="ana@acme.test", name="Ana Lopez")
    mine = InitiativeFactory(product=product, owner=ana, start_date=date(2027, 1, 10))
    nobody = InitiativeFactory(product=product, start_date=date(2027, 2, 1))
    deferred = InitiativeFactory(product=product, owner=ana, start_date=date(2027, 1, 1))
    PortfolioEntry.objects.create(initiative=mine, value=4, time_criticality=4, risk_reduction=4, cost=6)
    PortfolioEntry.objects.create(initiative=nobody, value=4, time_criticality=4, risk_reduction=4, cost=2)
    PortfolioEntry.objects.create(initiative=deferred, value=4, time_criticality=4, risk_reduction=4, cost=50)
    services.portfolio_decide(user=admin, initiative=deferred, decision="defer", reason="Later", version=None)
    services.portfolio_capacity_set(user=admin, workspace=workspace, quarter="2027-Q1", capacity=Decimal(8))
    owners = portfolio_ranking(workspace=workspace)["owners"]
    assert [(o["owner"], o["demand"], o["quarters"][0]["share"]) for o in owners] == [
        (str(ana), Decimal(6), Decimal("75.0")), (None, Decimal(2), Decimal("25.0"))]
    html = client_as(admin).get(reverse("governance:portfolio", kwargs={"ws": workspace.slug})).content.decode()
    assert 'data-testid="portfolio-owners"' in html and "75% of capacity" in html and "No owner" in html


def test_the_ranking_api_returns_demand_per_owner(workspace, admin, api_as):
    product = ProductFactory(workspace=workspace)
    ana = UserFactory(email="ana@acme.test", name="Ana Lopez")
    initiative = InitiativeFactory(product=product, owner=ana, start_date=date(2027, 1, 10))
    PortfolioEntry.objects.create(initiative=initiative, value=4, time_criticality=4, risk_reduction=4, cost=6)
    services.portfolio_capacity_set(user=admin, workspace=workspace, quarter="2027-Q1", capacity=Decimal(8))
    r = api_as(admin).get("/api/v1/portfolio-ranking/", {"workspace": workspace.id})
    assert r.status_code == 200
    assert r.json()["owners"] == [{"owner": str(ana), "demand": "6.0",
                                   "quarters": [{"quarter": "2027-Q1", "demand": "6.0", "share": "75.0"}]}]
