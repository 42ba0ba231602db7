"""Intake channels: the inbound SMTP listener (a real message over a socket) files each message to
the product of its address once; the embeddable form posts from listed origins only, rate limited,
with a honeypot; admins manage both."""

import smtplib
import socket
from email.message import EmailMessage

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from discovery import services
from discovery.models import InboundEmail, Insight, Intake
from discovery.smtp import controller
from tests.roadmaps.factories import ProductFactory

from .factories import CompanyFactory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _message(to, subject="Exports", body="Please add CSV exports to dashboards.", sender="Ana <ana@globex.com>",
             message_id="<m1@globex.com>"):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, message_id
    msg.set_content(body + "\n\n> quoted earlier mail\n")
    return msg


@pytest.mark.django_db(transaction=True)
def test_listener_files_a_real_message_to_the_product_of_its_address_once(workspace, settings):
    settings.INBOUND_EMAIL_DOMAIN = "inbox.test"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    product = ProductFactory(workspace=workspace)
    other = ProductFactory(workspace=workspace)
    company = CompanyFactory(product=product, domain="globex.com")
    address = services.intake_of(product).email_address
    services.intake_of(other)
    port = _free_port()
    server = controller(host="127.0.0.1", port=port)
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(_message(address))
            smtp.send_message(_message(address))  # the same Message-ID again: filed once
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.send_message(_message("nobody@inbox.test", message_id="<m2@globex.com>"))
    finally:
        server.stop()
    insight = Insight.objects.get()
    assert (insight.product_id, insight.channel, insight.title) == (product.id, "email", "Exports")
    assert insight.text == "Please add CSV exports to dashboards."  # the quoted part is dropped
    assert insight.person.email == "ana@globex.com" and insight.company_id == company.id
    assert InboundEmail.objects.get().status == "filed" and InboundEmail.objects.get().raw is None
    assert not Insight.objects.filter(product=other).exists()


@pytest.mark.django_db
def test_inbound_email_file_is_idempotent_and_html_is_text(workspace, settings, django_capture_on_commit_callbacks):
    product = ProductFactory(workspace=workspace)
    raw = (b"From: Bo <bo@initech.com>\r\nSubject: Charts\r\nMessage-ID: <h1@x>\r\nContent-Type: text/html\r\n\r\n"
           b"<p>Charts into <b>slides</b></p><script>alert(1)</script>")
    with django_capture_on_commit_callbacks(execute=True):
        email = services.inbound_email_receive(product=product, raw=raw)
    assert services.inbound_email_receive(product=product, raw=raw) is None
    assert services.inbound_email_file(email_id=email.id) == "skipped"
    insight = Insight.objects.get()
    assert "<" not in insight.text and "Charts into slides" in insight.text


@pytest.fixture
def open_form(product):
    intake = services.intake_of(product)
    Intake.objects.filter(pk=intake.pk).update(form_enabled=True, form_origins="https://app.example.com")
    intake.refresh_from_db()
    return intake


def _post(body, origin="https://app.example.com", address="10.0.0.1"):
    client = APIClient()
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    return client.post("/api/public/v1/feedback/", body, format="json", REMOTE_ADDR=address, **extra)


@pytest.mark.django_db
def test_form_post_from_a_listed_origin_files_an_insight(open_form, product):
    response = _post({"key": open_form.form_key, "text": "Love it, want dark mode", "email": "li@initech.com"})
    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    insight = Insight.objects.get()
    assert (insight.product_id, insight.channel, insight.person.email) == (product.id, "form", "li@initech.com")


@pytest.mark.django_db
def test_form_refuses_unlisted_origins_unknown_keys_and_closed_forms(open_form):
    assert _post({"key": open_form.form_key, "text": "x"}, origin="https://evil.example").status_code == 403
    assert _post({"key": open_form.form_key, "text": "x"}, origin=None).status_code == 403
    assert _post({"key": "pmhf_nope", "text": "x"}).status_code == 403
    Intake.objects.filter(pk=open_form.pk).update(form_enabled=False)
    assert _post({"key": open_form.form_key, "text": "x"}).status_code == 403
    assert not Insight.objects.exists()


@pytest.mark.django_db
def test_form_honeypot_answers_alike_and_stores_nothing(open_form):
    response = _post({"key": open_form.form_key, "text": "Buy pills", "website": "http://spam.example"})
    assert response.status_code == 202 and not Insight.objects.exists()


@pytest.mark.django_db
def test_form_is_rate_limited_per_address(open_form, settings):
    settings.DISCOVERY_PUBLIC_RATE = "2/min"
    codes = [_post({"key": open_form.form_key, "text": f"n{i}"}).status_code for i in range(3)]
    assert codes == [202, 202, 429]
    assert _post({"key": open_form.form_key, "text": "other"}, address="10.0.0.2").status_code == 202


@pytest.mark.django_db
def test_form_preflight_names_only_listed_origins(open_form):
    client = APIClient()
    ok = client.options("/api/public/v1/feedback/", HTTP_ORIGIN="https://app.example.com")
    assert ok["Access-Control-Allow-Origin"] == "https://app.example.com"
    bad = client.options("/api/public/v1/feedback/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in bad


@pytest.mark.django_db
def test_admin_opens_the_form_lists_origins_and_renews_keys(client_as, admin, editor, workspace, product):
    url = reverse("discovery:intake", kwargs={"ws": workspace.slug, "product_id": product.id})
    assert client_as(editor).get(url).status_code == 403
    client = client_as(admin)
    page = client.get(url).content.decode()
    intake = Intake.objects.get(product=product)
    assert intake.email_address in page and intake.form_key in page
    bad = client.post(url, {"form_enabled": "on", "form_origins": "javascript:alert(1)", "version": intake.version})
    assert bad.status_code == 400
    ok = client.post(url, {"form_enabled": "on", "form_origins": "https://App.example.com/\n", "version": 1})
    assert ok.status_code == 302
    intake.refresh_from_db()
    assert intake.form_enabled and intake.origins == ["https://app.example.com"]
    old = intake.form_key
    assert client.post(url, {"action": "rotate"}).status_code == 302
    intake.refresh_from_db()
    assert intake.form_key != old


@pytest.mark.django_db
def test_intake_page_outsider_404_editor_403(client_as, outsider, editor, workspace, product):
    url = reverse("discovery:intake", kwargs={"ws": workspace.slug, "product_id": product.id})
    intake = services.intake_of(product)
    assert client_as(outsider).get(url).status_code == 404
    assert client_as(outsider).post(url, {"action": "rotate"}).status_code == 404
    assert client_as(editor).post(url, {"action": "rotate"}).status_code == 403
    assert client_as(editor).post(url, {"form_enabled": "on", "version": 1}).status_code == 403
    assert Intake.objects.get(pk=intake.pk).form_key == intake.form_key
    assert not Intake.objects.get(pk=intake.pk).form_enabled


@pytest.mark.django_db
def test_preflight_matches_whole_origins_only(open_form):
    client = APIClient()
    partial = client.options("/api/public/v1/feedback/", HTTP_ORIGIN="https://app.example.co")
    assert "Access-Control-Allow-Origin" not in partial


def test_the_management_command_listens_and_stops_on_sigterm():
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    port = _free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "manage.py", "inbound_smtp", "--bind", f"127.0.0.1:{port}"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                    code, _ = smtp.ehlo()
                    assert code == 250
                break
            except OSError:
                assert time.monotonic() < deadline, proc.stdout.read() if proc.poll() is not None else "no listener"
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0
