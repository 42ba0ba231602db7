"""The reports API: subscriptions (+ preview, send-now, runs), webhook endpoints (+ deliveries)."""

import pytest

from reports.models import ReportRecipient, ReportRun, ReportSubscription, WebhookEndpoint

from .factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def test_create_preview_send_now_and_runs(api, editor, member, workspace, product,
                                          django_capture_on_commit_callbacks):
    from django.core import mail

    InitiativeFactory(product=product, title="Launch", status="in_progress")
    api.force_authenticate(editor)
    response = api.post("/api/v1/report-subscriptions/", {
        "workspace": workspace.id, "product": product.id, "name": "Rocket monthly", "cadence": "monthly",
        "day_of_month": 2, "hour": 9, "sections": ["roadmap", "kpis"], "member_ids": [member.id],
        "emails": ["Board@Outside.test"]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted(r["email"] for r in body["recipients"]) == ["board@outside.test", "member@acme.test"]
    sub_id = body["id"]

    preview = api.get(f"/api/v1/report-subscriptions/{sub_id}/preview/").json()
    assert [s["key"] for s in preview["sections"]] == ["roadmap", "kpis"]
    assert preview["sections"][0]["data"]["items"][0]["title"] == "Launch"

    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(f"/api/v1/report-subscriptions/{sub_id}/send_now/")
    assert sent.status_code == 202
    assert sorted(m.to[0] for m in mail.outbox) == ["board@outside.test", "member@acme.test"]

    runs = api.get(f"/api/v1/report-subscriptions/{sub_id}/runs/").json()["results"]
    assert runs[0]["status"] == "sent" and len(runs[0]["deliveries"]) == 2


def test_preview_before_subscribing(api, viewer, workspace, product):
    InitiativeFactory(product=product, title="Beta", status="planned")
    api.force_authenticate(viewer)
    response = api.post("/api/v1/report-subscriptions/preview/",
                        {"workspace": workspace.id, "product": product.id, "sections": ["roadmap"]}, format="json")
    assert response.status_code == 200
    assert response.json()["sections"][0]["data"]["items"][0]["title"] == "Beta"
    assert not ReportSubscription.objects.exists()


def test_bad_input_is_400_with_field_errors_and_nothing_changes(api, editor, workspace, foreign_product):
    api.force_authenticate(editor)
    response = api.post("/api/v1/report-subscriptions/", {
        "workspace": workspace.id, "name": "", "hour": 25, "sections": ["nope"], "emails": ["not-an-email"]},
        format="json")
    assert response.status_code == 400
    assert {"name", "hour", "sections", "emails"} <= set(response.json()["errors"])
    response = api.post("/api/v1/report-subscriptions/", {
        "workspace": workspace.id, "product": foreign_product.id, "name": "x", "emails": ["a@b.test"]}, format="json")
    assert response.status_code == 400 and "product" in response.json()["errors"]
    response = api.post("/api/v1/report-subscriptions/", {"workspace": workspace.id, "name": "x"}, format="json")
    assert response.status_code == 400 and "emails" in response.json()["errors"]
    assert not ReportSubscription.objects.exists()


def test_patch_changes_schedule_and_recipients(api, editor, workspace, product):
    api.force_authenticate(editor)
    sub_id = api.post("/api/v1/report-subscriptions/", {"workspace": workspace.id, "name": "R",
                                                        "emails": ["a@x.test"]}, format="json").json()["id"]
    response = api.patch(f"/api/v1/report-subscriptions/{sub_id}/", {"hour": 17, "emails": ["b@x.test"], "version": 1},
                         format="json")
    assert response.status_code == 200 and response.json()["hour"] == 17
    assert list(ReportRecipient.objects.values_list("email", flat=True)) == ["b@x.test"]
    assert api.delete(f"/api/v1/report-subscriptions/{sub_id}/").status_code == 204


def test_webhook_secret_is_shown_once(api, admin, workspace):
    api.force_authenticate(admin)
    created = api.post("/api/v1/webhook-endpoints/", {"workspace": workspace.id, "url": "https://hooks.test/in",
                                                      "events": ["story.created", "kpi.health_changed"]},
                       format="json")
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret == WebhookEndpoint.objects.get().secret
    endpoint_id = created.json()["id"]
    assert "secret" not in api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/").json()
    assert "secret" not in api.get("/api/v1/webhook-endpoints/").json()["results"][0]
    assert api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/").status_code == 200
    bad = api.post("/api/v1/webhook-endpoints/", {"workspace": workspace.id, "url": "ftp://x.test/",
                                                  "events": ["story.created"]}, format="json")
    assert bad.status_code == 400 and "url" in bad.json()["errors"]
    assert WebhookEndpoint.objects.count() == 1


def test_read_only_token_cannot_send_now(api_as, editor, workspace, product):
    from .factories import SubscriptionFactory, subscribe

    sub = subscribe(SubscriptionFactory(product=product), "a@x.test")
    client = api_as(editor, scope="read")
    assert client.post(f"/api/v1/report-subscriptions/{sub.id}/send_now/").status_code == 403
    assert not ReportRun.objects.exists()


def test_openapi_schema_lists_the_reports_api_without_warnings():
    from tests.schemacheck import spectacular_run

    run = spectacular_run()  # `manage.py spectacular --validate`, once per process
    assert run.failure is None and run.problems == (), (run.failure, run.problems)  # --validate --fail-on-warn
    schema = run.text
    for path in ("/api/v1/report-subscriptions/{id}/send_now/", "/api/v1/report-subscriptions/preview/",
                 "/api/v1/webhook-endpoints/{id}/deliveries/", "/api/v1/notification-preferences/{kind}/"):
        assert path in schema
