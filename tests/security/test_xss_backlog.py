"""Every payload of xss_corpus.py in every name and rich-text field of the backlog (stories and
their user-story parts, labels, acceptance criteria, comments with @mentions, epics, custom
field labels and option values, saved views, feedback, scoring criteria, workflow labels) comes
out inert in the backlog pages and htmx partials, in the mention/assignment e-mails and as data
in the API."""

import pytest
from django.core import mail
from django.urls import reverse

from backlog import services
from pmhub.models import User
from roadmaps import services as roadmap_services
from roadmaps.models import Product

from .xss_cases import CASES, assert_inert, assert_json_data, browsable_inert, browser, get_inert, payload

pytestmark = pytest.mark.django_db

FIELDS = [
    "story.title", "story.as_a", "story.i_want", "story.so_that", "story.description", "story.label",
    "criterion.text", "comment.body", "epic.title", "epic.description", "custom_field.label", "custom.text",
    "custom.option", "custom.multi_option", "saved_view.name", "feedback.quote", "feedback.customer",
    "feedback.segment", "feedback.source", "criterion_model.key", "criterion_model.label", "workflow.label",
    "assignee.name", "initiative.title", "other_story.title", "epic_field.label", "query",
]


def _backlog(case, workspace, admin, editor):
    """A product whose backlog holds the case's payloads in every field."""
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    User.objects.filter(pk=editor.pk).update(name=p["assignee.name"][:150])
    editor.refresh_from_db()
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    initiative = roadmap_services.initiative_create(actor=admin, product=product,
                                                    data={"title": p["initiative.title"], "status": "planned"})
    services.settings_update(actor=admin, product=product, workflow=[
        {"key": "idea", "label": p["workflow.label"], "category": "todo"},
        {"key": "done", "label": "Done", "category": "done"}], segment_weights={p["feedback.segment"]: 2})
    services.scoring_model_update(actor=admin, product=product, framework="weighted", criteria=[
        {"key": p["criterion_model.key"], "label": p["criterion_model.label"], "weight": 2, "source": "input"}])
    services.custom_field_create(actor=admin, product=product, key="note", label=p["custom_field.label"][:80],
                                 type="text")
    services.custom_field_create(actor=admin, product=product, key="tier", label="Tier", type="single_select",
                                 options=[p["custom.option"], "plain"])
    services.custom_field_create(actor=admin, product=product, key="areas", label="Areas", type="multi_select",
                                 options=[p["custom.multi_option"], "other"])
    services.custom_field_create(actor=admin, product=product, key="site", label="Site", type="url")
    services.custom_field_create(actor=admin, product=product, key="budget", label=p["epic_field.label"][:80],
                                 type="text", entity="epic")
    epic = services.epic_create(actor=admin, product=product, title=p["epic.title"],
                                description=p["epic.description"], initiative_id=initiative.id)
    story = services.story_create(
        actor=admin, product=product, title=p["story.title"], as_a=p["story.as_a"][:200], i_want=p["story.i_want"],
        so_that=p["story.so_that"], description=p["story.description"], labels=[p["story.label"][:40]],
        epic_id=epic.id, assignee_id=editor.id, criteria=[p["criterion.text"]],
        score_inputs={p["criterion_model.key"]: 3, "value": 5, "effort": 2},
        custom_values={"note": p["custom.text"], "tier": p["custom.option"], "areas": [p["custom.multi_option"]],
                       "site": "https://example.com/pmhx"})
    other = services.story_create(actor=admin, product=product, title=p["other_story.title"],
                                  score_inputs={p["criterion_model.key"]: 1, "value": 1, "effort": 4})
    services.comment_create(actor=admin, story=story, body=f"{p['comment.body']} @editor")
    view = services.saved_view_create(actor=admin, product=product, name=p["saved_view.name"],
                                      config={"filters": {"label": p["story.label"][:40]}, "group": "epic"}, shared=True)
    # Feedback lands in discovery's inbox (decision 1613): the customer is a company, the segment a product segment.
    from discovery.services import feedback_file
    from roadmaps.models import Segment

    segment = Segment.objects.create(product=product, name=p["feedback.segment"][:120])
    feedback_file(user=admin, product=product, customer=p["feedback.customer"][:160], quote=p["feedback.quote"],
                  segment=segment, source=p["feedback.source"][:80], story_ids=[story.id], epic_ids=[epic.id])
    return {"product": product, "story": story, "other": other, "epic": epic, "view": view, "p": p}


