"""Due computation in the workspace's time zone, and the beat task creating one run per period."""

from datetime import UTC, datetime

import pytest
import time_machine

from reports import cadence, services
from reports.models import ReportRun

from .factories import SubscriptionFactory, subscribe

pytestmark = pytest.mark.django_db


def _due(now, **kw):
    params = {"cadence": "weekly", "weekday": 0, "day_of_month": 1, "hour": 8, "time_zone": "UTC"} | kw
    return cadence.due_period(now=now, **params)


def test_weekly_report_is_due_from_its_hour_in_the_workspace_time_zone():
    # Monday 30 Nov 2026, 08:00 in Berlin is 07:00 UTC (winter time).
    berlin = {"time_zone": "Europe/Berlin"}
    assert _due(datetime(2026, 11, 30, 6, 59, tzinfo=UTC), **berlin) is None
    assert _due(datetime(2026, 11, 30, 7, 0, tzinfo=UTC), **berlin) == "2026-W49"
    assert _due(datetime(2026, 12, 3, 12, 0, tzinfo=UTC), **berlin) == "2026-W49"


def test_weekly_period_follows_the_local_date_not_utc():
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo: the new week's report is due there.
    now = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert _due(now, time_zone="Asia/Tokyo") == "2026-W49"
    assert _due(now, time_zone="UTC") == "2026-W48"


def test_summer_time_shifts_the_utc_moment():
    # Monday 6 July 2026, 08:00 in Berlin is 06:00 UTC (summer time).
    assert _due(datetime(2026, 7, 6, 5, 59, tzinfo=UTC), time_zone="Europe/Berlin") is None
    assert _due(datetime(2026, 7, 6, 6, 0, tzinfo=UTC), time_zone="Europe/Berlin") == "2026-W28"


def test_monthly_report_is_due_on_its_day_and_hour():
    monthly = {"cadence": "monthly", "day_of_month": 3, "hour": 9, "time_zone": "America/New_York"}
    assert _due(datetime(2026, 11, 3, 13, 59, tzinfo=UTC), **monthly) is None  # 08:59 in New York
    assert _due(datetime(2026, 11, 3, 14, 0, tzinfo=UTC), **monthly) == "2026-11"
    assert _due(datetime(2026, 11, 2, 23, 0, tzinfo=UTC), **monthly) is None


def test_a_subscription_created_after_this_periods_moment_waits_for_the_next():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday
    assert _due(now, not_before=datetime(2026, 11, 24, tzinfo=UTC)) is None
    assert _due(now, not_before=datetime(2026, 11, 20, tzinfo=UTC)) == "2026-W48"


def test_period_keys():
    assert cadence.period_key("weekly", datetime(2026, 11, 26).date()) == "2026-W48"
    assert cadence.period_key("monthly", datetime(2026, 11, 26).date()) == "2026-11"
    assert cadence.period_key("weekly", datetime(2027, 1, 1).date()) == "2026-W53"


def test_beat_creates_one_run_per_due_subscription_and_period(workspace, product, member, settings,
                                                             django_capture_on_commit_callbacks):
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        weekly = subscribe(SubscriptionFactory(product=product, weekday=0, hour=8), users=[member])
        monthly = subscribe(SubscriptionFactory(product=product, cadence="monthly", day_of_month=1, hour=8),
                            users=[member])

    with time_machine.travel(datetime(2026, 11, 30, 6, 30, tzinfo=UTC), tick=False):
        assert services.reports_enqueue_due() == 0  # 07:30 in Berlin: not yet
    with time_machine.travel(datetime(2026, 11, 30, 7, 5, tzinfo=UTC), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        assert services.reports_enqueue_due() == 1
        assert services.reports_enqueue_due() == 0  # a second beat in the same period: nothing
    with time_machine.travel(datetime(2026, 12, 1, 7, 5, tzinfo=UTC), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        assert services.reports_enqueue_due() == 1

    assert list(ReportRun.objects.filter(subscription=weekly).values_list("period", flat=True)) == ["2026-W49"]
    assert list(ReportRun.objects.filter(subscription=monthly).values_list("period", flat=True)) == ["2026-12"]
    from django.core import mail

    assert len(mail.outbox) == 2


def test_paused_subscriptions_are_not_sent(product, member):
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        subscribe(SubscriptionFactory(product=product, active=False), users=[member])
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False):
        assert services.reports_enqueue_due() == 0
