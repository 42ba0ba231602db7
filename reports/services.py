"""Writes of the reports app: subscriptions, runs and their exactly-once delivery, notification
preferences and their e-mails, webhook endpoints and signed deliveries.

See docs/decisions/0800-report-exactly-once.md and 0801-webhooks.md for the why.
"""

import contextlib
import hashlib
import hmac
import json
import logging
import smtplib
import time
from datetime import timedelta
from functools import partial
from urllib.parse import urlparse

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from pmhub.access import require_role
from pmhub.clock import today_in
from pmhub.models import Membership, Notification, Role
from pmhub.outbound import OutboundFailed, OutboundRefused, outbound_check_url, outbound_post
from pmhub.services import activity_record, notify
from pmhub.subscribers import subscribers_cached
from pmhub.utils import ids_text, mail_subject, version_claim
from pmhub.webhooks import webhook_emit, webhook_event_names, webhook_kind

from . import cadence, sections
from .models import (
    SECTION_CHOICES,
    SECTION_KEYS,
    NotificationEmail,
    NotificationPreference,
    ReportDelivery,
    ReportRecipient,
    ReportRun,
    ReportRunPdf,
    ReportSubscription,
    WebhookDelivery,
    WebhookEndpoint,
)
from .rendering import report_chart_images, report_render, report_subject

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "reports.unsubscribe"
WEBHOOK_DISABLE_AFTER = 10
NOTIFICATION_EMAIL_KINDS = [
    Notification.Kind.MENTION, Notification.Kind.ASSIGNMENT, Notification.Kind.KPI_OFF_TRACK,
    Notification.Kind.CHANGE_REQUEST, Notification.Kind.REPORT_FAILED, Notification.Kind.WEBHOOK_DISABLED,
    Notification.Kind.RISK, Notification.Kind.APPROVAL,
]


class ClaimHeld(Exception):
    """Another worker holds a fresh claim on a delivery: try again after the lease."""


def send_lease() -> timedelta:
    """How long a 'sending' claim is trusted. A live sender finishes one message within a few
    socket timeouts (connect, DATA, QUIT); a claim older than that belongs to a dead worker."""
    seconds = getattr(settings, "REPORTS_SEND_LEASE_SECONDS", None) or 3 * int(settings.EMAIL_TIMEOUT or 20)
    return timedelta(seconds=seconds)


# --- subscriptions ---------------------------------------------------------------------------------
def _clean_subscription(*, workspace, product, name, cadence_, weekday, day_of_month, hour, section_keys) -> dict:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Name the report."
    if cadence_ not in ReportSubscription.Cadence.values:
        errors["cadence"] = "Choose weekly or monthly."
    if not (isinstance(weekday, int) and 0 <= weekday <= 6):
        errors["weekday"] = "Choose a weekday (0 = Monday ... 6 = Sunday)."
    if not (isinstance(day_of_month, int) and 1 <= day_of_month <= 28):
        errors["day_of_month"] = "Choose a day from 1 to 28."
    if not (isinstance(hour, int) and 0 <= hour <= 23):
        errors["hour"] = "Choose an hour from 0 to 23."
    section_keys = [k for k in SECTION_KEYS if k in (section_keys or [])]
    if not section_keys or set(section_keys) != set(section_keys or []):
        errors["sections"] = "Choose at least one section."
    if product is not None and (product.workspace_id != workspace.id or product.deleted_at is not None):
        errors["product"] = "Unknown product."
    if errors:
        raise ValidationError(errors)
    return {"name": name[:120], "cadence": cadence_, "weekday": weekday, "day_of_month": day_of_month,
            "hour": hour, "sections": section_keys, "product": product}


def _clean_recipients(*, workspace, member_ids, emails) -> tuple[list, list[str]]:
    member_ids = list(dict.fromkeys(member_ids or []))
    members = list(Membership.objects.filter(workspace=workspace, user_id__in=member_ids).select_related("user"))
    if len(members) != len(member_ids):
        missing = set(member_ids) - {m.user_id for m in members}
        raise ValidationError({"member_ids": f"Choose members of this workspace (not {ids_text(missing)})."})
    cleaned = []
    for raw in emails or []:
        email = (raw or "").strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"emails": f"Not an e-mail address: {email[:80]}"})
        cleaned.append(email)
    users = [m.user for m in members]
    member_emails = {u.email.lower() for u in users}
    outside = [e for e in dict.fromkeys(cleaned) if e not in member_emails]
    if not users and not outside:
        raise ValidationError({"emails": "Add at least one recipient."})
    return users, outside