def _pages(workspace, world):
    ws, product, story, p = workspace.slug, world["product"], world["story"], world["p"]
    kw = {"ws": ws, "product_id": product.id}
    backlog = reverse("backlog:list", kwargs=kw)
    row = reverse("backlog:row", kwargs=kw | {"story_id": story.id})
    scoring = reverse("backlog:scoring", kwargs=kw)
    return [
        reverse("workspace_home", kwargs={"ws": ws}),
        reverse("activity", kwargs={"ws": ws}),
        backlog,
        backlog + "?group=status",
        backlog + "?group=assignee",
        backlog + "?group=cf_tier",
        backlog + f"?view={world['view'].id}",
        backlog + "?" + _query(q=p["query"], label=p["query"], cf_note=p["query"], sort="-score"),
        reverse("backlog:rows", kwargs=kw) + "?offset=0",
        row,
        row + "?edit=1",
        reverse("backlog:story", kwargs=kw | {"story_id": story.id}),
        reverse("backlog:epics", kwargs=kw),
        reverse("backlog:epic", kwargs=kw | {"epic_id": world["epic"].id}),
        reverse("backlog:board", kwargs=kw),
        reverse("backlog:board_more", kwargs=kw) + "?status=idea&offset=0",
        scoring,
        scoring + "?" + _query(what_if="1", framework="weighted", criteria_count="1", c0_key=p["query"],
                               c0_label=p["query"], c0_weight="1"),
        reverse("discovery:feedback", kwargs=kw),
        reverse("backlog:settings", kwargs=kw),
        reverse("roadmaps:release", kwargs=kw | {"release_id": _release(product, world).id}),
    ]


def _query(**params):
    from urllib.parse import urlencode

    return urlencode(params)


