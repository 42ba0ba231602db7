"""Report runs mailed through a real SMTP server: one e-mail per recipient, whatever happens."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from pmhub.models import Notification
from reports import services
from reports.models import ReportDelivery, ReportRecipient, ReportRun
from reports.tasks import report_run_send

from .factories import InitiativeFactory, SubscriptionFactory, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_retries(monkeypatch):
    """Eager tasks run their retries at once (countdowns are skipped) instead of raising Retry."""
    from pmhub.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.fixture
def subscription(product, admin, member):
    sub = SubscriptionFactory(product=product, owner=admin, name="Rocket weekly")
    return subscribe(sub, "ceo@outside.test", users=[member])


def test_send_now_mails_each_recipient_once_through_smtp(smtp, subscription, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_send_now(user=admin, subscription=subscription)

    assert smtp.recipients() == ["ceo@outside.test", "member@acme.test"]
    run.refresh_from_db()
    assert run.status == ReportRun.Status.SENT
    assert set(run.deliveries.values_list("status", flat=True)) == {"sent"}
    message = smtp.messages[0]["message"]
    assert "Rocket weekly" in message["Subject"]
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    assert str(message["List-Unsubscribe"]).strip().startswith("<http")


def test_running_the_send_task_twice_mails_nobody_twice(smtp, subscription, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_send_now(user=admin, subscription=subscription)

    report_run_send.delay(run.id)  # a duplicated task
    report_run_send.apply(args=[run.id])  # and a redelivered one

    assert smtp.recipients() == ["ceo@outside.test", "member@acme.test"]


def test_a_second_run_for_the_same_period_is_not_created(smtp, subscription, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = services.run_create(subscription=subscription, period="2026-W48")
        second, created_second = services.run_create(subscription=subscription, period="2026-W48")

    assert created_first and not created_second and first.id == second.id
    assert ReportRun.objects.filter(subscription=subscription).count() == 1
    assert len(smtp.messages) == 2


def _run_with_deliveries(subscription):
    # Created without executing on-commit callbacks: the run exists, its task has not run yet.
    run, _ = services.run_create(subscription=subscription, period="2026-W48")
    return run


def test_redelivery_does_not_resend_a_delivery_marked_sent(smtp, subscription):
    run = _run_with_deliveries(subscription)
    run.deliveries.filter(email="ceo@outside.test").update(status="sent", sent_at=timezone.now())

    services.report_run_deliver(run_id=run.id)

    assert smtp.recipients() == ["member@acme.test"]


def test_a_fresh_sending_claim_of_another_worker_is_left_alone(smtp, subscription):
    run = _run_with_deliveries(subscription)
    run.deliveries.filter(email="ceo@outside.test").update(status="sending", claimed_at=timezone.now())

    with pytest.raises(services.ClaimHeld):
        services.report_run_deliver(run_id=run.id)

    assert smtp.recipients() == ["member@acme.test"]
    assert ReportDelivery.objects.get(run=run, email="ceo@outside.test").status == "sending"


def test_a_sending_claim_older_than_the_lease_is_retried_once(smtp, subscription, settings):
    settings.EMAIL_TIMEOUT = 5  # lease = 15 s
    run = _run_with_deliveries(subscription)
    run.deliveries.filter(email="ceo@outside.test").update(
        status="sending", claimed_at=timezone.now() - timedelta(seconds=60), attempts=1)

    services.report_run_deliver(run_id=run.id)
    services.report_run_deliver(run_id=run.id)

    assert smtp.recipients() == ["ceo@outside.test", "member@acme.test"]
    delivery = ReportDelivery.objects.get(run=run, email="ceo@outside.test")
    assert delivery.status == "sent" and delivery.attempts == 2


def test_smtp_failures_are_retried_then_delivered(smtp, subscription, eager_retries,
                                                  django_capture_on_commit_callbacks):
    smtp.fail_next = 2  # 451 twice, then accepted

    with django_capture_on_commit_callbacks(execute=True):
        run = _run_with_deliveries(subscription)

    run.refresh_from_db()
    assert run.status == "sent"
    assert smtp.recipients() == ["ceo@outside.test", "member@acme.test"]
    assert ReportDelivery.objects.get(run=run, email="ceo@outside.test").attempts == 3


def test_smtp_down_ends_in_failed_state_and_notifies_the_owner(settings, subscription, admin, eager_retries,
                                                                 django_capture_on_commit_callbacks):
    from .smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2

    with django_capture_on_commit_callbacks(execute=True):
        _run_with_deliveries(subscription)

    run = ReportRun.objects.get(subscription=subscription)
    assert run.status == ReportRun.Status.FAILED
    assert "ConnectionRefusedError" in run.error
    assert set(run.deliveries.values_list("status", flat=True)) == {"failed"}
    assert run.deliveries.first().attempts == report_run_send.max_retries + 1
    note = Notification.objects.get(recipient=admin, kind="report_failed")
    assert "Rocket weekly" in note.title


def test_unsubscribed_recipients_and_former_members_are_not_mailed(smtp, subscription, member, workspace,
                                                                   django_capture_on_commit_callbacks):
    ReportRecipient.objects.filter(email="ceo@outside.test").update(unsubscribed_at=timezone.now())
    member.memberships.filter(workspace=workspace).delete()

    with django_capture_on_commit_callbacks(execute=True):
        run = _run_with_deliveries(subscription)

    assert smtp.messages == []
    assert run.deliveries.count() == 0


def test_user_text_is_escaped_in_the_html_email(smtp, subscription, product, admin, django_capture_on_commit_callbacks):
    InitiativeFactory(product=product, title="<script>alert(1)</script>", status="in_progress",
                      end_date=timezone.localdate() - timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=True):
        services.report_send_now(user=admin, subscription=subscription)

    html = smtp.messages[0]["message"].get_body(("html",)).get_content()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_send_now_twice_in_the_same_second_is_one_run(smtp, subscription, admin, django_capture_on_commit_callbacks):
    with time_machine.travel("2026-11-26 10:00:00", tick=False), django_capture_on_commit_callbacks(execute=True):
        services.report_send_now(user=admin, subscription=subscription)
        services.report_send_now(user=admin, subscription=subscription)

    assert ReportRun.objects.count() == 1
    assert len(smtp.messages) == 2
