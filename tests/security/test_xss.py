"""Every payload of xss_corpus.py entered in the core's name fields (workspace name, user name,
token name, invitation e-mail where valid) comes out inert in pages and e-mails."""

import pytest
from django.core import mail
from django.urls import reverse

from pmhub import services
from pmhub.markdown import render_markdown
from pmhub.models import Role, User, Workspace

from .htmlcheck import unsafe_parts
from .xss_corpus import MARKER, PAYLOADS

pytestmark = pytest.mark.django_db

CORE_PAGES = ["workspace_home", "members", "activity", "workspace_settings"]
# Case i puts payload i+k into field k (5 fields at once): across the cases every payload is
# tried in every field.
FIELDS = 5
GROUPS = [[PAYLOADS[(i + k) % len(PAYLOADS)] for k in range(FIELDS)] for i in range(len(PAYLOADS))]


def _assert_inert(html, where):
    problems = unsafe_parts(html, MARKER)
    assert not problems, f"{where}: {problems}"


def test_the_checker_catches_live_payloads():
    assert unsafe_parts("<script>alert('pmhx')</script>", MARKER)
    assert unsafe_parts("<img src=x onerror=alert(1)>", MARKER)
    assert unsafe_parts('<a href=" JavaScript:alert(1)">x</a>', MARKER)
    assert not unsafe_parts('<script src="/static/js/pmhub.js"></script><a href="/w/acme/">ok</a>', MARKER)


def test_the_checker_allows_only_escaped_json_data_blocks():
    from django.utils.html import json_script

    assert not unsafe_parts(json_script({"t": PAYLOADS[0]}, "d"), MARKER)
    assert unsafe_parts('<script type="application/json">{"t": "<!--<script>pmhx"}</script>', MARKER)
    assert unsafe_parts('<script type="text/javascript">alert("pmhx")</script>', MARKER)
    assert unsafe_parts('<script type="module">alert("pmhx")</script>', MARKER)
    assert unsafe_parts('<script type="application/json" src="//evil.test/pmhx"></script>', MARKER)


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: str(PAYLOADS.index(g[0])))
def test_payload_in_workspace_user_and_token_names_is_inert_in_pages(group, client_as, admin, editor, workspace):
    ws_name, admin_name, editor_name, token_name, data = group
    Workspace.objects.filter(pk=workspace.pk).update(name=ws_name[:120])
    User.objects.filter(pk=admin.pk).update(name=admin_name[:150])
    User.objects.filter(pk=editor.pk).update(name=editor_name[:150])
    client = client_as(admin)
    client.post(reverse("api_tokens"), {"name": token_name[:100], "workspace": workspace.id, "scope": "read"})
    services.activity_record(workspace_id=workspace.id, actor=editor, verb="renamed", target=workspace,
                             data={"name": data})
    for name in CORE_PAGES:
        response = client.get(reverse(name, kwargs={"ws": workspace.slug}))
        assert response.status_code == 200
        _assert_inert(response.content.decode(), name)
    for name in ("api_tokens", "notifications"):
        _assert_inert(client.get(reverse(name)).content.decode(), name)


@pytest.mark.parametrize("index", range(len(PAYLOADS)))
def test_payload_in_names_is_inert_in_the_invitation_email(index, client_as, admin, workspace,
                                                            django_capture_on_commit_callbacks):
    Workspace.objects.filter(pk=workspace.pk).update(name=PAYLOADS[index][:120])
    User.objects.filter(pk=admin.pk).update(name=PAYLOADS[(index + 1) % len(PAYLOADS)][:150])
    with django_capture_on_commit_callbacks(execute=True):
        client_as(admin).post(reverse("members", kwargs={"ws": workspace.slug}),
                              {"email": "friend@example.com", "role": Role.VIEWER})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            _assert_inert(content, "invitation e-mail (HTML)")
    assert "\n" not in message.subject and "\r" not in message.subject


@pytest.mark.parametrize("email", ['"<script>alert(1)</script>"@example.com', "x@example.com<svg/onload=alert(1)>",
                                   "javascript:alert(1)@example.com"])
def test_payload_as_invitation_email_is_refused_or_inert(email, client_as, admin, workspace):
    client = client_as(admin)
    response = client.post(reverse("members", kwargs={"ws": workspace.slug}), {"email": email, "role": Role.VIEWER},
                           follow=True)
    _assert_inert(response.content.decode(), "members after invitation")
    _assert_inert(client.get(reverse("members", kwargs={"ws": workspace.slug})).content.decode(), "members")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_rendering_of_payloads_is_inert(payload):
    _assert_inert(render_markdown(payload), "markdown filter")


def test_payloads_in_api_json_are_returned_as_data(api_as, admin, workspace):
    client = api_as(admin)
    for payload in PAYLOADS:
        version = Workspace.objects.get(pk=workspace.pk).version
        response = client.patch(f"/api/v1/workspaces/{workspace.id}/", {"name": payload[:120], "version": version},
                                format="json")
        assert response.status_code == 200
        assert response.json()["name"] == payload[:120].strip()
        assert response["Content-Type"].startswith("application/json")
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url", ["javascript:alert('pmhx')", " JavaScript:alert(1)", "data:text/html,<script>1</script>",
                                 "//evil.test/pmhx", "https://evil.test/pmhx", "/\\evil.test"])
def test_notification_links_only_point_to_us(url, client_as, admin, workspace):
    notification = services.notify(recipient=admin, kind="other", title=PAYLOADS[0], url=url, workspace_id=workspace.id)
    assert notification.url == ""
    html = client_as(admin).get(reverse("notifications")).content.decode()
    _assert_inert(html, "notifications")
    assert "evil.test" not in html


def test_notification_links_to_our_pages_are_kept(admin, workspace, settings):
    assert services.notify(recipient=admin, kind="other", title="t", url="/w/acme/").url == "/w/acme/"
    own = settings.SITE_URL + "/w/acme/"
    assert services.notify(recipient=admin, kind="other", title="t", url=own).url == own


def test_line_breaks_in_a_workspace_name_do_not_reach_the_invitation_subject(api_as, client_as, admin, workspace,
                                                                              django_capture_on_commit_callbacks):
    response = api_as(admin).patch(f"/api/v1/workspaces/{workspace.id}/", {"name": "Acme\r\nBcc: victim@example.com",
                                                                                  "version": workspace.version},
                                   format="json")
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client_as(admin).post(reverse("members", kwargs={"ws": workspace.slug}),
                              {"email": "friend@example.com", "role": Role.VIEWER})
    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject and message.bcc == []
