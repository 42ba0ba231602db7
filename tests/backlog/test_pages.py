"""Backlog pages: list with fixed query count, load-more, inline edit, moves, bulk edit,
saved views, scoring what-if (no writes) and saving a model (job)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backlog import services
from backlog.models import SavedView, ScoringModel, Story
from pmhub.models import BackgroundJob, Notification

from .factories import make_stories, ranked_titles

pytestmark = pytest.mark.django_db
RICE = {"reach": 100, "impact": 1, "confidence": 100, "effort": 1}


def url(name, product, **kw):
    return reverse(f"backlog:{name}", kwargs={"ws": "acme", "product_id": product.id, **kw})


@pytest.mark.parametrize("n", [50, 200])
def test_backlog_first_page_query_count_is_fixed(client_as, admin, product, n, django_assert_max_num_queries):
    services.custom_field_create(actor=admin, product=product, key="tier", label="Tier", type="text")
    epic = services.epic_create(actor=admin, product=product, title="E")
    make_stories(product, n, actor=admin, epic_id=epic.id, assignee_id=admin.id, labels=["a"],
                 custom_values={"tier": "gold"}, score_inputs=RICE)
    client = client_as(admin)
    client.get(url("list", product))  # a signed-in user's session and unread count are cached from here on
    # user, memberships (+ workspace names for the switcher), product (+ its workspace and backlog
    # settings), custom fields, members, epics, the page of stories, saved views: 8 whatever the
    # number of stories (the session and the unread count come from the cache)
    with django_assert_max_num_queries(8):
        response = client.get(url("list", product) + "?group=epic")
    assert response.status_code == 200
    assert response.content.count(b'data-testid="story-row"') == 50
    assert (b'hx-trigger="revealed"' in response.content) == (n > 50)


def test_load_more_returns_the_next_page(client_as, admin, product):
    make_stories(product, 60, actor=admin)
    response = client_as(admin).get(url("rows", product) + "?offset=50")
    assert response.content.count(b'data-testid="story-row"') == 10
    assert b"Story 51" in response.content and b"revealed" not in response.content


def test_filters_and_sort_by_score(client_as, admin, product, stories):
    services.story_update(actor=admin, story=stories[3], data={"score_inputs": RICE}, version=None)
    response = client_as(admin).get(url("list", product) + "?sort=-score")
    titles = [s.title for s in response.context["stories"]]
    assert titles[0] == "Story 4"
    response = client_as(admin).get(url("list", product) + "?q=Story 2")
    assert [s.title for s in response.context["stories"]] == ["Story 2"]


def test_group_by_custom_field(client_as, admin, product, stories):
    services.custom_field_create(actor=admin, product=product, key="tier", label="Tier", type="single_select",
                                 options=["gold", "silver"])
    services.story_update(actor=admin, story=stories[4], data={"custom_values": {"tier": "gold"}}, version=None)
    response = client_as(admin).get(url("list", product) + "?group=cf_tier&cf_tier=gold")
    assert [s.title for s in response.context["stories"]] == ["Story 5"]
    assert b'class="group-row"' in response.content


def test_inline_edit_saves_and_returns_the_row(client_as, admin, product, stories):
    client = client_as(admin)
    edit = client.get(url("row", product, story_id=stories[0].id) + "?edit=1")
    assert b'name="title"' in edit.content
    response = client.post(url("row", product, story_id=stories[0].id),
                           {"title": "Renamed", "status": "ready", "points": "3", "version": "1"})
    assert response.status_code == 200 and b"Renamed" in response.content
    story = Story.objects.get(id=stories[0].id)
    assert (story.title, story.status, story.points) == ("Renamed", "ready", 3)


def test_inline_edit_with_stale_version_is_409(client_as, admin, product, stories):
    services.story_update(actor=admin, story=stories[0], data={"title": "Theirs"}, version=1)
    response = client_as(admin).post(url("row", product, story_id=stories[0].id), {"title": "Mine", "version": "1"})
    assert response.status_code == 409
    assert Story.objects.get(id=stories[0].id).title == "Theirs"


def test_inline_edit_bad_input_is_400(client_as, admin, product, stories):
    response = client_as(admin).post(url("row", product, story_id=stories[0].id), {"status": "nope", "version": "1"})
    assert response.status_code == 400
    assert Story.objects.get(id=stories[0].id).status == "idea"


def test_move_from_the_page(client_as, admin, product, stories):
    response = client_as(admin).post(url("move", product, story_id=stories[2].id), {"before": stories[0].id})
    assert response.status_code == 200
    assert ranked_titles(product)[0] == "Story 3"


def test_bulk_edit_from_the_page_and_foreign_ids_rejected(client_as, admin, product, stories, foreign_story):
    client = client_as(admin)
    client.post(url("bulk", product), {"ids": [stories[0].id, stories[1].id], "status": "in_progress",
                                       "add_labels": "a, b"})
    assert set(Story.objects.filter(labels=["a", "b"]).values_list("status", flat=True)) == {"in_progress"}
    client.post(url("bulk", product), {"ids": [stories[2].id, foreign_story.id], "status": "done"})
    assert not Story.objects.filter(status="done").exists()


def test_saved_view_applies_its_filters(client_as, editor, product, stories):
    client = client_as(editor)
    r = client.post(url("view_save", product), {"name": "Just 3", "query": "q=Story 3&sort=-score"})
    view = SavedView.objects.get()
    assert r.status_code == 302 and view.config == {"filters": {"q": "Story 3"}, "sort": "-score", "group": ""}
    response = client.get(url("list", product) + f"?view={view.id}")
    assert [s.title for s in response.context["stories"]] == ["Story 3"]


def test_story_page_comment_mention_notifies(client_as, admin, editor, product, stories):
    client_as(admin).post(url("comment", product, story_id=stories[0].id), {"body": "Ping @editor@acme.test"})
    assert Notification.objects.filter(recipient=editor, kind="mention").count() == 1


def test_story_page_saves_scoring_inputs_and_explains(client_as, admin, product, stories):
    client = client_as(admin)
    r = client.post(url("story", product, story_id=stories[0].id),
                    {"input_reach": "500", "input_impact": "2", "input_confidence": "50", "input_effort": "5",
                     "version": "1"})
    assert r.status_code == 302
    assert Story.objects.get(id=stories[0].id).score == Decimal("100")  # 500 x 2 x 0.5 / 5
    page = client.get(url("story", product, story_id=stories[0].id))
    assert page.context["explanation"]["score"] == "100.0000"


def test_story_page_zero_effort_is_a_field_error(client_as, admin, product, stories):
    r = client_as(admin).post(url("story", product, story_id=stories[0].id),
                              {"input_reach": "500", "input_impact": "2", "input_confidence": "50",
                               "input_effort": "0", "version": "1"})
    assert r.status_code == 400 and "effort" in r.context["errors"]
    assert Story.objects.get(id=stories[0].id).score is None


def test_criteria_checklist(client_as, admin, product, stories):
    client = client_as(admin)
    client.post(url("criterion_add", product, story_id=stories[0].id), {"text": "Given a user"})
    criterion = stories[0].criteria.get()
    client.post(url("criterion_toggle", product, story_id=stories[0].id, criterion_id=criterion.id), {"done": "on"})
    criterion.refresh_from_db()
    assert criterion.done


def test_scoring_what_if_page_writes_nothing(client_as, admin, product, stories):
    for s, v in zip(stories, [1, 9, 5, 3, 7], strict=True):
        services.story_update(actor=admin, story=s, data={"score_inputs": {**RICE, "value": v}}, version=None)
    before = list(Story.objects.values_list("id", "score", "version"))
    r = client_as(admin).get(url("scoring", product) + "?what_if=1&framework=weighted&criteria_count=1"
                             "&c0_key=value&c0_weight=1")
    assert [row["title"] for row in r.context["preview"]["rows"]][:2] == ["Story 2", "Story 5"]
    assert list(Story.objects.values_list("id", "score", "version")) == before
    assert not ScoringModel.objects.exists()


def test_saving_the_model_on_the_page_starts_the_job(client_as, admin, product, stories,
                                                     django_capture_on_commit_callbacks):
    for s in stories:
        services.story_update(actor=admin, story=s, data={"score_inputs": {"reach": 100, "impact": 2,
                                                                           "confidence": 10, "effort": 1,
                                                                           "ease": 10}}, version=None)
    with django_capture_on_commit_callbacks(execute=True):
        r = client_as(admin).post(url("scoring", product), {"framework": "ice", "criteria_count": "0"})
    assert r.status_code == 200 and b'data-testid="job-progress"' in r.content
    assert BackgroundJob.objects.get(kind="backlog.rescore").status == "done"
    assert set(Story.objects.values_list("score", flat=True)) == {Decimal("200")}  # ICE: 2 x 10 x 10


def test_scoring_page_shows_value_effort_chart_data(client_as, admin, product, stories):
    services.story_update(actor=admin, story=stories[0], data={"score_inputs": {**RICE, "value": 8}}, version=None)
    r = client_as(admin).get(url("scoring", product))
    assert r.context["chart_points"] == [{"x": 1.0, "y": 8.0, "label": "Story 1"}]
    assert b'id="value-effort-data"' in r.content


def test_settings_page_adds_custom_field_and_rejects_bad_one(client_as, admin, product):
    client = client_as(admin)
    assert client.post(url("settings", product), {"action": "field", "key": "due", "label": "Due",
                                                  "type": "date"}).status_code == 302
    bad = client.post(url("settings", product), {"action": "field", "key": "tier", "label": "Tier",
                                                 "type": "single_select", "options": ""})
    assert bad.status_code == 400 and "options" in bad.context["errors"]
    assert list(product.custom_fields.values_list("key", flat=True)) == ["due"]


def test_epics_page_creates_epic(client_as, admin, product):
    assert client_as(admin).post(url("epics", product), {"title": "Onboarding"}).status_code == 302
    assert product.epics.get().title == "Onboarding"