def _release(product, world):
    from roadmaps.models import Release

    release = Release.objects.create(product=product, name="1.0")
    world["epic"].release = release
    world["epic"].save(update_fields=["release"])
    return release


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_backlog_fields_are_inert_in_pages_partials_and_emails(case, admin, editor, viewer, workspace,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world = _backlog(case, workspace, admin, editor)
    admin_client = browser(admin)
    for url in _pages(workspace, world):
        get_inert(admin_client, url)
    story_url = reverse("backlog:story", kwargs={"ws": workspace.slug, "product_id": world["product"].id,
                                                 "story_id": world["story"].id})
    get_inert(browser(viewer), story_url, "story page, read-only")
    html = get_inert(browser(editor), reverse("notifications"), "mention notifications")
    assert "mentioned you" in html
    # The mention and the assignment were e-mailed (preferences default to e-mail).
    assert {m.to[0] for m in mail.outbox} == {editor.email} and len(mail.outbox) == 2
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert_inert(html, f"notification e-mail {message.subject!r}")


@pytest.mark.parametrize("case", CASES)
def test_payloads_posted_through_the_backlog_forms_are_inert_when_shown_again(case, admin, workspace):
    """The write path of the pages (forms, htmx inline edit) echoes and stores payloads inertly."""
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    kw = {"ws": workspace.slug, "product_id": product.id}
    client = browser(admin)
    backlog = reverse("backlog:list", kwargs=kw)
    client.post(backlog, {"title": payload(case, 0)})
    story = product.stories.get()
    row = reverse("backlog:row", kwargs=kw | {"story_id": story.id})
    response = client.post(row, {"version": story.version, "title": payload(case, 1), "labels": payload(case, 2),
                                 "points": payload(case, 3), "status": "idea"})
    assert response.status_code == 400  # points are not a number: the editor comes back with the input
    assert_inert(response.content.decode(), "inline editor after an error")
    response = client.post(row, {"version": story.version, "title": payload(case, 1),
                                 "labels": payload(case, 2, limit=40), "status": "idea"})
    assert response.status_code == 200
    assert_inert(response.content.decode(), "row after an inline edit")
    story_url = reverse("backlog:story", kwargs=kw | {"story_id": story.id})
    writes = [
        (reverse("backlog:comment", kwargs=kw | {"story_id": story.id}), {"body": payload(case, 4)}),
        (reverse("backlog:criterion_add", kwargs=kw | {"story_id": story.id}), {"text": payload(case, 5)}),
        (reverse("backlog:epics", kwargs=kw), {"title": payload(case, 6), "description": payload(case, 7)}),
        (reverse("discovery:feedback", kwargs=kw), {"customer": payload(case, 8, limit=160), "quote": payload(case, 9),
                                                    "source": payload(case, 10, limit=80), "importance": "3",
                                                    "stories": [story.id]}),
        (reverse("backlog:view_save", kwargs=kw), {"name": payload(case, 11), "query": "sort=title"}),
        (reverse("backlog:settings", kwargs=kw), {"action": "field", "key": "k1", "label": payload(case, 12),
                                                  "type": "single_select", "options": payload(case, 13)}),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 302, url
    response = client.post(reverse("backlog:settings", kwargs=kw), {"action": "field", "key": payload(case, 14),
                                                                     "label": payload(case, 15), "type": "text"})
    assert response.status_code == 400
    assert_inert(response.content.decode(), "settings after a refused field")
    for url in (backlog, story_url, reverse("backlog:epics", kwargs=kw), reverse("discovery:feedback", kwargs=kw),
                reverse("backlog:settings", kwargs=kw)):
        get_inert(client, url)
    assert "pmhx" in get_inert(client, story_url)


@pytest.mark.parametrize("case", CASES[::9])
def test_payloads_in_backlog_fields_come_back_as_json_data(case, api_as, admin, editor, workspace):
    world = _backlog(case, workspace, admin, editor)
    story, p, product = world["story"], world["p"], world["product"]
    api = api_as(admin)
    assert_json_data(api.get(f"/api/v1/stories/{story.id}/"), story.title, story.as_a, story.description,
                     story.labels[0], p["criterion.text"].strip(),
                     p["custom.text"].strip())
    assert_json_data(api.get(f"/api/v1/stories/{story.id}/comments/"), story.comments.get().body)
    assert_json_data(api.get(f"/api/v1/epics/{world['epic'].id}/"), world["epic"].title)
    assert_json_data(api.get("/api/v1/custom-fields/", {"product": product.id}), p["custom.option"])
    assert_json_data(api.get(f"/api/v1/saved-views/{world['view'].id}/"), world["view"].name)
    assert_json_data(api.get("/api/v1/insights/", {"product": product.id}),
                     product.insights.get(channel="feedback").text)
    assert_json_data(api.get(f"/api/v1/backlog-products/{product.id}/scoring-model/"), p["criterion_model.key"])
    browsable_inert(browser(admin), f"/api/v1/stories/?product={product.id}")


@pytest.mark.parametrize("title", ["Login\r\nBcc: victim@example.com", "Login\nX-Injected: 1", "Login\rpage"])
def test_line_breaks_in_a_story_title_do_not_reach_notification_subjects(title, api_as, admin, editor, workspace,
                                                                         django_capture_on_commit_callbacks):
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    api = api_as(admin)
    response = api.post("/api/v1/stories/", {"product": product.id, "title": title}, format="json")
    assert response.status_code == 201, response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/stories/{response.json()['id']}/comments/", {"body": "Look @editor"},
                            format="json")
    assert response.status_code == 201, response.content
    [message] = mail.outbox
    assert message.to == [editor.email]
    assert "\n" not in message.subject and "\r" not in message.subject and "Login" in message.subject
    assert message.bcc == []
