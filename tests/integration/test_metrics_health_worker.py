"""KPI health is evaluated by a real Celery worker through Redis after new measurements."""

import pytest

from metrics import services
from metrics.models import ActionPlan, KpiHealth
from pmhub.models import Notification, Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.metrics.factories import KpiFactory, ProductFactory

from .conftest import wait_until

pytestmark = pytest.mark.integration


def test_new_measurement_is_evaluated_by_the_worker_and_opens_an_action_plan(celery_worker_process):
    workspace = WorkspaceFactory(time_zone="Pacific/Auckland")
    owner = UserFactory()
    MembershipFactory(user=owner, workspace=workspace, role=Role.EDITOR)
    kpi = KpiFactory(product=ProductFactory(workspace=workspace), owner=owner, warning_threshold=80,
                     critical_threshold=60)

    # The service sends the task with delay_on_commit: the worker sees committed rows only.
    services.measurements_upsert(user=owner, kpi=kpi, items=[{"period": "2026-11-20", "value": "42"}])

    record = wait_until(lambda: KpiHealth.objects.filter(kpi=kpi).first(), timeout=60,
                        message=lambda: "the health row; worker log:\n" + celery_worker_process.output()[-3000:])
    assert record.status == "off_track" and record.previous_status == "unknown"
    assert ActionPlan.objects.get(kpi=kpi).status == "open"
    assert Notification.objects.filter(recipient=owner, kind="kpi_off_track").count() == 1
    assert "metrics.tasks.kpi_evaluate_health" in celery_worker_process.output()

    # The same value again: the task runs but records nothing new (idempotent).
    services.measurements_upsert(user=owner, kpi=kpi, items=[{"period": "2026-11-20", "value": "42"}])
    wait_until(lambda: celery_worker_process.output().count("metrics.tasks.kpi_evaluate_health") >= 4
               and celery_worker_process.output().count("succeeded") >= 2, timeout=60,
               message=lambda: "the second run; worker log:\n" + celery_worker_process.output()[-3000:])
    assert KpiHealth.objects.filter(kpi=kpi).count() == 1
    assert ActionPlan.objects.filter(kpi=kpi).count() == 1
