"""The portfolio: scoring arithmetic by hand, the ranking across products, demand against
capacity per quarter, decisions on the item and in the activity log, pages and API, and a fixed
number of queries at two sizes."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from governance import services
from governance.models import PortfolioCapacity, PortfolioEntry, PortfolioSettings
from governance.portfolio import Weights, demand_by_quarter, quarter_of, risk_points, score, strategic_fit
from governance.selectors import portfolio_ranking
from tests.effects import emitted, subscribe_all, verbs
from tests.roadmaps.factories import InitiativeFactory, ObjectiveFactory

from .factories import ProductFactory, RiskFactory

pytestmark = pytest.mark.django_db


# --- arithmetic by hand -------------------------------------------------------------------------------
def test_wsjf_is_the_sum_of_three_over_the_cost():
    # (8 + 6 + 4) / 4 = 4.5
    assert score("wsjf", value=8, time_criticality=6, risk_reduction=4, cost=Decimal(4)) == Decimal("4.50")
    # (5 + 5 + 5) / 7 = 2.142857... -> 2.14
    assert score("wsjf", value=5, time_criticality=5, risk_reduction=5, cost=Decimal(7)) == Decimal("2.14")


def test_value_over_cost_rounds_half_up():
    # 5 / 8 = 0.625 -> 0.63
    assert score("value_cost", value=5, time_criticality=1, risk_reduction=1, cost=Decimal(8)) == Decimal("0.63")


def test_weighted_adds_fit_and_takes_away_risk():
    # risk 20 of 25 -> 8 points; (2 x 6 + 1 x 10 - 1 x 8) / 2 = 7
    risk = risk_points(20)
    assert risk == Decimal("8.00")
    assert score("weighted", value=6, time_criticality=1, risk_reduction=1, cost=Decimal(2), fit=strategic_fit(1),
                 risk=risk, weights=Weights(value=2, fit=1, risk=1)) == Decimal("7.00")
    # no objective, no risk: (1 x 6 + 0 - 0) / 3 = 2
    assert score("weighted", value=6, time_criticality=1, risk_reduction=1, cost=Decimal(3), fit=strategic_fit(0),
                 risk=risk_points(None)) == Decimal("2.00")


def test_a_cost_of_zero_or_an_unknown_model_is_refused():
    with pytest.raises(ValueError):
        score("wsjf", value=1, time_criticality=1, risk_reduction=1, cost=Decimal(0))
    with pytest.raises(ValueError):
        score("rice", value=1, time_criticality=1, risk_reduction=1, cost=Decimal(1))


def test_demand_against_capacity_per_quarter():
    assert quarter_of(date(2027, 2, 3)) == "2027-Q1" and quarter_of(date(2027, 12, 31)) == "2027-Q4"
    rows = [("2027-Q1", Decimal(10)), ("2027-Q1", Decimal(5)), ("2027-Q2", Decimal(3)), (None, Decimal(7))]
    out = demand_by_quarter(rows, {"2027-Q1": Decimal(12), "2027-Q3": Decimal(20)})
    assert out[0]["over_by"] == Decimal(3) and out[2]["over_by"] is None
    assert [(r["quarter"], r["demand"], r["capacity"], r["over"], r["free"]) for r in out] == [
        ("2027-Q1", Decimal(15), Decimal(12), True, Decimal(-3)),
        ("2027-Q2", Decimal(3), None, False, None),
        ("2027-Q3", Decimal(0), Decimal(20), False, Decimal(20)),
        (None, Decimal(7), None, False, None)]


# --- the ranking over products ----------------------------------------------------------------------------
@pytest.fixture
def two_products(workspace):
    a, b = ProductFactory(workspace=workspace, name="A"), ProductFactory(workspace=workspace, name="B")
    i1 = InitiativeFactory(product=a, title="Cheap win", start_date=date(2027, 1, 10))
    i2 = InitiativeFactory(product=b, title="Big bet", start_date=date(2027, 2, 1))
    i3 = InitiativeFactory(product=b, title="No inputs")
    InitiativeFactory(product=a, title="Finished", status="done")
    PortfolioEntry.objects.create(initiative=i1, value=4, time_criticality=4, risk_reduction=4, cost=2)  # 6.00
    PortfolioEntry.objects.create(initiative=i2, value=9, time_criticality=9, risk_reduction=9, cost=9)  # 3.00
    return {"a": a, "b": b, "cheap": i1, "big": i2, "none": i3}


def test_the_ranking_spans_products_and_puts_initiatives_without_inputs_last(workspace, two_products):
    data = portfolio_ranking(workspace=workspace)
    assert [(i.rank, i.title, i.portfolio_score) for i in data["rows"]] == [
        (1, "Cheap win", Decimal("6.00")), (2, "Big bet", Decimal("3.00")), (3, "No inputs", None)]
    assert [(q["quarter"], q["demand"]) for q in data["quarters"]] == [("2027-Q1", Decimal(11))]


def test_the_weighted_model_counts_objectives_and_open_risks(workspace, admin, two_products):
    services.portfolio_settings_set(user=admin, workspace=workspace, data={"model": "weighted"}, version=None)
    objective = ObjectiveFactory(product=two_products["b"])
    two_products["big"].objectives.add(objective)
    RiskFactory(product=two_products["a"], likelihood=5, impact=5).initiatives.add(two_products["cheap"])
    rows = {i.title: i for i in portfolio_ranking(workspace=workspace)["rows"]}
    # Big bet: (9 + 10 - 0) / 9 = 2.11; Cheap win: (4 + 0 - 10) / 2 = -3.00
    assert rows["Big bet"].portfolio_score == Decimal("2.11") and rows["Big bet"].rank == 1
    assert rows["Cheap win"].portfolio_score == Decimal("-3.00")


def test_stopped_and_deferred_initiatives_leave_the_demand(workspace, admin, two_products):
    services.portfolio_decide(user=admin, initiative=two_products["big"], decision="defer", reason="Next year",
                              version=None)
    services.portfolio_capacity_set(user=admin, workspace=workspace, quarter="2027-Q1", capacity=Decimal(1))
    [q1] = portfolio_ranking(workspace=workspace)["quarters"]
    assert (q1["demand"], q1["capacity"], q1["over"]) == (Decimal(2), Decimal(1), True)


# --- services ----------------------------------------------------------------------------------------------
def test_portfolio_settings_set_chooses_the_model(workspace, admin):
    row = services.portfolio_settings_set(user=admin, workspace=workspace, data={"model": "value_cost"}, version=None)
    assert PortfolioSettings.objects.get(workspace=workspace).model == "value_cost"
    services.portfolio_settings_set(user=admin, workspace=workspace, data={"weight_fit": 3}, version=row.version)
    assert PortfolioSettings.objects.get(workspace=workspace).weight_fit == 3


def test_portfolio_capacity_set_writes_and_removes(workspace, admin):
    services.portfolio_capacity_set(user=admin, workspace=workspace, quarter="2027-Q2", capacity=Decimal(30))
    assert PortfolioCapacity.objects.get(workspace=workspace).capacity == Decimal(30)
    services.portfolio_capacity_set(user=admin, workspace=workspace, quarter="2027-Q2", capacity=None)
    assert not PortfolioCapacity.objects.exists()
    with pytest.raises(ValidationError):
        services.portfolio_capacity_set(user=admin, workspace=workspace, quarter="2027-Q5", capacity=Decimal(3))


def test_portfolio_entry_save_creates_then_versions(workspace, editor, two_products):
    entry = services.portfolio_entry_save(user=editor, initiative=two_products["none"],
                                          data={"value": 7, "cost": Decimal(3)}, version=None)
    assert (entry.value, entry.cost, entry.version) == (7, Decimal(3), 1)
    services.portfolio_entry_save(user=editor, initiative=two_products["none"], data={"value": 8},
                                  version=entry.version)
    assert PortfolioEntry.objects.get(pk=entry.pk).value == 8
    assert verbs(workspace)[-1] == "scored for the portfolio"


def test_portfolio_decide_is_kept_on_the_item_and_in_the_activity_log(workspace, admin, editor, two_products,
                                                                     client_as):
    subscribe_all(workspace=workspace, admin=admin)
    with pytest.raises(ValidationError):
        services.portfolio_decide(user=admin, initiative=two_products["big"], decision="fund", reason=" ",
                                  version=None)
    entry = two_products["big"].portfolio_entry
    services.portfolio_decide(user=admin, initiative=two_products["big"], decision="fund", reason="Board said yes",
                              version=entry.version)
    entry.refresh_from_db()
    assert (entry.decision, entry.reason, entry.decided_by) == ("fund", "Board said yes", admin)
    assert verbs(workspace)[-1] == "funded (portfolio)"
    assert emitted(workspace)[-1] == ("governance.portfolio.decided", {
        "initiative": two_products["big"].id, "decision": "fund", "reason": "Board said yes"})
    work = client_as(editor).get(reverse("roadmaps:initiative_work", kwargs={
        "ws": workspace.slug, "product_id": two_products["b"].id, "initiative_id": two_products["big"].id}))
    assert "Fund</a> — “Board said yes”" in work.content.decode()
    activity = client_as(editor).get(reverse("activity", kwargs={"ws": workspace.slug})).content.decode()
    assert "funded (portfolio)" in activity


def test_an_editor_may_not_decide(workspace, editor, two_products):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.portfolio_decide(user=editor, initiative=two_products["big"], decision="stop", reason="x",
                                  version=None)


# --- pages and API ------------------------------------------------------------------------------------------
def test_the_portfolio_page_ranks_and_admins_set_model_and_capacity(client_as, viewer, admin, workspace,
                                                                    two_products):
    url = reverse("governance:portfolio", kwargs={"ws": workspace.slug})
    html = client_as(viewer).get(url).content.decode()
    assert html.index("Cheap win") < html.index("Big bet") < html.index("No inputs")
    assert client_as(viewer).post(url, {"action": "capacity", "quarter": "2027-Q1", "capacity": "5"}).status_code == 403
    bad = client_as(admin).post(url, {"action": "capacity", "quarter": "Q1 2027", "capacity": "5"})
    assert bad.status_code == 400 and b"2027-Q1" in bad.content
    assert client_as(admin).post(url, {"action": "capacity", "quarter": "2027-Q1", "capacity": "5"}).status_code == 302
    assert client_as(admin).post(url, {"action": "settings", "model": "value_cost", "weight_value": "1",
                                       "weight_fit": "1", "weight_risk": "1"}).status_code == 302
    html = client_as(viewer).get(url).content.decode()
    assert "6 wk over" in html and "Value / cost" in html


def test_the_entry_page_saves_inputs_and_admins_decide(client_as, editor, admin, workspace, two_products):
    url = reverse("governance:portfolio_entry", kwargs={"ws": workspace.slug, "initiative_id": two_products["none"].id})
    assert client_as(editor).post(url, {"action": "inputs", "value": "11", "time_criticality": "5",
                                        "risk_reduction": "5", "cost": "2"}).status_code == 400
    assert client_as(editor).post(url, {"action": "inputs", "value": "7", "time_criticality": "5",
                                        "risk_reduction": "5", "cost": "2"}).status_code == 302
    entry = PortfolioEntry.objects.get(initiative=two_products["none"])
    assert client_as(editor).post(url, {"action": "decide", "decision": "fund", "reason": "x",
                                        "version": entry.version}).status_code == 403
    assert client_as(admin).post(url, {"action": "decide", "decision": "stop", "reason": "Out of scope",
                                       "version": entry.version}).status_code == 302
    assert PortfolioEntry.objects.get(pk=entry.pk).decision == "stop"


def test_a_foreign_initiative_is_404(client_as, outsider, workspace, two_products):
    url = reverse("governance:portfolio_entry", kwargs={"ws": "globex", "initiative_id": two_products["big"].id})
    assert client_as(outsider).get(url).status_code == 404


def test_the_api_ranks_and_decides(api_as, viewer, admin, workspace, two_products):
    r = api_as(viewer).get("/api/v1/portfolio-ranking/", {"workspace": workspace.id})
    assert r.status_code == 200
    assert [(x["title"], x["score"]) for x in r.json()["rows"]] == [("Cheap win", "6.00"), ("Big bet", "3.00"),
                                                                    ("No inputs", None)]
    entry = two_products["big"].portfolio_entry
    assert api_as(viewer).post(f"/api/v1/portfolio-entries/{entry.id}/decide/", {
        "decision": "fund", "reason": "x", "version": entry.version}, format="json").status_code == 403
    r = api_as(admin).post(f"/api/v1/portfolio-entries/{entry.id}/decide/", {
        "decision": "fund", "reason": "Yes", "version": entry.version}, format="json")
    assert r.status_code == 200 and r.json()["decision"] == "fund"
    assert api_as(viewer).get("/api/v1/portfolio-ranking/", {"workspace": 999999}).status_code == 400


@pytest.mark.parametrize("products,per_product,risks", [(2, 5, 10), (8, 15, 60)])
def test_the_portfolio_page_is_a_fixed_number_of_queries(client_as, viewer, workspace, products, per_product, risks,
                                                         django_assert_max_num_queries):
    import itertools

    initiatives = []
    for _p in range(products):
        product = ProductFactory(workspace=workspace)
        objective = ObjectiveFactory(product=product)
        for k in range(per_product):
            i = InitiativeFactory(product=product, start_date=date(2027, 1 + k % 12, 1))
            PortfolioEntry.objects.create(initiative=i, value=1 + k % 10, cost=1 + k)
            if k % 2:
                i.objectives.add(objective)
            initiatives.append(i)
    cycle = itertools.cycle(initiatives)
    for n in range(risks):
        i = next(cycle)
        RiskFactory(product=i.product, likelihood=1 + n % 5, impact=1 + n % 3).initiatives.add(i)
    client = client_as(viewer)
    url = reverse("governance:portfolio", kwargs={"ws": workspace.slug})
    client.get(url)
    with django_assert_max_num_queries(9):
        assert client.get(url).status_code == 200


def test_the_ranking_api_refuses_another_workspace_like_a_missing_one(api_as, outsider, workspace, two_products):
    foreign = api_as(outsider).get("/api/v1/portfolio-ranking/", {"workspace": workspace.id})
    missing = api_as(outsider).get("/api/v1/portfolio-ranking/", {"workspace": 999999})
    assert foreign.status_code == missing.status_code == 400 and foreign.json() == missing.json()