def _set_recipients(subscription, users, outside) -> None:
    wanted = {u.email.lower(): u for u in users} | dict.fromkeys(outside)
    existing = {r.email: r for r in subscription.recipients.all()}
    ReportRecipient.objects.filter(subscription=subscription).exclude(email__in=list(wanted)).delete()
    for email, user in wanted.items():
        current = existing.get(email)
        if current is None:
            ReportRecipient.objects.create(subscription=subscription, email=email, user=user)
        elif current.user_id != (user.id if user else None):
            current.user = user
            current.save(update_fields=["user"])


@transaction.atomic
def subscription_create(*, user, workspace, name: str, product=None, cadence: str = "weekly", weekday: int = 0,
                        day_of_month: int = 1, hour: int = 8, sections: list[str] | None = None,
                        member_ids: list[int] | None = None, emails: list[str] | None = None) -> ReportSubscription:
    """Subscribe stakeholders (members or outside addresses) to a product's (or workspace's) report."""
    require_role(user=user, workspace_id=workspace.id, role=Role.EDITOR)
    fields = _clean_subscription(workspace=workspace, product=product, name=name, cadence_=cadence, weekday=weekday,
                                 day_of_month=day_of_month, hour=hour, section_keys=sections)
    users, outside = _clean_recipients(workspace=workspace, member_ids=member_ids, emails=emails)
    subscription = ReportSubscription.objects.create(workspace=workspace, owner=user, **fields)
    _set_recipients(subscription, users, outside)
    activity_record(workspace_id=workspace.id, actor=user, verb="created report subscription", target=subscription)
    return subscription


@transaction.atomic
def subscription_update(
    *, user, subscription: ReportSubscription, data: dict, version: int | None = None
) -> ReportSubscription:
    """Change any of name, product, cadence, weekday, day_of_month, hour, sections, active and recipients
    (member_ids + emails together)."""
    require_role(user=user, workspace_id=subscription.workspace_id, role=Role.EDITOR)
    subscription = ReportSubscription.objects.select_for_update().get(pk=subscription.pk)
    version_claim(instance=subscription, expected_version=version)
    fields = _clean_subscription(
        workspace=subscription.workspace, product=data.get("product", subscription.product),
        name=data.get("name", subscription.name), cadence_=data.get("cadence", subscription.cadence),
        weekday=data.get("weekday", subscription.weekday),
        day_of_month=data.get("day_of_month", subscription.day_of_month),
        hour=data.get("hour", subscription.hour), section_keys=data.get("sections", subscription.sections))
    for key, value in fields.items():
        setattr(subscription, key, value)
    if "active" in data:
        subscription.active = bool(data["active"])
    subscription.save()
    if "member_ids" in data or "emails" in data:
        current = list(subscription.recipients.all())
        member_ids = data.get("member_ids", [r.user_id for r in current if r.user_id])
        emails = data.get("emails", [r.email for r in current if not r.user_id])
        users, outside = _clean_recipients(workspace=subscription.workspace, member_ids=member_ids, emails=emails)
        _set_recipients(subscription, users, outside)
    activity_record(workspace_id=subscription.workspace_id, actor=user, verb="updated report subscription",
                    target=subscription)
    return subscription


@transaction.atomic
def subscription_delete(*, user, subscription: ReportSubscription) -> None:
    require_role(user=user, workspace_id=subscription.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=subscription.workspace_id, actor=user, verb="deleted report subscription",
                    data={"name": subscription.name})
    subscription.delete()


# --- building the report ---------------------------------------------------------------------------
def _products_of(*, workspace, product):
    from governance.selectors import retired_product_ids
    from roadmaps.models import Product

    if product is not None:
        return Product.objects.filter(id=product.id)
    products = Product.objects.alive().filter(workspace=workspace)
    # A retired product stays readable but leaves the workspace's reports (governance lifecycle).
    return products.exclude(id__in=retired_product_ids(product_ids=products.values_list("id", flat=True)))


