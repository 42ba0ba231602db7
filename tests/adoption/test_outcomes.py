"""Outcome reviews: baseline at release, 30/90-day checkpoints, predicted vs measured, calibration."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from adoption import selectors, services
from adoption.models import OutcomeCheckpoint, OutcomeReview
from backlog.models import Epic
from metrics.models import Kpi
from roadmaps.models import Initiative, Release
from roadmaps.signals import release_shipped

pytestmark = pytest.mark.django_db

RELEASED = datetime(2026, 9, 1, 12, tzinfo=UTC)


@pytest.fixture
def kpi(product):
    return Kpi.objects.create(product=product, name="Weekly active teams", current_value=Decimal("200"),
                              current_at=RELEASED.date())


@pytest.fixture
def shipped(product, kpi):
    initiative = Initiative.objects.create(product=product, title="Self-serve onboarding")
    release = Release.objects.create(product=product, name="2026.9", status="released", released_at=RELEASED)
    epic = Epic.objects.create(product=product, title="Guided setup", release=release, initiative=initiative,
                               score=Decimal("42.5"), score_inputs={"reach": 1000})
    # Success criteria: the KPI is linked to the epic and its initiative (metrics' M2M).
    kpi.epics.add(epic)
    kpi.initiatives.add(initiative)
    return release, epic, initiative


def test_shipping_a_release_records_baseline_and_prediction(shipped, kpi, django_capture_on_commit_callbacks):
    release, epic, initiative = shipped
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        release_shipped.send(sender=Release, release=release, actor=None)
    # Scheduled on commit, not done inline (other apps, e.g. discovery, receive the signal too).
    assert len([c for c in callbacks if "adoption.tasks" in repr(c)]) == 1
    epic_review = OutcomeReview.objects.get(epic=epic)
    assert epic_review.baseline_value == Decimal("200") and epic_review.released_at == RELEASED
    assert epic_review.predicted == {"score": 42.5, "reach": 1000.0}
    assert epic_review.predicted_score == 42.5
    assert sorted(epic_review.checkpoints.values_list("window_days", "due_at")) == [
        (30, RELEASED + timedelta(days=30)), (90, RELEASED + timedelta(days=90))]
    # The epic's initiative is reviewed too; initiatives carry no score, only the roadmap's confidence.
    assert OutcomeReview.objects.get(initiative=initiative).predicted == {"confidence": 50.0}


def test_a_release_shipped_twice_keeps_one_review_per_subject_and_kpi(shipped, django_capture_on_commit_callbacks):
    release, _, _ = shipped
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            release_shipped.send(sender=Release, release=release, actor=None)
    assert OutcomeReview.objects.count() == 2
    assert OutcomeCheckpoint.objects.count() == 4


def test_subjects_without_success_kpis_get_no_review(product, monkeypatch):
    release = Release.objects.create(product=product, name="r", status="released", released_at=RELEASED)
    Epic.objects.create(product=product, title="No KPIs", release=release)
    assert services.outcome_reviews_open_for_release(release_id=release.id) == 0


def test_due_checkpoints_measure_the_kpi_once(shipped, kpi):
    release, epic, _ = shipped
    services.outcome_reviews_open_for_release(release_id=release.id)
    kpi.current_value = Decimal("250")
    kpi.save()
    with time_machine.travel(RELEASED + timedelta(days=31), tick=False):
        assert services.outcome_checkpoints_measure_due() == 2  # the 30-day checkpoints of epic and initiative
        assert services.outcome_checkpoints_measure_due() == 0
    review = OutcomeReview.objects.get(epic=epic)
    c30, c90 = review.checkpoints.order_by("window_days")
    assert c30.value == Decimal("250") and c30.measured_at is not None
    assert c90.measured_at is None
    row = selectors.review_rows([review])[0]
    assert row["change_30"] == 0.25 and row["change_90"] is None


def _review(product, kpi, title, score, baseline, measured_30):
    epic = Epic.objects.create(product=product, title=title)
    review = OutcomeReview.objects.create(product=product, epic=epic, kpi=kpi, released_at=RELEASED,
                                          baseline_value=baseline, predicted={"score": score}, predicted_score=score)
    OutcomeCheckpoint.objects.create(review=review, window_days=30, due_at=RELEASED + timedelta(days=30),
                                     value=measured_30, measured_at=RELEASED + timedelta(days=30))
    OutcomeCheckpoint.objects.create(review=review, window_days=90, due_at=RELEASED + timedelta(days=90))
    return review


def test_calibration_is_spearman_of_score_against_measured_change(product, kpi):
    # Changes: +10 %, +5 %, +20 %, +15 %, +30 % for scores 1..5 -> ranks 2,1,4,3,5 -> rho 0.8
    for score, measured in [(1, 110), (2, 105), (3, 120), (4, 115), (5, 130)]:
        _review(product, kpi, f"Epic {score}", score, Decimal(100), Decimal(measured))
    rows = selectors.review_rows(OutcomeReview.objects.prefetch_related("checkpoints").select_related("kpi"))
    assert selectors.outcome_calibration(rows) == {30: {"rho": 0.8, "n": 5}, 90: {"rho": None, "n": 0}}


def test_lower_is_better_kpi_counts_a_drop_as_improvement(product):
    churn = Kpi.objects.create(product=product, name="Churn", direction="lower")
    review = _review(product, churn, "Fix billing", 3, Decimal(10), Decimal(8))
    assert selectors.review_rows([review])[0]["change_30"] == 0.2


def test_outcomes_page_lists_predicted_vs_measured_with_rho_and_n(client_as, viewer, workspace, product, kpi,
                                                                  django_assert_max_num_queries):
    for score, measured in [(1, 110), (2, 105), (3, 120), (4, 115), (5, 130)]:
        _review(product, kpi, f"Epic {score}", score, Decimal(100), Decimal(measured))
    client = client_as(viewer)
    url = reverse("outcomes", kwargs={"ws": workspace.slug, "product_id": product.id})
    with django_assert_max_num_queries(19):  # 12 of adoption's + at most 7 of discovery's askers panel
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "ρ = 0.80" in html and "n = 5" in html
    assert html.count('data-testid="outcome-row"') == 5


def test_outcome_reviews_api_and_calibration(api, viewer, product, kpi, django_assert_max_num_queries):
    for score, measured in [(1, 110), (2, 105), (3, 120)]:
        _review(product, kpi, f"Epic {score}", score, Decimal(100), Decimal(measured))
    api.force_authenticate(viewer)
    with django_assert_max_num_queries(6):
        response = api.get(f"/api/v1/outcome-reviews/?product={product.id}")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 3 and {r["change_30"] for r in results} == {0.1, 0.05, 0.2}
    calibration = api.get(f"/api/v1/outcome-reviews/calibration/?product={product.id}").json()
    assert calibration["window_30"] == {"rho": 0.5, "n": 3}
