"""Sign-in abuse: one lockout for every sign-in form (the site's and the admin's), counted per
account and per real client address (behind API_NUM_PROXIES proxies), a locked account still
reachable through a password reset, and a sign-up that never tells whether an address has an account."""

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from pmhub.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed sign-in attempts"
SIGN_IN_URLS = {"site": "login", "admin": "admin:login"}


def _post(url_name, email, password, client=None, **meta):
    client = client or Client()
    return client, client.post(reverse(url_name), {"username": email, "password": password}, **meta)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@acme.test", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("locked_through", sorted(SIGN_IN_URLS))
@pytest.mark.parametrize("tried_through", sorted(SIGN_IN_URLS))
def test_failures_on_either_sign_in_lock_both(locked_through, tried_through, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        _post(SIGN_IN_URLS[locked_through], staff.email, "wrong", REMOTE_ADDR=f"10.1.0.{n}")
    client, response = _post(SIGN_IN_URLS[tried_through], staff.email, PASSWORD, REMOTE_ADDR="10.1.1.1")
    assert THROTTLED in response.content.decode() and not _signed_in(client)


@pytest.mark.parametrize("through", sorted(SIGN_IN_URLS))
def test_the_address_lockout_holds_on_either_sign_in(through, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        _post(SIGN_IN_URLS["site" if through == "admin" else "admin"], f"ghost{n}@acme.test", "wrong",
              REMOTE_ADDR="10.2.0.1")
    client, response = _post(SIGN_IN_URLS[through], staff.email, PASSWORD, REMOTE_ADDR="10.2.0.1")
    assert THROTTLED in response.content.decode() and not _signed_in(client)


@pytest.mark.parametrize("through", sorted(SIGN_IN_URLS))
def test_staff_sign_in_works_on_either_form_when_not_locked(through, staff):
    client, response = _post(SIGN_IN_URLS[through], staff.email, PASSWORD, REMOTE_ADDR="10.3.0.1")
    assert response.status_code == 302 and _signed_in(client)


def test_admin_login_is_throttled_without_limit_of_tries(staff, settings):
    """The hole found: unlimited guesses at /admin/login/. Now the right password fails after the limit."""
    settings.LOGIN_FAILURE_LIMIT = 5
    for n in range(20):
        _post("admin:login", staff.email, f"guess-{n}", REMOTE_ADDR=f"10.4.{n}.1")
    client, response = _post("admin:login", staff.email, PASSWORD, REMOTE_ADDR="10.4.99.1")
    assert not _signed_in(client) and THROTTLED in response.content.decode()


# --- the real client address behind a proxy ----------------------------------------------------
PROXY = "172.20.0.2"


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_everyone(admin, viewer, settings):
    settings.NUM_PROXIES = 1
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(10):  # an attacker, through the proxy, trying many accounts
        _post("login", f"ghost{n}@acme.test", "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # another person behind the same proxy signs in
    client, response = _post("login", viewer.email, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert response.status_code == 302 and _signed_in(client)
    # while the attacker is locked, whatever it puts in front of the header the proxy appends to
    client, response = _post("login", admin.email, PASSWORD, REMOTE_ADDR=PROXY,
                             HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.7")
    assert THROTTLED in response.content.decode()


def test_without_the_proxy_setting_the_forwarded_header_is_ignored(admin, settings):
    settings.NUM_PROXIES = 0
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):  # a client naming a new address each time does not escape its lockout
        _post("login", f"ghost{n}@acme.test", "wrong", REMOTE_ADDR="10.5.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
    client, response = _post("login", admin.email, PASSWORD, REMOTE_ADDR="10.5.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert THROTTLED in response.content.decode() and not _signed_in(client)


# --- a locked account stays reachable -----------------------------------------------------------
def _reset_link(client, mailoutbox, email):
    client.post(reverse("password_reset"), {"email": email})
    [mail] = mailoutbox
    return "/" + re.search(r"https?://[^/\s]+/(\S+)", mail.body).group(1)


@pytest.mark.parametrize("attacker_addresses", [1, 25])
def test_a_locked_account_is_reachable_through_a_password_reset(attacker_addresses, admin, settings, mailoutbox):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(30):  # anyone can lock a named account
        _post("login", admin.email, "wrong", REMOTE_ADDR=f"10.6.{n % attacker_addresses}.1")
    assert THROTTLED in _post("login", admin.email, PASSWORD, REMOTE_ADDR="10.7.0.1")[1].content.decode()

    owner = Client(REMOTE_ADDR="10.7.0.1")
    link = _reset_link(owner, mailoutbox, admin.email)
    form_page = owner.get(link, follow=True).redirect_chain[-1][0]
    response = owner.post(form_page, {"new_password1": "a-fresh-long-phrase-31", "new_password2": "a-fresh-long-phrase-31"})

    assert response.status_code == 302 and _signed_in(owner)  # signed in by the reset itself
    assert int(owner.session["_auth_user_id"]) == admin.id
    # and the account's counter is cleared: the owner can sign in with the new password elsewhere
    client, response = _post("login", admin.email, "a-fresh-long-phrase-31", REMOTE_ADDR="10.8.0.1")
    assert response.status_code == 302 and _signed_in(client)


def test_a_reset_link_does_not_clear_the_address_counter_of_the_attacker(admin, settings, mailoutbox):
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        _post("login", f"ghost{n}@acme.test", "wrong", REMOTE_ADDR="10.9.0.1")
    owner = Client()
    link = _reset_link(owner, mailoutbox, admin.email)
    form_page = owner.get(link, follow=True).redirect_chain[-1][0]
    owner.post(form_page, {"new_password1": "a-fresh-long-phrase-31", "new_password2": "a-fresh-long-phrase-31"})
    assert THROTTLED in _post("login", admin.email, "a-fresh-long-phrase-31", REMOTE_ADDR="10.9.0.1")[1].content.decode()


# --- sign-up says nothing about existing accounts -----------------------------------------------
def _normalised(response, email):
    html = response.content.decode().replace(email, "EMAIL")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)  # the per-response CSRF token htmx sends


def _sign_up(email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return Client().post(reverse("signup"), {"email": email, "name": "Someone"})


def test_sign_up_answers_the_same_for_a_taken_and_a_free_address(admin, mailoutbox,
                                                                 django_capture_on_commit_callbacks):
    taken = _sign_up(admin.email, django_capture_on_commit_callbacks)
    free = _sign_up("free@acme.test", django_capture_on_commit_callbacks)
    assert taken.status_code == free.status_code == 200
    assert [t.name for t in taken.templates] == [t.name for t in free.templates]
    assert _normalised(taken, admin.email) == _normalised(free, "free@acme.test")
    assert User.objects.filter(email="free@acme.test").count() == 0  # no row before the link is used
    # the difference is only in the mailboxes
    by_to = {m.to[0]: m for m in mailoutbox}
    assert "already has one" in by_to[admin.email].body and "choose your password" not in by_to[admin.email].body
    assert reverse("password_reset") in by_to[admin.email].body
    assert "choose your password" in by_to["free@acme.test"].body


def test_the_link_creates_the_account_and_signs_in(mailoutbox, django_capture_on_commit_callbacks):
    _sign_up("new@acme.test", django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    link = "/" + re.search(r"https?://[^/\s]+/(\S+)", mail.body).group(1)
    client = Client()
    assert client.get(link).status_code == 200
    response = client.post(link, {"password": "a-long-unusual-phrase-77"})
    assert response.status_code == 302 and response["Location"] == reverse("home") and _signed_in(client)
    user = User.objects.get(email="new@acme.test")
    assert user.name == "Someone" and user.check_password("a-long-unusual-phrase-77")
    # the same link again creates nothing and sends to the sign-in page
    again = Client().post(link, {"password": "another-long-phrase-88"})
    assert again.status_code == 302 and again["Location"] == reverse("login")
    assert User.objects.filter(email="new@acme.test").count() == 1
    assert User.objects.get(email="new@acme.test").check_password("a-long-unusual-phrase-77")


def test_an_expired_or_forged_link_is_refused(mailoutbox, settings, django_capture_on_commit_callbacks):
    with time_machine.travel("2026-12-01 10:00Z", tick=False):
        _sign_up("late@acme.test", django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    link = "/" + re.search(r"https?://[^/\s]+/(\S+)", mail.body).group(1)
    with time_machine.travel("2026-12-01 10:00Z", tick=False) as traveller:
        traveller.shift(settings.SIGNUP_LINK_MAX_AGE + 1)
        assert Client().post(link, {"password": "a-long-unusual-phrase-77"}).status_code == 400
        forged = reverse("signup_confirm", args=["eyJlbWFpbCI6Im1lQGV2aWwifQ:forged:sig"])
        assert Client().post(forged, {"password": "a-long-unusual-phrase-77"}).status_code == 400
    assert not User.objects.filter(email="late@acme.test").exists()


def test_a_bad_sign_up_form_is_a_400_and_sends_nothing(mailoutbox, django_capture_on_commit_callbacks):
    response = _sign_up("not-an-address", django_capture_on_commit_callbacks)
    assert response.status_code == 400 and "email" in response.context["form"].errors and mailoutbox == []