def report_build(*, subscription: ReportSubscription | None = None, product=None, workspace=None,
                 section_keys: list[str] | None = None, period: str | None = None,
                 previous: dict | None = None, now=None) -> dict:
    """The report's data (JSON-safe). Either a subscription, or a product (or workspace) + sections
    for a preview. `previous` is the data of the last run, for "changed since the last report"."""
    now = now or timezone.now()
    if subscription is not None:
        workspace, product = subscription.workspace, subscription.product
        section_keys = section_keys or subscription.sections
        cadence_ = subscription.cadence
        if previous is None:
            last = subscription.runs.exclude(period=period or "").order_by("-created_at", "-id").first()
            previous = last.data if last else None
    else:
        workspace = workspace or product.workspace
        cadence_ = "weekly"
    section_keys = [k for k in SECTION_KEYS if k in (section_keys or SECTION_KEYS)]
    today = today_in(workspace.time_zone, now)
    period = period or cadence.period_key(cadence_, today)
    products = _products_of(workspace=workspace, product=product)
    previous_sections = {s["key"]: s["data"] for s in (previous or {}).get("sections", [])}
    labels = dict(SECTION_CHOICES)
    built = [{"key": key, "label": labels[key],
              "data": sections.SECTIONS[key](products=products, today=today, previous=previous_sections.get(key))}
             for key in section_keys]
    scope = product.name if product is not None else "All products"
    title = subscription.name if subscription is not None else f"Report preview: {scope}"
    return {
        "title": title, "scope": scope, "period": period,
        "period_label": period if not period.startswith("now-") else f"sent on {today.isoformat()}",
        "workspace": {"id": workspace.id, "name": workspace.name, "slug": workspace.slug},
        "product_id": product.id if product is not None else None,
        "generated_at": now.isoformat(), "today": today.isoformat(),
        "app_url": f"{settings.SITE_URL}/w/{workspace.slug}/",
        "sections": built,
    }


# --- runs: creation and exactly-once delivery ---------------------------------------------------------
def _active_recipients(subscription) -> list[ReportRecipient]:
    recipients = list(subscription.recipients.filter(unsubscribed_at__isnull=True).select_related("user"))
    member_ids = set(Membership.objects.filter(workspace_id=subscription.workspace_id,
                                               user_id__in=[r.user_id for r in recipients if r.user_id])
                     .values_list("user_id", flat=True))
    # A member who left the workspace no longer receives its reports.
    return [r for r in recipients if r.user_id is None or r.user_id in member_ids]


@transaction.atomic
def run_create(*, subscription: ReportSubscription, period: str, user=None) -> tuple[ReportRun, bool]:
    """The run of a period, created at most once (unique (subscription, period)); its deliveries are
    created with it and the send task is queued on commit."""
    run, created = ReportRun.objects.get_or_create(subscription=subscription, period=period,
                                                   defaults={"triggered_by": user})
    if created:
        run.data = report_build(subscription=subscription, period=period)
        run.save(update_fields=["data"])
        ReportDelivery.objects.bulk_create(
            [ReportDelivery(run=run, recipient=r, email=r.email) for r in _active_recipients(subscription)],
            ignore_conflicts=True)
        from .tasks import report_run_send

        report_run_send.delay_on_commit(run.id)  # it queues the run's PDF once the e-mails are out
        # Webhooks and Slack/Teams channels that subscribed get a summary with a link to the run page.
        webhook_emit(workspace_id=subscription.workspace_id, event="report.published", payload={
            "run_id": run.id, "subscription_id": subscription.id, "title": subscription.name,
            "product_id": subscription.product_id, "period": period,
            "period_label": run.data.get("period_label", period),
            "url": settings.SITE_URL + reverse("reports:run", kwargs={"ws": subscription.workspace.slug,
                                                                     "run_id": run.id})})
    return run, created


# --- the run's PDF (decision 1420): rendered by the worker, stored, answered at once ---------------
PDF_LEASE = timedelta(minutes=5)  # a render queued longer ago than this was lost: queue it again


def _pdf_queue_on_commit(run_id: int) -> None:
    from pmhub.celery import queue_or_leave

    from .tasks import report_run_pdf

    def queue():
        if not queue_or_leave(report_run_pdf, run_id):
            ReportRun.objects.filter(id=run_id).update(pdf_queued_at=None)  # the next download asks again

    transaction.on_commit(queue)


def report_run_pdf_request(*, run: ReportRun | None = None, run_id: int | None = None) -> bool:
    """A download found no stored PDF: queue its rendering once. One conditional UPDATE claims the
    queueing (no render queued yet, or one queued longer ago than PDF_LEASE whose message was lost),
    so a page refreshed while it waits, or many readers at once, queue one render. Returns whether
    this call queued it."""
    run_id = run.id if run is not None else run_id
    now = timezone.now()
    claimed = (ReportRun.objects.filter(id=run_id).exclude(pdf__isnull=False)
               .filter(Q(pdf_queued_at__isnull=True) | Q(pdf_queued_at__lt=now - PDF_LEASE))
               .update(pdf_queued_at=now))
    if claimed:
        _pdf_queue_on_commit(run_id)
    return bool(claimed)


def report_run_pdf_render(*, run_id: int) -> str:
    """Render a run's PDF from its stored data (the same data its e-mail and page show) and store
    it; idempotent: a second render of the same run stores nothing."""
    from .rendering import report_pdf

    run = ReportRun.objects.filter(id=run_id).first()
    if run is None:
        return "skipped"
    if ReportRunPdf.objects.filter(run_id=run_id).exists():
        return "stored"
    content = report_pdf(run.data)  # outside any transaction: 0.7-2 s of WeasyPrint
    _, created = ReportRunPdf.objects.get_or_create(run_id=run_id, defaults={"content": content})
    return "rendered" if created else "stored"


