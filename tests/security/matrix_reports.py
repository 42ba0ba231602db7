"""Tenancy-matrix entries of the reports app. Format: see tests/security/README.md.

Builders reuse the reports tests' factories (tests/reports/factories.py). Payloads of the refused
page writes are valid forms, so a missing role check would really write and the snapshot would see it.
"""

from django.forms.models import model_to_dict

from reports.models import SECTION_KEYS, ReportRun
from tests.reports.factories import ProductFactory, SubscriptionFactory, WebhookEndpointFactory, subscribe

from .matrix import Exempt, Route

RUN_DATA = {"title": "t", "scope": "s", "period": "2026-W48", "period_label": "2026-W48",
            "workspace": {"name": "Acme", "slug": "acme"}, "today": "2026-11-26", "sections": []}


def _row(obj):
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _subscription(ws):
    return subscribe(SubscriptionFactory(product=ProductFactory(workspace=ws), name="Weekly"), "cfo@outside.test")


def _run(ws):
    return ReportRun.objects.create(subscription=_subscription(ws), period="2026-W48", status="sent",
                                    data=dict(RUN_DATA, workspace={"name": ws.name, "slug": ws.slug}))


def _endpoint(ws):
    return WebhookEndpointFactory(workspace=ws, url="https://hooks.acme.test/in", events=["story.created"])


def _subscription_state(sub):
    """The subscription row, its recipients and its runs (send_now creates a run)."""
    return (_row(sub), sorted(sub.recipients.values_list("id", "email", "unsubscribed_at")),
            sorted(ReportRun.objects.filter(subscription_id=sub.id).values_list("id", "status")))


def _subscription_form(sub):
    return {"name": "Pwned", "product": "", "cadence": "weekly", "weekday": "0", "day_of_month": "1", "hour": "8",
            "sections": [SECTION_KEYS[0]], "emails": "attacker@evil.test"}


# API: router basename -> Route (covers every detail route of the viewset, incl. @action(detail=True)).
API = {
    # report-subscription-detail, -preview, -runs, -send-now
    "report-subscription": Route(build=_subscription, payload=lambda s: {"name": "Pwned", "emails": ["a@evil.test"]},
                                 snapshot=_subscription_state),
    "webhook-endpoint": Exempt(
        "Admin-only resource: retrieve and deliveries need Role.ADMIN, so a viewer's GET is 403 where the matrix "
        "asserts 200 (it cannot express 'members below admin may not read'). Outsider 404 on every method incl. "
        "deliveries/, viewer and editor 403 on writes with the row unchanged: tests/reports/test_tenancy.py "
        "(test_api_outsider_gets_404, test_api_viewer_gets_403_on_writes, test_api_editor_cannot_manage_webhooks, "
        "test_api_webhook_deliveries_are_404_for_outsiders_and_403_for_viewers)."),
    "notification-preference": Exempt(
        "Per-user settings, not a workspace object: the URL key is a notification kind, and list/update read and "
        "write only request.user's NotificationPreference rows (reports.services.notification_preference_set"
        "(user=request.user)); no id of another user can be named, so there is no object for an outsider to reach "
        "and every member (viewers too) may set their own. Unknown kinds are 400 "
        "(tests/reports/test_notifications.py::test_preferences_api)."),
}

# Pages: URL name -> Route.
PAGES = {
    "reports:detail": Route(build=_subscription, payload=_subscription_form, snapshot=_subscription_state),
    "reports:delete": Route(build=_subscription, snapshot=_subscription_state),
    "reports:send_now": Route(build=_subscription, snapshot=_subscription_state),
    "reports:report": Route(build=_subscription, snapshot=_subscription_state),
    "reports:run": Route(build=_run),
    "reports:webhook_detail": Route(build=_endpoint, payload=lambda e: {"action": "disable"}),
    # Workspace-level page with an entry only to say that a viewer may POST to it.
    "reports:preview": Route(build=lambda ws: ws, viewer_may={
        "post": "a preview only builds the report (no write); POST keeps the CSRF token out of URLs"}),
    "reports:unsubscribe": Exempt(
        "No sign-in by design (RFC 8058 one-click unsubscribe): the credential is the token in the URL, signed "
        "with SECRET_KEY (django.core.signing, salt UNSUBSCRIBE_SALT) over the recipient id and e-mail, and the "
        "recipient's subscription must belong to the `ws` in the URL; a tampered token or another workspace's "
        "slug is 404 and changes nothing (tests/reports/test_pages.py::test_a_tampered_unsubscribe_link_is_404)."),
}

# Viewsets that do not derive from pmhub.api.base.ScopedViewSet: basename -> reason.
API_BASE_EXCEPTIONS = {
    "notification-preference": "Per-user notification e-mail settings keyed by kind: every action reads or writes "
                               "only request.user's rows (reports.services.notification_preferences_for / "
                               "notification_preference_set(user=request.user)); no workspace to scope by. "
                               "Guarded by WorkspaceRole with AUTHENTICATED (sign-in required).",
}
