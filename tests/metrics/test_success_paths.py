"""The successful effect of metrics writes: KPI edits and deletion, bulk and CSV measurements,
action plans, the current value (tests/core/test_service_success.py keeps the list)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from metrics import services
from metrics.models import ActionPlan, Kpi, Measurement
from tests.effects import emitted, subscribe_all, verbs

from .factories import KpiFactory, staged_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    # Every period below is in the past of this instant, whatever day the suite runs.
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        yield


def test_kpi_create_emits_kpi_created(product, admin, editor):
    subscribe_all(workspace=product.workspace, admin=admin)
    kpi = services.kpi_create(user=editor, product=product, data={"name": "Activation", "unit": "percent"})
    assert Kpi.objects.filter(id=kpi.id, product=product).exists()
    assert emitted(product.workspace)[-1] == ("kpi.created", {"id": kpi.id, "name": "Activation"})


def test_kpi_update_bumps_the_version_and_is_recorded(product, editor, kpi):
    services.kpi_update(user=editor, kpi=kpi, data={"name": "Weekly signups", "target_value": Decimal(500), "target_date": date(2026, 6, 30)},
                        expected_version=kpi.version)
    kpi = Kpi.objects.get(id=kpi.id)
    assert (kpi.name, kpi.target_value, kpi.version) == ("Weekly signups", Decimal(500), 2)
    assert verbs(product.workspace)[-1] == "updated KPI"


def test_kpi_delete_removes_it_with_its_measurements(product, editor, kpi):
    services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": date(2026, 1, 5), "value": 3}])
    services.kpi_delete(user=editor, kpi=kpi)
    assert not Kpi.objects.filter(id=kpi.id).exists()
    assert not Measurement.objects.filter(kpi_id=kpi.id).exists()
    assert verbs(product.workspace)[-1] == "deleted KPI"


def test_kpi_refresh_current_follows_the_latest_period(editor, kpi):
    services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": date(2026, 1, 5), "value": 3},
                                                              {"period": date(2026, 1, 9), "value": 7}])
    Kpi.objects.filter(id=kpi.id).update(current_value=None, current_at=None)
    services.kpi_refresh_current(kpi=kpi)
    kpi = Kpi.objects.get(id=kpi.id)
    assert (kpi.current_value, kpi.current_at) == (Decimal(7), date(2026, 1, 9))


def test_measurements_bulk_upsert_writes_values_of_several_kpis(product, editor, kpi):
    other = KpiFactory(product=product, name="Churn")
    written = services.measurements_bulk_upsert(user=editor, kpis={kpi.id: kpi, other.id: other}, items=[
        {"kpi": kpi.id, "period": "2026-01-05", "value": 4}, {"kpi": other.id, "period": "2026-01-05", "value": 2}])
    assert written == 2
    assert {(m.kpi_id, m.value) for m in Measurement.objects.all()} == {(kpi.id, Decimal(4)), (other.id, Decimal(2))}


def test_a_staged_csv_upload_is_written_on_confirmation(editor, kpi):
    upload = staged_upload(user=editor, kpi=kpi, content=b"date,value\n2026-01-05,4\n2026-01-06,6\n",
                           filename="signups.csv")
    assert (len(upload.rows), upload.errors) == (2, [])
    assert not Measurement.objects.filter(kpi=kpi).exists()
    assert services.upload_confirm(user=editor, upload=upload) == 2
    assert sorted(Measurement.objects.filter(kpi=kpi).values_list("value", flat=True)) == [Decimal(4), Decimal(6)]


def test_an_action_plan_is_opened_updated_and_closed(editor, kpi):
    plan = services.action_plan_create(user=editor, kpi=kpi, data={"title": "Fix the funnel", "owner": editor})
    services.action_plan_update(user=editor, plan=plan, data={"status": ActionPlan.Status.IN_PROGRESS,
                                                             "steps": "Call 5 users"})
    plan = ActionPlan.objects.get(id=plan.id)
    assert (plan.status, plan.steps) == (ActionPlan.Status.IN_PROGRESS, "Call 5 users")
    services.action_plan_close(user=editor, plan=plan)
    assert ActionPlan.objects.get(id=plan.id).status == ActionPlan.Status.CLOSED