def report_run_pdf_stored(*, run: ReportRun) -> bytes | None:
    content = ReportRunPdf.objects.filter(run_id=run.id).values_list("content", flat=True).first()
    return bytes(content) if content is not None else None


def report_send_now(*, user, subscription: ReportSubscription) -> ReportRun:
    """"Send now": a run of its own period ("now-<UTC second>"), so a double click sends once."""
    require_role(user=user, workspace_id=subscription.workspace_id, role=Role.EDITOR)
    period = "now-" + timezone.now().strftime("%Y%m%dT%H%M%S")
    run, _ = run_create(subscription=subscription, period=period, user=user)
    activity_record(workspace_id=subscription.workspace_id, actor=user, verb="sent report", target=subscription)
    return run


def unsubscribe_token(recipient: ReportRecipient) -> str:
    return signing.dumps({"r": recipient.id, "e": recipient.email}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(recipient: ReportRecipient, workspace_slug: str) -> str:
    path = reverse("reports:unsubscribe", kwargs={"ws": workspace_slug, "token": unsubscribe_token(recipient)})
    return f"{settings.SITE_URL}{path}"


def recipient_for_token(token: str) -> ReportRecipient | None:
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return (ReportRecipient.objects.select_related("subscription__workspace")
            .filter(id=value.get("r"), email=value.get("e")).first())


def recipient_unsubscribe(*, recipient: ReportRecipient) -> ReportRecipient:
    """No sign-in: the signed token in the e-mail is the authority. Idempotent."""
    ReportRecipient.objects.filter(id=recipient.id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now())
    recipient.refresh_from_db()
    return recipient


def _report_message(run: ReportRun, delivery: ReportDelivery, images=None) -> EmailMultiAlternatives:
    """The report e-mail: multipart/related (the text and HTML alternatives, then each chart's PNG
    referenced by Content-ID from the HTML). `images`: the run's chart parts, drawn once per run."""
    data = run.data
    link = unsubscribe_url(delivery.recipient, data["workspace"]["slug"]) if delivery.recipient_id else ""
    domain = urlparse(settings.SITE_URL).hostname or "pmhub.local"
    headers = {"Message-ID": f"<pmhub-report-{run.id}-{delivery.id}@{domain}>"}
    if link:
        headers |= {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(subject=report_subject(data), body=report_render(data, fmt="text",
                                     unsubscribe_url=link), to=[delivery.email], headers=headers)
    message.attach_alternative(report_render(data, fmt="html", unsubscribe_url=link), "text/html")
    images = report_chart_images(data) if images is None else images
    if images:
        message.mixed_subtype = "related"
        for part in images:
            message.attach(part)
    return message


def _claim(model, pk: int, *, now) -> bool:
    """Claim a state row for sending: pending -> sending, or a 'sending' claim older than the lease
    (its worker died before it could mark the row). One conditional UPDATE: only one claimer wins."""
    stale = now - send_lease()
    return bool(model.objects.filter(pk=pk).filter(Q(status="pending") | Q(status="sending", claimed_at__lt=stale))
                .update(status="sending", claimed_at=now, attempts=F("attempts") + 1))


def report_run_deliver(*, run_id: int) -> str:
    """Mail each pending recipient of a run once. Runs outside a transaction on purpose: the claim
    must be committed before SMTP is spoken to, and the 'sent' mark right after SMTP accepted.

    Raises SMTPException/OSError on a transient failure (the task retries; the claim is released)
    and ClaimHeld when another worker holds a fresh claim.
    """
    run = ReportRun.objects.select_related("subscription").filter(id=run_id).first()
    if run is None or run.status in (ReportRun.Status.SENT, ReportRun.Status.FAILED):
        return "skipped"
    ReportRun.objects.filter(id=run.id, status=ReportRun.Status.PENDING).update(status=ReportRun.Status.SENDING)
    connection = None
    images = None
    try:
        for delivery in run.deliveries.filter(status__in=["pending", "sending"]).select_related("recipient"):
            if not _claim(ReportDelivery, delivery.id, now=timezone.now()):
                continue
            if images is None:
                images = report_chart_images(run.data)
            message = _report_message(run, delivery, images)
            if connection is None:
                connection = get_connection(fail_silently=False)
            try:
                message.connection = connection
                message.send()
            except smtplib.SMTPRecipientsRefused as exc:
                # Permanent for this address: do not retry the run for it.
                ReportDelivery.objects.filter(id=delivery.id).update(status="failed", error=str(exc)[:1000])
                continue
            except (smtplib.SMTPException, OSError) as exc:
                # SMTP did not accept: release the claim so the retry sends it.
                ReportDelivery.objects.filter(id=delivery.id, status="sending").update(
                    status="pending", error=f"{type(exc).__name__}: {exc}"[:1000])
                raise
            # The crash window: between SMTP's 250 and this UPDATE (documented in decision 0800).
            ReportDelivery.objects.filter(id=delivery.id).update(status="sent", sent_at=timezone.now(), error="")
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection must not mask the real error
                connection.close()
    if run.deliveries.filter(status__in=["pending", "sending"]).exists():
        raise ClaimHeld(f"run {run.id}: a delivery is claimed by another worker")
    failed = run.deliveries.filter(status="failed").count()
    ReportRun.objects.filter(id=run.id).exclude(status=ReportRun.Status.FAILED).update(
        status=ReportRun.Status.SENT, finished_at=timezone.now(),
        error=f"{failed} recipient(s) refused by the mail server." if failed else "")
    return "sent"


def report_run_fail(*, run_id: int, error: str) -> None:
    """Retries exhausted: the run and its unsent deliveries fail visibly and the owner is told."""
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().select_related("subscription").filter(id=run_id).first()
        if run is None or run.status == ReportRun.Status.FAILED:
            return
        run.deliveries.filter(status__in=["pending", "sending"]).update(status="failed", error=error[:1000])
        run.status, run.error, run.finished_at = ReportRun.Status.FAILED, error[:2000], timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        subscription = run.subscription
        if subscription.owner_id:
            notify(recipient=subscription.owner, kind=Notification.Kind.REPORT_FAILED,
                   title=f"Report “{subscription.name}” could not be sent ({run.period})",
                   url=reverse("reports:detail", kwargs={"ws": run.data.get("workspace", {}).get("slug")
                                                         or subscription.workspace.slug,
                                                         "subscription_id": subscription.id}),
                   workspace_id=subscription.workspace_id)


def reports_enqueue_due(*, now=None) -> int:
    """Beat: create the run of every due subscription (at most once per period) and re-queue runs a
    lost broker message left behind (the task is idempotent, so a re-queue is harmless)."""
    from governance.selectors import retired_product_ids

    now = now or timezone.now()
    created_count = 0
    subscriptions = list(ReportSubscription.objects.filter(active=True).select_related("workspace", "product"))
    retired = retired_product_ids(product_ids={s.product_id for s in subscriptions if s.product_id})
    for subscription in subscriptions:
        if subscription.product is not None and subscription.product.deleted_at is not None:
            continue
        if subscription.product_id in retired:  # a retired product's reports stop (governance lifecycle)
            continue
        period = cadence.due_period(cadence=subscription.cadence, weekday=subscription.weekday,
                                    day_of_month=subscription.day_of_month, hour=subscription.hour, now=now,
                                    time_zone=subscription.workspace.time_zone, not_before=subscription.created_at)
        if period is None:
            continue
        if ReportRun.objects.filter(subscription=subscription, period=period).exists():
            continue
        _, created = run_create(subscription=subscription, period=period)
        created_count += created
    from .tasks import report_run_send

    stuck = ReportRun.objects.filter(status__in=["pending", "sending"], created_at__lt=now - timedelta(minutes=30))
    for run_id in stuck.values_list("id", flat=True)[:100]:
        report_run_send.delay(run_id)
    return created_count


# --- notification preferences and e-mails ---------------------------------------------------------------
def notification_preferences_for(*, user) -> list[dict]:
    stored = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    labels = dict(Notification.Kind.choices)
    return [{"kind": k.value if hasattr(k, "value") else k, "label": labels[k], "email": stored.get(k, True)}
            for k in NOTIFICATION_EMAIL_KINDS]


@transaction.atomic
def notification_preference_set(*, user, kind: str, email: bool) -> NotificationPreference:
    if kind not in NOTIFICATION_EMAIL_KINDS:
        raise ValidationError({"kind": "Unknown notification kind."})
    pref, _ = NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": bool(email)})
    return pref


def wants_email(*, user_id: int, kind: str) -> bool:
    if kind not in NOTIFICATION_EMAIL_KINDS:
        return False
    pref = NotificationPreference.objects.filter(user_id=user_id, kind=kind).values_list("email", flat=True).first()
    return True if pref is None else pref


def notification_email_queue(*, notification) -> None:
    if not wants_email(user_id=notification.recipient_id, kind=notification.kind):
        return
    from .tasks import notification_email_send

    notification_email_send.delay_on_commit(notification.id)


def notification_email_deliver(*, notification_id: int) -> str:
    """Mail one notification at most once (same claim rule as report deliveries)."""
    notification = Notification.objects.select_related("recipient", "workspace").filter(id=notification_id).first()
    if notification is None:
        return "skipped"
    state, _ = NotificationEmail.objects.get_or_create(notification=notification)
    if state.status == "sent":
        return "skipped"
    claimed = NotificationEmail.objects.filter(id=state.id, status="pending").update(status="sending",
                                                                                     sent_at=timezone.now())
    if not claimed:
        stale = timezone.now() - send_lease()
        claimed = NotificationEmail.objects.filter(id=state.id, status="sending", sent_at__lt=stale).update(
            sent_at=timezone.now())
    if not claimed:
        return "claimed"
    url = notification.url
    if url.startswith("/"):
        url = settings.SITE_URL + url
    context = {"notification": notification, "url": url,
               "preferences_url": settings.SITE_URL + reverse("notification_preferences")}
    message = EmailMultiAlternatives(subject=mail_subject(notification.title), body=render_to_string(
        "emails/report_notification.txt", context), to=[notification.recipient.email])
    message.attach_alternative(render_to_string("emails/report_notification.html", context), "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        NotificationEmail.objects.filter(id=state.id).update(status="pending")
        raise
    NotificationEmail.objects.filter(id=state.id).update(status="sent", sent_at=timezone.now())
    return "sent"


# --- webhooks ---------------------------------------------------------------------------------------
def _clean_webhook(*, url: str, events: list[str], description: str = "") -> dict:
    errors = {}
    url = (url or "").strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        errors["url"] = "Enter an http:// or https:// URL."
    else:
        try:
            outbound_check_url(url)
        except OutboundRefused as exc:
            errors["url"] = f"This URL cannot receive webhooks: {exc.reason}."
    events = list(dict.fromkeys(events or []))
    allowed = webhook_event_names()  # exactly what the apps registered (pmhub.webhooks)
    if not events or any(e not in allowed for e in events):
        errors["events"] = f"Choose events among: {', '.join(allowed)}."
    if errors:
        raise ValidationError(errors)
    return {"url": url[:500], "events": events, "description": (description or "").strip()[:200]}


@transaction.atomic
def webhook_endpoint_create(*, user, workspace, url: str, events: list[str], description: str = "") -> WebhookEndpoint:
    """Register an endpoint (workspace admins). Its secret is on the returned object: show it once."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    fields = _clean_webhook(url=url, events=events, description=description)
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, created_by=user, **fields)
    activity_record(workspace_id=workspace.id, actor=user, verb="added webhook", data={"url": endpoint.url})
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, user, endpoint: WebhookEndpoint, data: dict, version: int | None = None
) -> WebhookEndpoint:
    require_role(user=user, workspace_id=endpoint.workspace_id, role=Role.ADMIN)
    version_claim(instance=endpoint, expected_version=version)
    fields = _clean_webhook(url=data.get("url", endpoint.url), events=data.get("events", endpoint.events),
                            description=data.get("description", endpoint.description))
    for key, value in fields.items():
        setattr(endpoint, key, value)
    if "active" in data:
        endpoint.active = bool(data["active"])
        if endpoint.active:  # re-enabling gives the endpoint a fresh start
            endpoint.consecutive_failures, endpoint.disabled_at = 0, None
    endpoint.save()
    activity_record(workspace_id=endpoint.workspace_id, actor=user, verb="updated webhook", data={"url": endpoint.url})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, user, endpoint: WebhookEndpoint) -> None:
    require_role(user=user, workspace_id=endpoint.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=endpoint.workspace_id, actor=user, verb="deleted webhook", data={"url": endpoint.url})
    endpoint.delete()


def webhook_events_selected(workspace_id: int) -> frozenset[str]:
    """The events some active webhook endpoint of the workspace selected (cached by the caller)."""
    rows = WebhookEndpoint.objects.filter(workspace_id=workspace_id, active=True, kind="webhook")
    return frozenset(e for events in rows.values_list("events", flat=True) for e in (events or []))


def webhook_deliveries_create(*, workspace_id: int, event: str, payload: dict | None,
                              payloads: list[dict] | None = None) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the workspace that selected the event (and per payload
    when `payloads` names many objects); sent on commit."""
    if event not in subscribers_cached("webhooks", workspace_id, webhook_events_selected):
        return []  # no endpoint selected it: no query (pmhub/subscribers.py)
    endpoints = [e for e in WebhookEndpoint.objects.filter(workspace_id=workspace_id, active=True, kind="webhook")
                 if event in (e.events or [])]
    if not endpoints:
        return []
    # Dates and decimals from callers become JSON strings/numbers once, here.
    bodies = json.loads(json.dumps(payloads if payloads is not None else [payload], cls=DjangoJSONEncoder))
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event=event, payload=body) for body in bodies for e in endpoints],
        batch_size=1000)
    transaction.on_commit(partial(_webhook_enqueue, [d.id for d in deliveries]))
    return deliveries


