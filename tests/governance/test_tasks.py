"""The beat task of review dates, on a frozen clock in the workspace's own day."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from governance import tasks
from governance.models import Risk
from pmhub.models import Notification
from pmhub.settings import CELERY_BEAT_SCHEDULE

from .factories import RiskFactory

pytestmark = pytest.mark.django_db


def test_the_review_task_is_on_the_beat_schedule():
    entry = CELERY_BEAT_SCHEDULE["governance-risk-reviews-due"]
    assert entry["task"] == tasks.risks_review_due_notify.name


def test_a_passed_review_date_notifies_the_owner_once(product, editor):
    RiskFactory(product=product, owner=editor, review_date=date(2026, 6, 9), title="Late review")
    RiskFactory(product=product, owner=editor, review_date=date(2026, 6, 10), title="Due today")  # not passed yet
    RiskFactory(product=product, owner=editor, review_date=date(2026, 6, 1), status="closed")  # closed: no one told

    assert tasks.risks_review_due_notify() == 1
    assert tasks.risks_review_due_notify() == 0  # a second beat tells nobody again
    titles = list(Notification.objects.filter(recipient=editor, kind="risk").values_list("title", flat=True))
    assert len(titles) == 1 and "Late review" in titles[0] and "9 Jun 2026" in titles[0]


def test_the_review_date_passes_in_the_workspaces_own_day(product, editor):
    product.workspace.time_zone = "Pacific/Auckland"  # UTC+12: already 11 June there at 13:00 UTC on the 10th
    product.workspace.save()
    risk = RiskFactory(product=product, owner=editor, review_date=date(2026, 6, 10))
    with time_machine.travel(datetime(2026, 6, 10, 11, 0, tzinfo=UTC), tick=False):  # 23:00 in Auckland
        assert tasks.risks_review_due_notify() == 0
    with time_machine.travel(datetime(2026, 6, 10, 13, 0, tzinfo=UTC), tick=False):  # 01:00 on the 11th
        assert tasks.risks_review_due_notify() == 1
    assert Risk.objects.get(pk=risk.pk).review_notified_for == date(2026, 6, 10)


def test_a_new_appetite_is_checked_for_every_open_item(product, admin, editor, django_capture_on_commit_callbacks):
    from governance import services

    RiskFactory(product=product, owner=editor, likelihood=3, impact=3)  # 9
    RiskFactory(product=product, owner=editor, likelihood=2, impact=5)  # 10
    with django_capture_on_commit_callbacks(execute=True):
        services.appetite_set(user=admin, product=product, appetite=9, version=None)
    assert Notification.objects.filter(recipient=editor, kind="risk").count() == 1
