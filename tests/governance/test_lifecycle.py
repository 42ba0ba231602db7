"""Product lifecycle: the decline rule on hand-computed series, the worker's proposal (frozen
clock, once), accept and dismiss with history, and retiring (readable; reports and ingestion stop)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from governance import services, tasks
from governance.lifecycle import declining, month_starts, propose_decline
from governance.models import ProductGovernance, StageChange, StageProposal
from governance.selectors import lifecycle_signals
from metrics.models import Measurement
from pmhub.models import Notification
from tests.effects import emitted, subscribe_all, verbs
from tests.metrics.factories import KpiFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 10)  # the governance tests' frozen day: complete months Feb-May 2026


def test_declining_needs_n_plus_one_values_all_moving_the_wrong_way():
    assert declining([10, 9, 8, 7], 3) is True
    assert declining([10, 9, 9, 7], 3) is False  # a flat month breaks the run
    assert declining([9, 8, 7], 3) is None  # not enough data
    assert declining([5, 6, 7, 8], 3, lower_is_better=True) is True  # churn rising is decline
    assert declining([1, 10, 9, 8], 2) is True  # only the last two changes count


def test_decline_is_proposed_only_when_every_judged_signal_declines_in_a_watched_stage():
    assert propose_decline("maturity", {"kpi": True, "adoption": True}) is True
    assert propose_decline("maturity", {"kpi": True, "adoption": False}) is False
    assert propose_decline("growth", {"kpi": True, "adoption": None}) is True  # no adoption data: not judged
    assert propose_decline("growth", {"kpi": None}) is False
    assert propose_decline("decline", {"kpi": True}) is False


def test_month_starts_are_the_complete_months_before_today():
    assert month_starts(date(2026, 2, 15), 3) == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)]


@pytest.fixture
def falling(product):
    """Daily values whose monthly means are, by hand: Feb 100, Mar 90, Apr 80, May 70."""
    kpi = KpiFactory(product=product, name="Active teams")
    for month, (a, b) in zip((2, 3, 4, 5), ((110, 90), (100, 80), (85, 75), (80, 60)), strict=True):
        Measurement.objects.create(kpi=kpi, period_start=date(2026, month, 1), value=a)
        Measurement.objects.create(kpi=kpi, period_start=date(2026, month, 15), value=b)
    Measurement.objects.create(kpi=kpi, period_start=date(2026, 6, 1), value=500)  # this month: not complete
    ProductGovernance.objects.create(product=product, stage="maturity")
    return kpi


def test_signals_are_monthly_means_of_complete_months(product, falling):
    signals = lifecycle_signals(product=product, periods=3, today=TODAY)
    assert signals == {"KPI Active teams": {"values": [100.0, 90.0, 80.0, 70.0], "declining": True,
                                            "trend": "declining"}}


def test_the_worker_proposes_decline_once_and_tells_the_admins(product, falling, admin):
    subscribe_all(workspace=product.workspace, admin=admin)
    assert tasks.lifecycle_proposals() == 1
    assert tasks.lifecycle_proposals() == 0  # one open proposal at most
    proposal = StageProposal.objects.get(product=product)
    assert proposal.to_stage == "decline" and proposal.evidence["KPI Active teams"]["declining"] is True
    assert Notification.objects.filter(recipient=admin, data__proposal=proposal.id).exists()
    assert emitted(product.workspace)[-1][0] == "governance.lifecycle.proposed"


def test_no_proposal_while_a_signal_holds_up(product, falling):
    Measurement.objects.create(kpi=KpiFactory(product=product, name="Revenue"), period_start=date(2026, 2, 1), value=1)
    kpi = KpiFactory(product=product, name="Revenue 2")
    for month, v in zip((2, 3, 4, 5), (1, 2, 3, 4), strict=True):
        Measurement.objects.create(kpi=kpi, period_start=date(2026, month, 1), value=v)
    with time_machine.travel(datetime(2026, 6, 10, 9, 0, tzinfo=UTC), tick=False):
        assert services.lifecycle_evaluate(product_id=product.id, today=TODAY) is None


def test_lifecycle_evaluate_makes_the_proposal(product, falling):
    assert services.lifecycle_evaluate(product_id=product.id, today=TODAY).to_stage == "decline"


def test_proposal_decide_accept_moves_the_stage_with_history(product, falling, admin):
    proposal = services.lifecycle_evaluate(product_id=product.id, today=TODAY)
    services.proposal_decide(user=admin, proposal=proposal, accept=True)
    assert ProductGovernance.objects.get(product=product).stage == "decline"
    change = StageChange.objects.get(product=product)
    assert (change.from_stage, change.to_stage, change.actor) == ("maturity", "decline", admin)
    with pytest.raises(ValidationError):
        services.proposal_decide(user=admin, proposal=proposal, accept=False)


def test_dismissing_keeps_the_stage(product, falling, admin):
    proposal = services.lifecycle_evaluate(product_id=product.id, today=TODAY)
    services.proposal_decide(user=admin, proposal=proposal, accept=False)
    assert ProductGovernance.objects.get(product=product).stage == "maturity"
    assert StageProposal.objects.get(pk=proposal.pk).status == "dismissed"
    assert verbs(product.workspace)[-1] == "dismissed the lifecycle proposal for"


def test_stage_set_moves_the_stage_and_keeps_the_history(product, admin):
    services.stage_set(user=admin, product=product, stage="introduction", reason="Beta is open")
    assert ProductGovernance.objects.get(product=product).stage == "introduction"
    assert StageChange.objects.get(product=product).reason == "Beta is open"
    assert verbs(product.workspace)[-1] == "moved to the introduction stage"


def test_stage_set_refuses_an_unknown_stage_and_an_editor(product, admin, editor):
    with pytest.raises(ValidationError):
        services.stage_set(user=admin, product=product, stage="zombie")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.stage_set(user=editor, product=product, stage="growth")


def test_retiring_keeps_the_product_readable_and_stops_reports_and_ingestion(product, admin, viewer, client_as,
                                                                             api):
    from adoption import services as adoption_services
    from reports.models import ReportRun
    from reports.services import report_build, reports_enqueue_due
    from tests.roadmaps.factories import ProductFactory

    other = ProductFactory(workspace=product.workspace, name="Alive")
    _, raw = adoption_services.ingestion_key_create(user=admin, product=product, name="web")
    services.stage_set(user=admin, product=product, stage="retired", reason="Replaced by dashboards")
    # Readable.
    page = client_as(viewer).get(reverse("roadmaps:product", kwargs={"ws": product.workspace.slug,
                                                                     "product_id": product.id}))
    assert page.status_code == 200
    # The workspace report leaves it out; its own subscription makes no run (the other's does).
    from tests.reports.factories import SubscriptionFactory
    from tests.roadmaps.factories import InitiativeFactory

    InitiativeFactory(product=product, title="Old thing")
    InitiativeFactory(product=other, title="New thing")
    items = report_build(workspace=product.workspace, section_keys=["roadmap"])["sections"][0]["data"]["items"]
    assert [i["title"] for i in items] == ["New thing"]
    SubscriptionFactory(product=product)
    SubscriptionFactory(product=other)
    with time_machine.travel(datetime(2026, 6, 15, 12, 30, tzinfo=UTC), tick=False):
        reports_enqueue_due()
    assert not ReportRun.objects.filter(subscription__product=product).exists()
    assert ReportRun.objects.filter(subscription__product=other).exists()
    # Ingestion refuses.
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    r = api.post("/api/v1/events/bulk/", {"events": [{"id": "e1", "feature": "search", "actor": "u1",
                                                      "occurred_at": "2026-06-09T10:00:00Z"}]}, format="json")
    assert r.status_code == 403 and "retired" in r.json()["detail"]
    assert other.id  # the other product is untouched


def test_the_lifecycle_page_shows_evidence_and_admins_accept(client_as, viewer, admin, product, falling):
    proposal = services.lifecycle_evaluate(product_id=product.id, today=TODAY)
    url = reverse("governance:lifecycle", kwargs={"ws": product.workspace.slug, "product_id": product.id})
    html = client_as(viewer).get(url).content.decode()
    assert "PMHub proposes: Decline" in html and "100 → 90 → 80 → 70" in html
    assert client_as(viewer).post(url, {"action": "accept", "proposal": proposal.id}).status_code == 403
    assert client_as(admin).post(url, {"action": "accept", "proposal": proposal.id}).status_code == 302
    html = client_as(viewer).get(url).content.decode()
    assert 'data-testid="lifecycle-stage">Decline' in html and "Maturity → Decline" in html


def test_the_api_lists_proposals_and_accepts(api_as, admin, viewer, product, falling):
    proposal = services.lifecycle_evaluate(product_id=product.id, today=TODAY)
    body = api_as(viewer).get("/api/v1/stage-proposals/", {"product": product.id}).json()
    assert body["results"][0]["evidence"]["KPI Active teams"]["values"] == [100.0, 90.0, 80.0, 70.0]
    assert api_as(viewer).post(f"/api/v1/stage-proposals/{proposal.id}/accept/").status_code == 403
    assert api_as(admin).post(f"/api/v1/stage-proposals/{proposal.id}/accept/").status_code == 200
    assert api_as(viewer).get("/api/v1/stage-changes/", {"product": product.id}).json()["results"][0]["to_stage"] == \
        "decline"
    row = ProductGovernance.objects.get(product=product)
    r = api_as(admin).patch(f"/api/v1/risk-appetites/{row.id}/", {"stage": "retired", "version": row.version},
                            format="json")
    assert r.status_code == 200 and r.json()["stage"] == "retired"
