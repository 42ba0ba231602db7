"""Open redirects: every view that honours `next` sends a hostile one to a safe default, never
off-site and never a 500. Generated over HOSTILE_NEXT x every view in NEXT_VIEWS; a source scan
makes sure no view reads `next` other than through pmhub.utils.safe_next (or Django's own
LoginView/LogoutView, which NEXT_VIEWS covers)."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from pmhub.services import signup_token
from tests.factories import PASSWORD, UserFactory
from tests.roadmaps.factories import InitiativeFactory, ProductFactory

pytestmark = pytest.mark.django_db

HOSTILE_NEXT = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "https:/evil.example",
    "http:evil.example",
    "https://testserver@evil.example/",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
]
LOCAL_NEXT = "/notifications/?tab=all"


def _login(client, user):
    client.force_login(user)
    return client


# Each case: (name, make(client, world, next) -> response). `world` holds the users and objects.
def _sign_in(client, world, nxt):
    return client.post(reverse("login"), {"username": world["admin"].email, "password": PASSWORD, "next": nxt})


def _sign_in_query(client, world, nxt):
    return client.post(f"{reverse('login')}?next={nxt}", {"username": world["admin"].email, "password": PASSWORD})


def _admin_sign_in(client, world, nxt):
    return client.post(f"{reverse('admin:login')}?next={nxt}", {"username": world["staff"].email,
                                                                "password": PASSWORD, "next": nxt})


def _sign_out(client, world, nxt):
    return _login(client, world["admin"]).post(reverse("logout"), {"next": nxt})


def _sign_up_page(client, world, nxt):
    return client.get(reverse("signup"), {"next": nxt})


def _sign_up_post(client, world, nxt):
    return client.post(f"{reverse('signup')}?next={nxt}", {"email": "newcomer@example.com", "name": "N"})


def _sign_up_confirm(client, world, nxt):
    token = signup_token(email="newcomer@example.com", name="N")
    return client.post(reverse("signup_confirm", args=[token]) + f"?next={nxt}",
                       {"password": "a-long-unusual-phrase-77"})


def _sso_start_page(client, world, nxt):
    return client.get(reverse("sso:start"), {"next": nxt})


def _initiative_form(client, world, nxt):
    product = world["product"]
    return _login(client, world["admin"]).post(
        reverse("roadmaps:initiative_new", kwargs={"ws": product.workspace.slug, "product_id": product.id}),
        {"title": "Redirected", "status": "planned", "confidence": 50, "next": nxt})


def _initiative_form_page(client, world, nxt):
    product = world["product"]
    return _login(client, world["admin"]).get(
        reverse("roadmaps:initiative_new", kwargs={"ws": product.workspace.slug, "product_id": product.id}),
        {"next": nxt})


def _initiative_move(client, world, nxt):
    product, initiative = world["product"], world["initiative"]
    return _login(client, world["admin"]).post(
        reverse("roadmaps:initiative_move", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                    "initiative_id": initiative.id}),
        {"horizon": "next", "next": nxt})


def _story_status(client, world, nxt):
    from backlog.models import Story

    product = world["product"]
    story = Story.objects.create(product=product, title="Redirected")
    return _login(client, world["admin"]).post(
        reverse("backlog:story_status", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                "story_id": story.id}),
        {"status": "ready", "version": story.version, "next": nxt})


NEXT_VIEWS = {
    "sign in (form field)": _sign_in,
    "sign in (query)": _sign_in_query,
    "admin sign in": _admin_sign_in,
    "sign out": _sign_out,
    "sign up page": _sign_up_page,
    "sign up": _sign_up_post,
    "sign up confirm": _sign_up_confirm,
    "sso start page": _sso_start_page,  # the sign-in's end is tested in tests/sso/test_oidc.py
    "initiative form": _initiative_form,
    "initiative form page": _initiative_form_page,
    "initiative move": _initiative_move,
    "story status (board)": _story_status,
}
# The only modules that may touch `next` by hand, and why.
NEXT_READERS = {
    "pmhub/utils.py": "safe_next itself",
    "pmhub/admin.py": "admin_login replaces the admin's `next` by safe_next's answer (view 'admin sign in')",
}


@pytest.fixture
def world(workspace, admin):
    product = ProductFactory(workspace=workspace)
    staff = UserFactory(email="staff@acme.test", is_staff=True, is_superuser=True)
    return {"admin": admin, "staff": staff, "product": product, "initiative": InitiativeFactory(product=product)}


def _assert_stays_on_site(response, hostile):
    assert response.status_code < 500
    if 300 <= response.status_code < 400:
        location = response["Location"]
        parts = urlsplit(location)
        assert not parts.scheme and not parts.netloc, location
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    body = response.content.decode(errors="replace")
    assert "evil.example" not in body and "javascript:" not in body.lower() and "data:text" not in body


@pytest.mark.parametrize("view", sorted(NEXT_VIEWS))
@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_a_hostile_next_goes_to_a_safe_default(view, hostile, world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = NEXT_VIEWS[view](Client(), world, hostile)
    _assert_stays_on_site(response, hostile)
    for mail in mailoutbox:  # the sign-up mail carries next into its link: only a safe one
        assert "evil.example" not in mail.body and "javascript" not in mail.body.lower()


@pytest.mark.parametrize("view", sorted(NEXT_VIEWS))
def test_a_local_next_is_honoured(view, world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = NEXT_VIEWS[view](Client(), world, LOCAL_NEXT)
    assert response.status_code < 400, response.status_code
    if response.status_code in (301, 302):
        assert response["Location"] == LOCAL_NEXT
    elif view == "sign up":
        [mail] = mailoutbox
        assert "next=%2Fnotifications%2F%3Ftab%3Dall" in mail.body
    else:  # a page that carries it on in a hidden field
        assert f'name="next" value="{LOCAL_NEXT}"' in response.content.decode()


def test_no_view_reads_next_except_through_safe_next():
    """A new view that reads request.GET/POST["next"] by hand fails here: it must call safe_next."""
    root = Path(settings.BASE_DIR)
    pattern = re.compile(r"""(GET|POST|REQUEST|data)(\.get\(|\[)\s*["']next["']""")
    readers = set()
    for app in ["pmhub", *settings.DOMAIN_APPS]:
        for path in (root / app).rglob("*.py"):
            if pattern.search(path.read_text()):
                readers.add(str(path.relative_to(root)))
    assert readers == set(NEXT_READERS)
