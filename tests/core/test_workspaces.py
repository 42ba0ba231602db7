"""Workspaces, invitations, sign-in, the activity log and the demo seed."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from pmhub import services
from pmhub.models import Activity, Invitation, Membership, Role, User, Workspace
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_workspace_makes_the_creator_admin_and_logs_it(client_as, admin):
    response = client_as(admin).post(reverse("workspace_create"), {"name": "Initech", "time_zone": "Europe/Paris"})
    workspace = Workspace.objects.get(name="Initech")
    assert response.url == reverse("workspace_home", kwargs={"ws": workspace.slug})
    assert Membership.objects.get(user=admin, workspace=workspace).role == Role.ADMIN
    assert Activity.objects.filter(workspace=workspace, verb="created workspace", actor=admin).exists()


def test_workspace_home_is_empty_and_shows_activity(client_as, admin, workspace):
    services.activity_record(workspace_id=workspace.id, actor=admin, verb="tested the log")
    page = client_as(admin).get(reverse("workspace_home", kwargs={"ws": workspace.slug})).content.decode()
    assert "tested the log" in page


def test_home_redirects_to_workspace_or_creation(client_as, admin, workspace):
    assert client_as(admin).get("/").url == reverse("workspace_home", kwargs={"ws": "acme"})
    lonely = UserFactory()
    assert client_as(lonely).get("/").url == reverse("workspace_create")


def test_invitation_is_emailed_and_accepted_with_its_role(client_as, admin, workspace,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(admin).post(reverse("members", kwargs={"ws": "acme"}),
                                         {"email": "New@Example.com", "role": Role.EDITOR})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.com"]
    link = next(word for word in message.body.split() if "/invitations/" in word)
    path = link.split("127.0.0.1:8000", 1)[1]

    newcomer = UserFactory(email="new@example.com")
    client = client_as(newcomer)
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    assert Membership.objects.get(user=newcomer, workspace=workspace).role == Role.EDITOR
    assert Invitation.objects.get().accepted_by == newcomer
    # A second use of the same link does nothing more.
    client.post(path)
    assert Membership.objects.filter(user=newcomer).count() == 1


def test_invitation_cannot_be_accepted_by_another_address(client_as, admin, workspace):
    _, raw = services.invitation_create(user=admin, workspace=workspace, email="a@example.com", role=Role.ADMIN)
    intruder = UserFactory(email="b@example.com")
    client_as(intruder).post(f"/invitations/{raw}/")
    assert not Membership.objects.filter(user=intruder).exists()


def test_expired_invitation_is_refused(client_as, admin, workspace):
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        _, raw = services.invitation_create(user=admin, workspace=workspace, email="late@example.com", role=1 * 10)
    invitee = UserFactory(email="late@example.com")
    with time_machine.travel("2026-01-01 12:00Z", tick=False) as traveller:
        traveller.shift(timedelta(days=15))
        client_as(invitee).post(f"/invitations/{raw}/")
    assert not Membership.objects.filter(user=invitee).exists()


def test_invite_bad_email_is_a_field_error(client_as, admin, workspace):
    response = client_as(admin).post(reverse("members", kwargs={"ws": "acme"}), {"email": "nope", "role": 20})
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert not Invitation.objects.exists()


def test_last_admin_cannot_be_demoted(client_as, admin, workspace):
    membership = Membership.objects.get(user=admin)
    client_as(admin).post(reverse("member_role", kwargs={"ws": "acme", "membership_id": membership.id}),
                          {"role": Role.VIEWER})
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_sign_in_and_out(client, admin):
    response = client.post(reverse("login"), {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("workspace_home", kwargs={"ws": "acme"})).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("workspace_home", kwargs={"ws": "acme"})).status_code == 302


def test_sign_in_is_throttled_per_account(client, admin, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": admin.email, "password": "wrong"})
    response = client.post(reverse("login"), {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_sign_in_is_throttled_per_address(client, admin, viewer, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        client.post(reverse("login"), {"username": f"nobody{n}@example.com", "password": "wrong"})
    response = client.post(reverse("login"), {"username": viewer.email, "password": PASSWORD})
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_password_reset_sends_an_email_with_a_working_link(client, admin):
    client.post(reverse("password_reset"), {"email": admin.email})
    assert len(mail.outbox) == 1
    link = next(word for word in mail.outbox[0].body.split() if "/accounts/reset/" in word)
    path = "/" + link.split("/", 3)[3]
    response = client.get(path, follow=True)
    form_path = response.redirect_chain[-1][0]
    client.post(form_path, {"new_password1": "a-much-better-secret-42", "new_password2": "a-much-better-secret-42"})
    assert User.objects.get(id=admin.id).check_password("a-much-better-secret-42")


def test_signup_enforces_password_validators(client):
    from pmhub.services import signup_token

    # The password is chosen on the page of the e-mailed link (sign-up itself asks only the e-mail).
    response = client.post(reverse("signup_confirm", args=[signup_token(email="n@example.com", name="")]),
                           {"password": "12345"})
    assert response.status_code == 400
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(email="n@example.com").exists()


def test_seed_demo_is_idempotent(django_db_blocker):
    call_command("seed_demo")
    counts = _table_counts()
    call_command("seed_demo")
    assert _table_counts() == counts
    assert User.objects.get(email="demo@pmhub.local").check_password("pmhub-demo-2026")


def _table_counts():
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models()
            if m._meta.app_label in ("pmhub", "roadmaps", "backlog", "metrics", "adoption", "delivery", "reports")}


def test_check_deploy_has_no_warnings_with_production_settings(tmp_path):
    env = dict(os.environ, DEBUG="false", SECRET_KEY="x" * 20 + "-Very_Long-Random+Secret%Key=2026!zq",
               ALLOWED_HOSTS="pmhub.example.com", PMHUB_HTTPS="true", DATABASE_URL=f"sqlite:///{tmp_path}/db")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(
                                os.path.dirname(os.path.abspath(__file__)))))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_security_headers_are_present(client, admin):
    response = client.get(reverse("login"))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_schema_and_swagger_ui_are_served_without_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/workspaces/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in docs


def test_markdown_is_sanitised():
    from pmhub.markdown import render_markdown

    html = render_markdown("**hi** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    assert "<strong>hi</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


@pytest.mark.parametrize("n", [2, 12])
def test_workspace_home_has_a_fixed_query_count(client_as, viewer, workspace, n, django_assert_max_num_queries):
    """The home page's panels (products with progress, KPI health, iterations, reports, risks,
    approvals) read the same number of queries for 2 and 12 products."""
    from backlog.models import Story
    from roadmaps.models import Product

    products = Product.objects.bulk_create(Product(workspace=workspace, name=f"P{i}") for i in range(n))
    Story.objects.bulk_create(Story(product=p, title="s", status="done" if i % 2 else "idea", points=i % 5)
                              for p in products for i in range(5))
    c = client_as(viewer)
    url = f"/w/{workspace.slug}/"
    c.get(url)
    with django_assert_max_num_queries(12):  # 11, +1 when the unread count is not cached; 16 before 1956-1957
        response = c.get(url)
    assert response.status_code == 200
    assert all(f">P{i}<" in response.content.decode() for i in range(n))
