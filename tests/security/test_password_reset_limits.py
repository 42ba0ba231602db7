"""The password-reset form is limited like sign-in (docs/decisions/1414-password-reset-limits.md):
per client address (then the form says so, 429) and per e-mail address (then no more mail, same
page), and it never tells whether an address has an account."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _ask(email, addr="10.0.0.1"):
    return Client().post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=addr)


def test_a_reset_within_the_limit_mails_the_link(settings):
    UserFactory(email="owner@acme.test")
    response = _ask("owner@acme.test")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


def test_one_address_is_stopped_after_the_limit_with_words(settings):
    settings.PASSWORD_RESET_LIMIT = 3
    UserFactory(email="owner@acme.test")
    for n in range(3):
        assert _ask(f"someone{n}@acme.test").status_code == 302
    refused = _ask("owner@acme.test")
    assert refused.status_code == 429
    assert "Too many password-reset requests" in refused.content.decode()
    assert 'value="owner@acme.test"' in refused.content.decode()  # what was typed stays
    assert mail.outbox == []  # nobody of those had an account; the owner's request was refused
    assert _ask("owner@acme.test", addr="10.0.0.2").status_code == 302  # another network is not blocked
    assert len(mail.outbox) == 1


def test_one_mailbox_gets_no_more_than_the_limit_and_the_page_does_not_tell(settings):
    settings.PASSWORD_RESET_LIMIT = 2
    UserFactory(email="owner@acme.test")
    answers = [_ask("Owner@Acme.test ", addr=f"10.0.1.{n}") for n in range(5)]
    assert [a.status_code for a in answers] == [302] * 5  # same answer every time
    assert len(mail.outbox) == 2  # then no more mail to that mailbox


def test_unknown_and_known_addresses_get_the_same_answer(settings):
    UserFactory(email="owner@acme.test")
    known, unknown = _ask("owner@acme.test", "10.0.2.1"), _ask("nobody@acme.test", "10.0.2.2")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])


def test_a_bad_address_is_a_field_error_not_a_throttle():
    response = _ask("not-an-address")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