def _webhook_enqueue(delivery_ids: list[int]) -> None:
    """Queue deliveries once the write that emitted them is committed. The rows are the outbox: a
    broker that is down must not turn a committed write into an error. They stay pending, and the
    beat sweep (webhook_deliveries_sweep) queues them once they are WEBHOOK_SWEEP_AFTER overdue."""
    from pmhub.celery import queue_or_leave

    from .tasks import webhook_deliver

    for queued, delivery_id in enumerate(delivery_ids):
        if not queue_or_leave(webhook_deliver, delivery_id):
            # Stop at the first failure: each further try would wait for the broker again.
            logger.warning("%d webhook deliveries not queued; the sweep will queue them", len(delivery_ids) - queued)
            return


def webhook_sign(*, secret: str, timestamp: int, body: str) -> str:
    """HMAC-SHA256 over f"{timestamp}.{body}", hex. Receivers recompute it and compare in constant time."""
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


class WebhookAttemptFailed(Exception):
    """One attempt failed; `permanent` when retrying cannot help (the outbound policy refused it)."""

    def __init__(self, reason: str, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after  # the receiver's Retry-After (a 429), honoured by the task


class WebhookClaimHeld(Exception):
    """Another worker is POSTing this delivery (a fresh claim): look again once the lease is over."""

    def __init__(self, retry_in: float):
        super().__init__(f"claimed by another worker; retry in {retry_in:.0f} s")
        self.retry_in = retry_in


def webhook_lease() -> timedelta:
    """How long a claim on a delivery is trusted: an attempt is one POST bounded by the timeout; a
    claim older than three timeouts belongs to a worker that died mid-POST."""
    return timedelta(seconds=3 * settings.WEBHOOK_TIMEOUT)


def _webhook_claim(*, delivery_id: int, now) -> bool:
    """One conditional UPDATE: of two messages for the same delivery (a redelivery, a sweep), only
    one POSTs at a time, and none after the delivery is no longer pending."""
    return bool(WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING)
                .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - webhook_lease()))
                .update(claimed_at=now))


