"""Every webhook event the code emits can be subscribed to, and only those can.

The apps register their events (pmhub.webhooks, each AppConfig.ready); the subscription form,
API and service offer exactly the registry. The scan below reads every `webhook_emit` /
`webhook_emit_many` call in the apps' source, so a new emission that nobody registered fails here.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from backlog import services as backlog_services
from pmhub.webhooks import webhook_emit, webhook_event_names, webhook_events
from reports.forms import WebhookForm
from reports.models import WebhookDelivery, WebhookEndpoint
from tests.roadmaps.factories import ProductFactory

APPS = ["pmhub", *settings.DOMAIN_APPS]
EMITTERS = {"webhook_emit", "webhook_emit_many"}


def _emitted_events() -> list[tuple[str, str, int]]:
    """(event, module path, line) of every emission in the apps' source."""
    found = []
    for app in APPS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in EMITTERS:
                    continue
                event = next((k.value for k in node.keywords if k.arg == "event"), None)
                where = f"{path.relative_to(settings.BASE_DIR)}:{node.lineno}"
                # A computed event name could not be checked: emissions name their event literally.
                assert isinstance(event, ast.Constant) and isinstance(event.value, str), (
                    f"{where}: pass event= as a string literal so it can be checked against the registry")
                found.append((event.value, str(path.relative_to(settings.BASE_DIR)), node.lineno))
    return found


def test_the_scan_finds_the_emissions():
    events = {e for e, _, _ in _emitted_events()}
    # The six that once had no subscription are among them.
    assert {"epic.created", "epic.updated", "kpi.created", "adoption.feature.created",
            "adoption.feature.updated", "adoption.outcome_review.opened"} <= events


def test_every_emitted_event_is_registered_by_the_app_that_emits_it():
    registry = {e.name: e.app for e in webhook_events()}
    for event, path, line in _emitted_events():
        assert event in registry, f"{path}:{line} emits {event!r}, which no endpoint can subscribe to"
        assert path.startswith(registry[event] + "/"), f"{event!r} is emitted in {path} but registered by {registry[event]}"


def test_every_registered_event_is_emitted_somewhere():
    emitted = {e for e, _, _ in _emitted_events()}
    assert set(webhook_event_names()) == emitted


def test_each_registered_event_says_what_it_means():
    assert all(e.description for e in webhook_events())


def test_emitting_an_unregistered_event_fails_loudly(db):
    with pytest.raises(LookupError, match="not registered"):
        webhook_emit(workspace_id=1, event="story.exploded", payload={})


def test_the_form_offers_exactly_the_registered_events():
    offered = [value for value, _ in WebhookForm().fields["events"].choices]
    assert offered == webhook_event_names()


@pytest.mark.django_db
def test_the_api_accepts_every_registered_event(api, admin, workspace):
    api.force_authenticate(admin)
    response = api.post("/api/v1/webhook-endpoints/", {"workspace": workspace.id, "url": "https://hooks.test/in",
                                                        "events": webhook_event_names()}, format="json")
    assert response.status_code == 201, response.json()
    assert WebhookEndpoint.objects.get().events == webhook_event_names()


@pytest.mark.django_db
def test_the_api_refuses_an_unregistered_event_and_creates_nothing(api, admin, workspace):
    api.force_authenticate(admin)
    response = api.post("/api/v1/webhook-endpoints/", {"workspace": workspace.id, "url": "https://hooks.test/in",
                                                        "events": ["epic.created", "story.exploded"]}, format="json")
    assert response.status_code == 400
    assert "events" in str(response.json())
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_the_page_subscribes_to_an_event_that_was_unsubscribable(client_as, admin, workspace):
    response = client_as(admin).post(f"/w/{workspace.slug}/webhooks/",
                                     {"url": "https://hooks.test/in", "events": ["kpi.created", "epic.updated"]})
    assert response.status_code == 200
    assert WebhookEndpoint.objects.get(workspace=workspace).events == ["kpi.created", "epic.updated"]


@pytest.mark.django_db
def test_a_subscribed_epic_event_is_delivered_to_the_outbox(admin, workspace, django_capture_on_commit_callbacks):
    from reports.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(user=admin, workspace=workspace, url="https://hooks.test/in",
                                       events=["epic.created"])
    product = ProductFactory(workspace=workspace)
    epic = backlog_services.epic_create(actor=admin, product=product, title="Checkout")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.event, delivery.payload) == ("epic.created", {
        "id": epic.id, "product_id": product.id, "title": "Checkout", "status": epic.status, "initiative_id": None,
        "release_id": None, "version": epic.version})


@pytest.mark.django_db
def test_comment_and_criteria_events_deliver_ids_and_counts_never_the_text(admin, workspace):
    """Decision 1834: a comment's body and a criterion's text stay in PMHub (a receiver with an API
    token reads them through the API); the webhook says which story, which comment or criterion, who."""
    from reports.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(user=admin, workspace=workspace, url="https://hooks.test/in",
                                       events=["story.commented", "story.criteria_changed"])
    product = ProductFactory(workspace=workspace)
    story = backlog_services.story_create(actor=admin, product=product, title="Signup")
    comment = backlog_services.comment_create(actor=admin, story=story, body="Salary figures: do not share")
    criterion = backlog_services.criterion_add(actor=admin, story=story, text="Given a secret codename")
    backlog_services.criterion_toggle(actor=admin, criterion=criterion, done=True)
    payloads = [(d.event, d.payload) for d in WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id")]
    common = {"id": story.id, "product_id": product.id}
    assert payloads == [
        ("story.commented", {**common, "comment_id": comment.id, "author_id": admin.id}),
        ("story.criteria_changed", {**common, "criterion_id": criterion.id, "action": "added", "done": 0, "total": 1}),
        ("story.criteria_changed", {**common, "criterion_id": criterion.id, "action": "ticked", "done": 1, "total": 1}),
    ]
    # A chat channel's message (integrations.summaries) names the story and the count, not the text.
    from integrations.summaries import summary_for

    message = summary_for(workspace=workspace, event="story.criteria_changed", payload=payloads[-1][1])
    assert (message["headline"], message["title"]) == ("Acceptance criteria changed", "Signup")
    assert ["Acceptance criteria", "1 of 1 done"] in message["facts"] and "codename" not in str(message)
    message = summary_for(workspace=workspace, event="story.commented", payload=payloads[0][1])
    assert message["headline"] == "New comment on a story" and "Salary" not in str(message)
