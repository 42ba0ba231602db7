"""In-app notifications also go by e-mail when the recipient's preference says so."""

import pytest
from django.core import mail

from pmhub.services import notify
from reports import services
from reports.models import NotificationEmail
from reports.tasks import notification_email_send

pytestmark = pytest.mark.django_db


def test_notification_is_mailed_on_commit_by_default(editor, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(recipient=editor, kind="assignment", title="You own “Checkout”", url="/w/acme/", workspace_id=workspace.id)
        assert mail.outbox == []  # nothing before the commit
    assert len([c for c in callbacks if getattr(c, "func", None) == notification_email_send.delay]) == 1
    [message] = mail.outbox
    assert message.to == [editor.email] and message.subject == "You own “Checkout”"
    assert "/account/notifications/" in message.body


def test_preference_off_means_no_email(editor, workspace, django_capture_on_commit_callbacks):
    services.notification_preference_set(user=editor, kind="assignment", email=False)
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=editor, kind="assignment", title="x", workspace_id=workspace.id)
        notify(recipient=editor, kind="mention", title="y", workspace_id=workspace.id)
    assert [m.subject for m in mail.outbox] == ["y"]


def test_kinds_without_email_are_not_mailed(editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=editor, kind="other", title="z")
    assert mail.outbox == []


def test_notification_email_task_is_idempotent(editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(recipient=editor, kind="mention", title="Hi")
    notification_email_send.apply(args=[note.id])
    assert len(mail.outbox) == 1
    assert NotificationEmail.objects.get(notification=note).status == "sent"


def test_preferences_page_saves_choices(client_as, editor):
    client = client_as(editor)
    assert client.get("/account/notifications/").status_code == 200
    response = client.post("/account/notifications/", {"mention": "on"})
    assert response.status_code == 302
    prefs = {p["kind"]: p["email"] for p in services.notification_preferences_for(user=editor)}
    assert prefs["mention"] is True and prefs["assignment"] is False


def test_preferences_page_needs_sign_in(client):
    assert client.get("/account/notifications/").status_code == 302


def test_preferences_api(api, editor):
    api.force_authenticate(editor)
    listed = api.get("/api/v1/notification-preferences/").json()
    assert {p["kind"] for p in listed} >= {"mention", "report_failed", "webhook_disabled"}
    response = api.patch("/api/v1/notification-preferences/mention/", {"email": False}, format="json")
    assert response.status_code == 200 and response.json()["email"] is False
    assert api.patch("/api/v1/notification-preferences/bogus/", {"email": False}, format="json").status_code == 400
    assert not services.wants_email(user_id=editor.id, kind="mention")