def webhook_attempt(*, delivery_id: int) -> str:
    """Claim the delivery and POST it once; log status, time and error on the row and release the
    claim. Raises WebhookAttemptFailed, or WebhookClaimHeld when another worker is sending it."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(id=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return "skipped"
    if not delivery.endpoint.active:
        WebhookDelivery.objects.filter(id=delivery.id, status="pending").update(
            status=WebhookDelivery.Status.FAILED, error="Endpoint disabled before delivery.", claimed_at=None)
        return "skipped"
    now = timezone.now()
    if not _webhook_claim(delivery_id=delivery.id, now=now):
        claimed_at = (WebhookDelivery.objects.filter(id=delivery.id, status=WebhookDelivery.Status.PENDING)
                      .values_list("claimed_at", flat=True).first())
        if claimed_at is None:
            return "skipped"  # sent (or failed) by the other message meanwhile
        raise WebhookClaimHeld(retry_in=max((claimed_at + webhook_lease() - now).total_seconds(), 0) + 1)
    endpoint = delivery.endpoint
    kind = webhook_kind(endpoint.kind)
    if kind is not None:  # a Slack/Teams channel: its app shapes the request (pmhub.webhooks)
        try:
            url, body_bytes, headers = kind.build(delivery)
        except Exception as exc:  # an unreadable sealed URL: retrying cannot help
            WebhookDelivery.objects.filter(id=delivery.id).update(
                attempts=F("attempts") + 1, error=str(exc)[:200], last_attempt_at=timezone.now(), claimed_at=None)
            raise WebhookAttemptFailed(str(exc)[:200], permanent=True) from None
        return _webhook_post(delivery=delivery, endpoint=endpoint, url=url, body=body_bytes, headers=headers)
    body = json.dumps({"id": str(delivery.uuid), "event": delivery.event, "created_at": delivery.created_at.isoformat(),
                       "workspace_id": endpoint.workspace_id, "data": delivery.payload},
                      separators=(",", ":"), sort_keys=True, default=str)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json", "User-Agent": "PMHub-Webhooks/1",
        "X-PMHub-Event": delivery.event, "X-PMHub-Delivery": str(delivery.uuid),
        "X-PMHub-Signature": f"t={timestamp},v1={webhook_sign(secret=endpoint.secret, timestamp=timestamp, body=body)}",
    }
    return _webhook_post(delivery=delivery, endpoint=endpoint, url=endpoint.url, body=body.encode(), headers=headers)


def _webhook_post(*, delivery, endpoint, url: str, body: bytes, headers: dict) -> str:
    """One POST of a claimed delivery: log the outcome on the row, release the claim."""
    started = time.monotonic()
    status_code, error, elapsed, refused, retry_after = None, "", None, False, None
    # The URL is checked again here, not only on save: a row stored before the check existed, or a
    # name whose DNS answer changed since, must not reach an internal address (pmhub/outbound.py).
    try:
        response = outbound_post(url, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT)
        status_code, retry_after = response.status, response.retry_after
        # Timing only for an answer: the time a failed connection took tells what lies behind it.
        elapsed = int((time.monotonic() - started) * 1000)
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}" + (" (redirects are not followed)" if 300 <= status_code < 400 else "")
    except OutboundRefused as exc:
        error, refused = f"refused: {exc.reason}", True
    except OutboundFailed as exc:
        error = exc.reason
    ok = status_code is not None and 200 <= status_code < 300
    WebhookDelivery.objects.filter(id=delivery.id).update(
        attempts=F("attempts") + 1, response_status=status_code, response_ms=elapsed, error=error[:1000],
        last_attempt_at=timezone.now(), claimed_at=None, **({"status": WebhookDelivery.Status.SUCCESS} if ok else {}))
    if ok:
        WebhookEndpoint.objects.filter(id=endpoint.id).exclude(consecutive_failures=0).update(consecutive_failures=0)
        return "delivered"
    raise WebhookAttemptFailed(error, permanent=refused, retry_after=retry_after)


def webhook_retry_schedule(*, delivery_id: int, countdown: float) -> None:
    """A failed attempt is retried after `countdown` seconds: the sweep leaves it alone until then."""
    WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=countdown))


WEBHOOK_SWEEP_AFTER = timedelta(minutes=5)
WEBHOOK_SWEEP_BATCH = 1000


def webhook_deliveries_sweep() -> int:
    """Beat: queue pending deliveries whose attempt is more than WEBHOOK_SWEEP_AFTER overdue: never
    queued (the broker was down when the write committed) or their message lost (a Redis restarted
    without persistence). A delivery waiting for a retry (next_attempt_at ahead) or being POSTed (a
    fresh claim) is left alone. Each one queued is marked due now, so the sweep queues it again only
    if it is still pending five minutes later; a second message for a delivery is harmless, since
    the task claims the row and skips a delivery that is no longer pending. Returns how many."""
    from .tasks import webhook_deliver

    now = timezone.now()
    due = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                              next_attempt_at__lt=now - WEBHOOK_SWEEP_AFTER)
               .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - webhook_lease()))
               .order_by("next_attempt_at").values_list("id", flat=True)[:WEBHOOK_SWEEP_BATCH])
    if not due:
        return 0
    WebhookDelivery.objects.filter(id__in=due).update(next_attempt_at=now)
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    logger.info("webhook sweep queued %d overdue deliveries", len(due))
    return len(due)


def webhook_delivery_give_up(*, delivery_id: int) -> None:
    """Retries exhausted: the delivery fails; after WEBHOOK_DISABLE_AFTER failed deliveries in a row
    the endpoint is disabled and the workspace admins are notified."""
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED, claimed_at=None)
        if not updated:
            return
        endpoint_id = WebhookDelivery.objects.values_list("endpoint_id", flat=True).get(id=delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(id=endpoint_id)
        endpoint.consecutive_failures += 1
        disable = endpoint.active and endpoint.consecutive_failures >= WEBHOOK_DISABLE_AFTER
        if disable:
            endpoint.active, endpoint.disabled_at = False, timezone.now()
        endpoint.save(update_fields=["consecutive_failures", "active", "disabled_at"])
        if disable:
            from pmhub.models import User

            kind = webhook_kind(endpoint.kind)
            url = kind.page(endpoint) if kind else reverse(
                "reports:webhook_detail", kwargs={"ws": endpoint.workspace.slug, "endpoint_id": endpoint.id})
            what = f"{kind.label if kind else 'Webhook'} {(endpoint.url or endpoint.description)[:150]}"
            admins = User.objects.filter(memberships__workspace_id=endpoint.workspace_id,
                                         memberships__role__gte=Role.ADMIN)
            for admin in admins:
                notify(recipient=admin, kind=Notification.Kind.WEBHOOK_DISABLED,
                       title=f"{what} disabled after {endpoint.consecutive_failures} "
                             "failed deliveries", url=url, workspace_id=endpoint.workspace_id)

