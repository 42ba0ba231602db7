"""Periods are cut in the workspace's time zone."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from metrics import services
from metrics.models import Kpi, Measurement
from metrics.periods import local_date, period_end, period_start

from .factories import KpiFactory

pytestmark = pytest.mark.django_db


def test_period_starts():
    day = date(2026, 11, 26)  # a Thursday
    assert period_start(day, "daily") == day
    assert period_start(day, "weekly") == date(2026, 11, 23)
    assert period_start(day, "monthly") == date(2026, 11, 1)
    assert period_end(date(2026, 2, 1), "monthly") == date(2026, 2, 28)
    assert period_end(date(2026, 12, 1), "monthly") == date(2026, 12, 31)


def test_late_utc_evening_is_already_tomorrow_in_auckland():
    moment = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)  # 01:30 on the 26th in Auckland (UTC+13)
    assert local_date(moment, "Pacific/Auckland") == date(2026, 11, 26)
    assert local_date(moment, "America/Los_Angeles") == date(2026, 11, 25)


@time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False)
def test_timestamp_measurement_lands_in_the_local_day_of_the_workspace(workspace, editor, django_capture_on_commit_callbacks):
    workspace.time_zone = "America/Los_Angeles"
    workspace.save()
    kpi = KpiFactory(product__workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        # 05:00 UTC on the 1st is still the evening of Nov 30th in Los Angeles (UTC-8).
        services.measurements_upsert(user=editor, kpi=kpi, items=[
            {"timestamp": "2026-11-01T05:00:00+00:00", "value": "3"}])
    assert list(Measurement.objects.values_list("period_start", flat=True)) == [date(2026, 10, 31)]


@time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False)
def test_monthly_kpi_in_auckland_cuts_by_local_month(workspace, editor, django_capture_on_commit_callbacks):
    workspace.time_zone = "Pacific/Auckland"
    workspace.save()
    kpi = KpiFactory(product__workspace=workspace, cadence=Kpi.Cadence.MONTHLY, aggregation=Kpi.Aggregation.SUM)
    with django_capture_on_commit_callbacks(execute=True):
        services.measurements_upsert(user=editor, kpi=kpi, items=[
            {"timestamp": datetime(2026, 10, 31, 11, 30, tzinfo=UTC), "value": "1"},  # Nov 1st 00:30 NZDT
            {"timestamp": datetime(2026, 10, 31, 10, 30, tzinfo=UTC), "value": "2"},  # Oct 31st 23:30 NZDT
            {"timestamp": datetime(2026, 11, 20, 0, 0, tzinfo=UTC), "value": "4"},
        ])
    assert dict(Measurement.objects.values_list("period_start", "value")) == {
        date(2026, 10, 1): 2, date(2026, 11, 1): 5}
    kpi.refresh_from_db()
    assert kpi.current_at == date(2026, 11, 1) and kpi.current_value == 5
