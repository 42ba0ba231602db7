"""Lifecycle proposals beyond decline (decisions/1509): introduction -> growth when every judged
signal rises N months in a row, growth -> maturity when every judged signal stays within 2%, on
hand-computed monthly means; decline still wins; and the stage's own API endpoint."""

from datetime import date

import pytest

from governance import services
from governance.lifecycle import propose_stage, trend
from governance.models import ProductGovernance, StageChange, StageProposal
from metrics.models import Measurement
from pmhub.models import Notification
from tests.effects import emitted, subscribe_all
from tests.metrics.factories import KpiFactory

from .factories import ProductFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 10)  # the governance tests' frozen day: complete months Feb-May 2026


def test_trend_by_hand():
    assert trend([10, 12, 15, 16], 3) == "rising"
    assert trend([10, 9, 8, 7], 3) == "declining"
    assert trend([100, 101, 99.5, 101.4], 3) == "flat"  # +1%, -1.49%, +1.91%: each within 2%
    assert trend([100, 101, 98, 99], 3) == "mixed"  # -2.97% is outside the band and not a run
    assert trend([100, 103, 104, 104.5], 3) == "rising"
    assert trend([5, 4, 3, 2], 3, lower_is_better=True) == "rising"  # churn falling is a rise
    assert trend([0, 0, 0, 0], 3) == "flat"
    assert trend([1, 2, 3], 3) is None


def test_propose_stage_by_hand():
    assert propose_stage("introduction", {"kpi": "rising", "adoption": "rising"}) == "growth"
    assert propose_stage("introduction", {"kpi": "rising", "adoption": "flat"}) is None
    assert propose_stage("introduction", {"kpi": "rising", "adoption": None}) == "growth"
    assert propose_stage("growth", {"kpi": "flat", "adoption": "flat"}) == "maturity"
    assert propose_stage("growth", {"kpi": "rising", "adoption": "flat"}) is None
    assert propose_stage("maturity", {"kpi": "flat"}) is None  # maturity only moves to decline
    assert propose_stage("maturity", {"kpi": "declining"}) == "decline"
    assert propose_stage("introduction", {"kpi": "declining"}) == "decline"
    assert propose_stage("growth", {"kpi": None}) is None
    assert propose_stage("idea", {"kpi": "rising"}) is None


def _kpi(product, means_by_month, name="Active teams"):
    """Two measurements a month whose mean is the given value (value - 5 and value + 5)."""
    kpi = KpiFactory(product=product, name=name)
    for month, mean in zip((2, 3, 4, 5), means_by_month, strict=True):
        Measurement.objects.create(kpi=kpi, period_start=date(2026, month, 1), value=mean - 5)
        Measurement.objects.create(kpi=kpi, period_start=date(2026, month, 15), value=mean + 5)
    return kpi


def test_introduction_rising_is_proposed_for_growth_and_admins_are_told(product, admin):
    subscribe_all(workspace=product.workspace, admin=admin)
    ProductGovernance.objects.create(product=product, stage="introduction")
    _kpi(product, (40, 55, 70, 90))
    proposal = services.lifecycle_evaluate(product_id=product.id, today=TODAY)
    assert proposal.to_stage == "growth"
    assert proposal.evidence["KPI Active teams"] == {"values": [40.0, 55.0, 70.0, 90.0], "declining": False,
                                                      "trend": "rising"}
    note = Notification.objects.get(recipient=admin, data__proposal=proposal.id)
    assert "growth" in note.title and "rose 3 months" in note.title
    assert emitted(product.workspace)[-1] == ("governance.lifecycle.proposed",
                                              {"product": product.id, "to": "growth", "proposal": proposal.id})
    assert services.lifecycle_evaluate(product_id=product.id, today=TODAY) is None  # one open at most


def test_growth_flat_is_proposed_for_maturity_and_accepting_moves_it(product, admin):
    ProductGovernance.objects.create(product=product, stage="growth")
    _kpi(product, (200, 202, 199, 201))  # +1%, -1.49%, +1.01%
    proposal = services.lifecycle_evaluate(product_id=product.id, today=TODAY)
    assert proposal.to_stage == "maturity"
    services.proposal_decide(user=admin, proposal=proposal, accept=True)
    assert ProductGovernance.objects.get(product=product).stage == "maturity"
    assert StageChange.objects.get(product=product).to_stage == "maturity"


def test_growth_still_rising_or_mixed_proposes_nothing(product):
    ProductGovernance.objects.create(product=product, stage="growth")
    _kpi(product, (200, 202, 199, 201))
    _kpi(product, (10, 20, 30, 40), name="Revenue")
    assert services.lifecycle_evaluate(product_id=product.id, today=TODAY) is None
    assert not StageProposal.objects.exists()


# --- the stage's own endpoint -----------------------------------------------------------------------------
def _url(product):
    return f"/api/v1/product-lifecycle/{product.id}/"


def test_the_lifecycle_endpoint_reads_and_admins_set_the_stage(api_as, admin, product):
    r = api_as(admin).get(_url(product))
    assert r.status_code == 200 and r.json()["stage"] == "growth" and r.json()["history"] == []
    version = r.json()["version"]
    r = api_as(admin).patch(_url(product), {"stage": "maturity", "reason": "Flat for a year",
                                            "version": version}, format="json")
    assert r.status_code == 200 and r.json()["stage"] == "maturity"
    assert ProductGovernance.objects.get(product=product).stage == "maturity"
    change = StageChange.objects.get(product=product)
    assert (change.from_stage, change.to_stage, change.reason, change.actor) == ("growth", "maturity",
                                                                                 "Flat for a year", admin)
    assert api_as(admin).get(_url(product)).json()["history"][0]["to_stage"] == "maturity"


def test_the_lifecycle_endpoint_refuses_bad_input_stale_versions_viewers_and_outsiders(
        api_as, admin, viewer, product, other_workspace):
    version = api_as(admin).get(_url(product)).json()["version"]
    r = api_as(admin).patch(_url(product), {"stage": "shrinking", "version": version}, format="json")
    assert r.status_code == 400 and "stage" in r.json()["errors"]
    assert api_as(admin).patch(_url(product), {"stage": "decline"}, format="json").status_code == 409
    assert api_as(admin).patch(_url(product), {"stage": "decline", "version": version + 5},
                               format="json").status_code == 409
    assert api_as(viewer).patch(_url(product), {"stage": "decline", "version": version},
                                format="json").status_code == 403
    foreign = ProductFactory(workspace=other_workspace)
    assert api_as(admin).get(_url(foreign)).status_code == 404
    assert not StageChange.objects.exists()


def test_the_lifecycle_list_costs_the_same_queries_for_2_and_12_products(api_as, admin, workspace):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (2, 10):
        for _ in range(n):
            product = ProductFactory(workspace=workspace)
            services.stage_set(user=admin, product=product, stage="maturity", reason="r")
        client = api_as(admin)
        client.get("/api/v1/product-lifecycle/")
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/api/v1/product-lifecycle/")
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
