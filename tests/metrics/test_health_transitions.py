"""on track -> at risk -> off track -> recovered, with the action plan and the owner's notification."""

from datetime import UTC, date, datetime
from unittest import mock

import pytest
import time_machine

from metrics import services
from metrics.models import ActionPlan, Kpi, KpiHealth
from pmhub.models import Notification

pytestmark = pytest.mark.django_db


def _send(kpi, user, value, capture, day="2026-11-20"):
    with capture(execute=True):
        services.measurements_upsert(user=user, kpi=kpi, items=[{"period": day, "value": str(value)}])
    kpi.refresh_from_db()
    return kpi.health


@time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False)
def test_health_transitions_open_and_close_the_action_plan(kpi, editor, django_capture_on_commit_callbacks):
    kpi.warning_threshold, kpi.critical_threshold = 80, 60
    kpi.save()
    with mock.patch("metrics.services.webhook_emit") as emit:
        assert _send(kpi, editor, 100, django_capture_on_commit_callbacks) == "on_track"
        assert _send(kpi, editor, 75, django_capture_on_commit_callbacks) == "at_risk"
        assert not ActionPlan.objects.exists()
        assert _send(kpi, editor, 50, django_capture_on_commit_callbacks) == "off_track"
    plan = ActionPlan.objects.get(kpi=kpi)
    assert plan.status == "open" and plan.owner == editor
    notification = Notification.objects.get(recipient=editor, kind="kpi_off_track")
    assert "Signups" in notification.title and str(plan.id) in notification.url
    events = [c.kwargs for c in emit.call_args_list if c.kwargs["event"] == "kpi.health_changed"]
    assert [(e["event"], e["payload"]["from"], e["payload"]["to"]) for e in events] == [
        ("kpi.health_changed", "unknown", "on_track"), ("kpi.health_changed", "on_track", "at_risk"),
        ("kpi.health_changed", "at_risk", "off_track")]

    # Still off track: no second plan, no second notification.
    _send(kpi, editor, 40, django_capture_on_commit_callbacks)
    services.kpi_health_evaluate(kpi_id=kpi.id)
    assert ActionPlan.objects.count() == 1
    assert Notification.objects.filter(kind="kpi_off_track").count() == 1

    assert _send(kpi, editor, 95, django_capture_on_commit_callbacks) == "on_track"
    plan.refresh_from_db()
    assert plan.status == "closed" and plan.closed_reason == "recovered"
    assert list(KpiHealth.objects.filter(kpi=kpi).order_by("id").values_list("status", flat=True)) == [
        "on_track", "at_risk", "off_track", "on_track"]


def test_evaluating_twice_records_one_transition_and_one_plan(kpi, editor):
    kpi.critical_threshold, kpi.current_value, kpi.current_at = 10, 5, date(2026, 11, 1)
    kpi.save()
    services.kpi_health_evaluate(kpi_id=kpi.id)
    services.kpi_health_evaluate(kpi_id=kpi.id)
    assert KpiHealth.objects.count() == 1
    assert ActionPlan.objects.count() == 1


def test_plan_closed_by_hand_is_not_reopened_while_still_off_track(kpi, editor):
    kpi.critical_threshold, kpi.current_value, kpi.current_at = 10, 5, date(2026, 11, 1)
    kpi.save()
    services.kpi_health_evaluate(kpi_id=kpi.id)
    plan = ActionPlan.objects.get()
    services.action_plan_close(user=editor, plan=plan)
    services.kpi_health_evaluate(kpi_id=kpi.id)
    assert ActionPlan.objects.get().closed_reason == "manual"


def test_kpi_without_owner_turning_off_track_opens_a_plan_without_notification(product, editor):
    kpi = Kpi.objects.create(product=product, name="Orphan", critical_threshold=10, current_value=1,
                             current_at=date(2026, 11, 1))
    services.kpi_health_evaluate(kpi_id=kpi.id)
    assert ActionPlan.objects.filter(kpi=kpi).exists()
    assert not Notification.objects.exists()


def test_health_follows_the_straight_line(kpi, editor, django_capture_on_commit_callbacks):
    kpi.baseline_value, kpi.baseline_date = 100, date(2026, 1, 1)
    kpi.target_value, kpi.target_date = 200, date(2026, 4, 11)
    kpi.save()
    assert _send(kpi, editor, 130, django_capture_on_commit_callbacks, day="2026-02-20") == "off_track"
    record = KpiHealth.objects.get()
    assert record.expected_value == 150


def test_scheduled_evaluation_covers_all_kpis(kpi, product, editor):
    from metrics.tasks import kpis_evaluate_all

    kpi.current_value, kpi.current_at = 1, date(2026, 11, 1)
    kpi.save()
    assert kpis_evaluate_all.delay().get() == 1
    assert KpiHealth.objects.filter(kpi=kpi, status="on_track").exists()
