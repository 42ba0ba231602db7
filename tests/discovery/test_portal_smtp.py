"""The portal's e-mails through a real SMTP server (aiosmtpd on 127.0.0.1, Django's SMTP backend,
as the reports tests do): the sign-in link reaches the visitor and signs them in once; shipping the
linked release sends one e-mail per person with a working List-Unsubscribe link."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from backlog.models import Epic
from discovery import services
from discovery.models import Visitor
from roadmaps import services as roadmap_services
from roadmaps.models import Release
from tests.reports.smtp import RecordingHandler, SmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    server = SmtpServer(RecordingHandler()).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = 5
    yield server.handler
    server.stop()


@pytest.fixture
def portal(admin, product):
    return services.portal_save(user=admin, product=product, data={"slug": "acme", "name": "Acme ideas",
                                                                   "enabled": True})


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_signin_link_and_shipped_mail_go_through_a_real_smtp_server(smtp, admin, product, portal,
                                                                    django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("portal:signin", kwargs={"slug": portal.slug}),
                           {"email": "ana@globex.com"}).status_code == 200
    [link_mail] = smtp.messages
    assert link_mail["to"] == ["ana@globex.com"] and "Sign in to Acme ideas" in link_mail["message"]["Subject"]
    path = "/" + re.search(r"https?://\S+?(/portal/\S+/signin/\S+/)", _body(link_mail["message"])).group(1).lstrip("/")
    assert client.post(path).status_code == 302 and client.post(path).status_code == 400  # once
    ana = Visitor.objects.get(portal=portal, email="ana@globex.com")

    release = Release.objects.create(product=product, name="2.0")
    epic = Epic.objects.create(product=product, title="SSO", release=release)
    idea = services.idea_create(user=admin, product=product, data={"title": "Single sign-on", "published": True,
                                                                   "epics": [epic]})
    services.idea_vote(visitor=ana, idea=idea, importance=3)
    services.idea_vote(visitor=Visitor.objects.create(portal=portal, email="li@initech.com"), idea=idea, importance=1)
    with django_capture_on_commit_callbacks(execute=True):
        roadmap_services.release_mark_released(actor=admin, release=release)
    shipped = smtp.messages[1:]
    assert sorted(r for m in shipped for r in m["to"]) == ["ana@globex.com", "li@initech.com"]  # one each
    ana_mail = next(m["message"] for m in shipped if m["to"] == ["ana@globex.com"])
    assert "Single sign-on" in _body(ana_mail) and "li@initech.com" not in _body(ana_mail)
    unsubscribe = ana_mail["List-Unsubscribe"].strip("<>")
    assert Client().post("/" + unsubscribe.split("://", 1)[1].split("/", 1)[1]).status_code == 200
    assert Visitor.objects.get(pk=ana.pk).unsubscribed
