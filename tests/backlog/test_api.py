"""The /api/v1/ backlog endpoints: behaviour, errors, ordering, query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import services
from backlog.models import BacklogSettings, ScoringModel, Story
from pmhub.models import BackgroundJob, Notification

from .factories import make_stories, ranked_titles

pytestmark = pytest.mark.django_db

RICE = {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}


def test_create_story_scores_it_and_puts_it_at_the_bottom(api, admin, product, stories):
    api.force_authenticate(admin)
    response = api.post("/api/v1/stories/", {
        "product": product.id, "title": "Export to PDF", "as_a": "PM", "i_want": "a PDF", "so_that": "I share",
        "labels": ["export"], "score_inputs": RICE, "acceptance_criteria": ["Has a title page"]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert Decimal(body["score"]) == Decimal("400")  # 1000 x 2 x 0.8 / 4
    assert body["score_explanation"]["inputs"] == RICE
    assert [c["text"] for c in body["criteria"]] == ["Has a title page"]
    assert ranked_titles(product)[-1] == "Export to PDF"


def test_missing_score_input_is_a_400_field_error(api, admin, product):
    api.force_authenticate(admin)
    response = api.post("/api/v1/stories/", {"product": product.id, "title": "X",
                                             "score_inputs": {"reach": 10, "impact": 1}}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"confidence", "effort"}
    assert not Story.objects.exists()


def test_zero_effort_is_a_400_field_error(api, admin, product):
    api.force_authenticate(admin)
    response = api.post("/api/v1/stories/", {"product": product.id, "title": "X",
                                             "score_inputs": {**RICE, "effort": 0}}, format="json")
    assert response.status_code == 400
    assert "greater than zero" in response.json()["errors"]["effort"][0]
    assert not Story.objects.exists()


def test_patch_requires_version_and_stale_version_is_409_with_current_state(api, admin, product, stories):
    api.force_authenticate(admin)
    story = stories[0]
    missing = api.patch(f"/api/v1/stories/{story.id}/", {"title": "New"}, format="json")
    assert missing.status_code == 409 and missing.json()["current"]["version"] == 1
    ok = api.patch(f"/api/v1/stories/{story.id}/", {"title": "New", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = api.patch(f"/api/v1/stories/{story.id}/", {"title": "Other", "version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["title"] == "New"
    assert Story.objects.get(id=story.id).title == "New"


def test_patch_score_input_recomputes_the_score(api, admin, product, stories):
    api.force_authenticate(admin)
    story = stories[0]
    r = api.patch(f"/api/v1/stories/{story.id}/", {"score_inputs": RICE, "version": 1}, format="json")
    assert Decimal(r.json()["score"]) == Decimal("400")
    r = api.patch(f"/api/v1/stories/{story.id}/", {"score_inputs": {"effort": 8}, "version": 2}, format="json")
    assert Decimal(r.json()["score"]) == Decimal("200")  # 1000 x 2 x 0.8 / 8


def test_move_before_and_after(api, admin, product, stories):
    api.force_authenticate(admin)
    s1, s2, s3, s4, s5 = stories
    assert api.post(f"/api/v1/stories/{s5.id}/move/", {"before": s1.id}, format="json").status_code == 200
    assert ranked_titles(product) == ["Story 5", "Story 1", "Story 2", "Story 3", "Story 4"]
    assert api.post(f"/api/v1/stories/{s5.id}/move/", {"after": s3.id}, format="json").status_code == 200
    assert ranked_titles(product) == ["Story 1", "Story 2", "Story 3", "Story 5", "Story 4"]


def test_move_writes_exactly_one_update_of_the_story_table(admin, product, stories):
    with CaptureQueriesContext(connection) as ctx:
        services.story_move(actor=admin, story=stories[4], before=stories[0].id)
    updates = [q["sql"] for q in ctx.captured_queries
               if q["sql"].startswith("UPDATE") and '"backlog_story"' in q["sql"]]
    assert len(updates) == 1
    assert f"WHERE \"backlog_story\".\"id\" = {stories[4].id}" in updates[0]


def test_move_next_to_a_story_of_another_product_is_refused(api, admin, product, stories, foreign_story):
    api.force_authenticate(admin)
    before = ranked_titles(product)
    r = api.post(f"/api/v1/stories/{stories[0].id}/move/", {"before": foreign_story.id}, format="json")
    assert r.status_code == 400 and "before" in r.json()["errors"]
    assert ranked_titles(product) == before


def test_move_needs_exactly_one_anchor(api, admin, stories):
    api.force_authenticate(admin)
    r = api.post(f"/api/v1/stories/{stories[0].id}/move/", {}, format="json")
    assert r.status_code == 400


def test_bulk_edit_changes_status_epic_and_labels(api, admin, product, stories):
    epic = services.epic_create(actor=admin, product=product, title="E")
    api.force_authenticate(admin)
    ids = [stories[0].id, stories[1].id]
    r = api.post("/api/v1/stories/bulk/", {"product": product.id, "ids": ids, "status": "done", "epic_id": epic.id,
                                           "add_labels": ["q3"]}, format="json")
    assert r.status_code == 200 and r.json() == {"updated": 2}
    for s in Story.objects.filter(id__in=ids):
        assert (s.status, s.epic_id, s.labels) == ("done", epic.id, ["q3"])
        assert s.done_at is not None and s.version == 2
    assert Story.objects.get(id=stories[2].id).status == "idea"


def test_bulk_edit_with_a_foreign_id_changes_nothing(api, admin, product, stories, foreign_story):
    api.force_authenticate(admin)
    r = api.post("/api/v1/stories/bulk/", {"product": product.id, "ids": [stories[0].id, foreign_story.id],
                                           "status": "done"}, format="json")
    assert r.status_code == 400 and "ids" in r.json()["errors"]
    assert not Story.objects.filter(status="done").exists()


def test_list_ordered_by_score_with_cursor(api, admin, product, stories):
    for story, reach in zip(stories, [10, 50, 30, 20, 40], strict=True):
        services.story_update(actor=admin, story=story, data={"score_inputs": {**RICE, "reach": reach}}, version=None)
    api.force_authenticate(admin)
    r = api.get(f"/api/v1/stories/?product={product.id}&ordering=-score&page_size=2")
    assert [s["title"] for s in r.json()["results"]] == ["Story 2", "Story 5"]
    nxt = api.get(r.json()["next"])
    assert [s["title"] for s in nxt.json()["results"]] == ["Story 3", "Story 4"]


def test_list_filters(api, admin, product, stories):
    services.stories_bulk_update(actor=admin, product=product, ids=[stories[1].id], status="ready", add_labels=["ux"])
    api.force_authenticate(admin)
    assert [s["title"] for s in api.get(f"/api/v1/stories/?product={product.id}&status=ready").json()["results"]] == ["Story 2"]
    assert [s["title"] for s in api.get(f"/api/v1/stories/?product={product.id}&label=ux").json()["results"]] == ["Story 2"]


@pytest.mark.parametrize("n", [50, 200])
def test_story_list_query_count_is_fixed(api_as, admin, product, n, django_assert_max_num_queries):
    make_stories(product, n, actor=admin, score_inputs=RICE)
    client = api_as(admin)
    # token + last-used stamp, roles, custom fields, the page: the same for 50 and 200 rows
    with django_assert_max_num_queries(5):
        r = client.get(f"/api/v1/stories/?product={product.id}&page_size={n}")
    assert len(r.json()["results"]) == n


def _feedback(*, admin, product, customer, segment, importance, story_ids):
    """Feedback is filed into discovery's inbox (decision 1613): one company, one highlight per story."""
    from discovery.services import feedback_file
    from roadmaps.models import Segment

    segment = Segment.objects.get_or_create(product=product, name=segment)[0]
    return feedback_file(user=admin, product=product, customer=customer, quote="Need it", segment=segment,
                         importance=importance, story_ids=story_ids)


def test_retrieve_explains_the_score_and_demand(api, admin, product, stories, django_capture_on_commit_callbacks):
    services.story_update(actor=admin, story=stories[0], data={"score_inputs": RICE}, version=None)
    with django_capture_on_commit_callbacks(execute=True):
        _feedback(admin=admin, product=product, customer="Globex", segment="Enterprise", importance=4,
                  story_ids=[stories[0].id])
    api.force_authenticate(admin)
    body = api.get(f"/api/v1/stories/{stories[0].id}/").json()
    assert body["score_explanation"]["framework"] == "rice"
    assert body["score_explanation"]["score"] == "400.0000"
    assert body["demand_summary"] == {"customers": 1, "segments": ["Enterprise"], "feedback_count": 1,
                                      "demand": "4.00"}


def test_changing_the_model_rescores_via_the_task(api, admin, product, stories, django_capture_on_commit_callbacks):
    for story in stories:
        services.story_update(actor=admin, story=story, data={"score_inputs": {**RICE, "value": 6, "ease": 5}},
                              version=None)
    api.force_authenticate(admin)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.put(f"/api/v1/backlog-products/{product.id}/scoring-model/", {"framework": "value_effort"},
                    format="json")
    assert r.status_code == 202
    job = BackgroundJob.objects.get(id=r.json()["job_id"])
    assert job.status == "done" and job.result == {"rescored": 5}
    assert set(Story.objects.values_list("score", flat=True)) == {Decimal("1.5")}  # value 6 / effort 4


def test_rescore_writes_in_bulk_not_per_row(admin, product, django_assert_max_num_queries):
    make_stories(product, 120, actor=admin, score_inputs={**RICE, "value": 6})
    ScoringModel.objects.create(product=product, framework="value_effort")
    with django_assert_max_num_queries(12):
        assert services.rescore_product(product_id=product.id) == 120
    assert Story.objects.filter(score=Decimal("1.5")).count() == 120


def test_what_if_shows_the_new_order_without_writing(api, admin, product, stories):
    for story, (reach, value) in zip(stories, [(10, 9), (50, 1), (30, 5), (20, 7), (40, 3)], strict=True):
        services.story_update(actor=admin, story=story, data={"score_inputs": {**RICE, "reach": reach,
                                                                               "value": value}}, version=None)
    before = list(Story.objects.values_list("id", "score", "rank", "version"))
    api.force_authenticate(admin)
    r = api.post(f"/api/v1/backlog-products/{product.id}/what-if/", {
        "framework": "weighted", "criteria": [{"key": "value", "weight": 2}, {"key": "effort", "weight": 1,
                                                                              "against": True}]}, format="json")
    assert r.status_code == 200
    rows = r.json()["rows"]
    # 2 x value - effort(4): 14, 10, 6, 2, -2
    assert [row["title"] for row in rows] == ["Story 1", "Story 4", "Story 3", "Story 5", "Story 2"]
    assert rows[0]["new_score"] == "14.0000" and rows[0]["old_position"] == 5
    assert list(Story.objects.values_list("id", "score", "rank", "version")) == before
    assert not ScoringModel.objects.exists()


def test_weighted_model_with_demand_and_custom_field(admin, product, stories, django_capture_on_commit_callbacks):
    services.custom_field_create(actor=admin, product=product, key="revenue", label="Revenue", type="number")
    services.settings_update(actor=admin, product=product, segment_weights={"Enterprise": 2})
    with django_capture_on_commit_callbacks(execute=True):
        services.scoring_model_update(actor=admin, product=product, framework="weighted", criteria=[
            {"key": "revenue", "weight": 0.5, "source": "custom_field"},
            {"key": "demand", "weight": 1, "source": "demand"}])
    story = Story.objects.get(id=stories[0].id)
    services.story_update(actor=admin, story=story, data={"custom_values": {"revenue": 10}}, version=None)
    with django_capture_on_commit_callbacks(execute=True):
        _feedback(admin=admin, product=product, customer="A", segment="Enterprise", importance=3,
                  story_ids=[story.id])
        _feedback(admin=admin, product=product, customer="B", segment="SMB", importance=2, story_ids=[story.id])
    story.refresh_from_db()
    # demand = 3 x 2 (Enterprise) + 2 x 1 (SMB) = 8; score = 0.5 x 10 + 1 x 8 = 13
    assert story.demand == Decimal("8.00")
    assert story.score == Decimal("13")


def test_comment_mention_notifies_member(api, admin, editor, product, stories):
    api.force_authenticate(admin)
    r = api.post(f"/api/v1/stories/{stories[0].id}/comments/", {"body": "@editor please look"}, format="json")
    assert r.status_code == 201
    n = Notification.objects.get(recipient=editor)
    assert n.kind == "mention"
    assert not Notification.objects.filter(recipient=admin).exists()


def test_assignment_notifies(api, admin, editor, product, stories):
    api.force_authenticate(admin)
    r = api.patch(f"/api/v1/stories/{stories[0].id}/", {"assignee_id": editor.id, "version": 1}, format="json")
    assert r.status_code == 200
    assert Notification.objects.filter(recipient=editor, kind="assignment").count() == 1


def test_assignee_must_be_a_member(api, admin, outsider, product, stories):
    api.force_authenticate(admin)
    r = api.patch(f"/api/v1/stories/{stories[0].id}/", {"assignee_id": outsider.id, "version": 1}, format="json")
    assert r.status_code == 400 and "assignee_id" in r.json()["errors"]


def test_custom_field_api_and_value_validation(api, admin, product, stories):
    api.force_authenticate(admin)
    r = api.post("/api/v1/custom-fields/", {"product": product.id, "key": "tier", "label": "Tier",
                                            "type": "single_select", "options": ["gold", "silver"]}, format="json")
    assert r.status_code == 201
    bad = api.patch(f"/api/v1/stories/{stories[0].id}/", {"custom_values": {"tier": "bronze"}, "version": 1},
                    format="json")
    assert bad.status_code == 400 and "cf_tier" in bad.json()["errors"]
    good = api.patch(f"/api/v1/stories/{stories[0].id}/", {"custom_values": {"tier": "gold"}, "version": 1},
                     format="json")
    assert good.json()["custom_values"] == {"tier": "gold"}
    listed = api.get(f"/api/v1/stories/?product={product.id}&cf_tier=gold").json()["results"]
    assert [s["id"] for s in listed] == [stories[0].id]


def test_settings_api_sets_segment_weights(api, admin, product):
    api.force_authenticate(admin)
    r = api.put(f"/api/v1/backlog-products/{product.id}/settings/", {"segment_weights": {"Enterprise": 3}},
                format="json")
    assert r.status_code == 200
    assert BacklogSettings.objects.get(product=product).segment_weights == {"Enterprise": 3}


def test_workflow_needs_a_done_status(api, admin, product):
    api.force_authenticate(admin)
    r = api.put(f"/api/v1/backlog-products/{product.id}/settings/",
                {"workflow": [{"key": "open", "label": "Open", "category": "todo"}]}, format="json")
    assert r.status_code == 400 and "workflow" in r.json()["errors"]
    assert not BacklogSettings.objects.exists()


def test_epic_api(api, admin, product, stories):
    api.force_authenticate(admin)
    r = api.post("/api/v1/epics/", {"product": product.id, "title": "Onboarding", "score_inputs": RICE}, format="json")
    assert r.status_code == 201 and Decimal(r.json()["score"]) == Decimal("400")
    services.stories_bulk_update(actor=admin, product=product, ids=[s.id for s in stories[:2]], epic_id=r.json()["id"],
                                 status="done")
    body = api.get(f"/api/v1/epics/{r.json()['id']}/").json()
    assert (body["story_count"], body["done_count"]) == (2, 2)


def test_saved_views_personal_and_shared(api, admin, editor, product):
    api.force_authenticate(editor)
    r = api.post("/api/v1/saved-views/", {"product": product.id, "name": "Mine", "config": {"sort": "-score"}},
                 format="json")
    assert r.status_code == 201
    api.post("/api/v1/saved-views/", {"product": product.id, "name": "Team", "shared": True,
                                      "config": {"group": "epic"}}, format="json")
    api.force_authenticate(admin)
    names = [v["name"] for v in api.get("/api/v1/saved-views/").json()["results"]]
    assert names == ["Team"]
    bad = api.post("/api/v1/saved-views/", {"product": product.id, "name": "x", "config": {"evil": 1}}, format="json")
    assert bad.status_code == 400


def test_schema_lists_backlog_endpoints(client):
    body = client.get("/api/schema/").content
    for path in (b"/api/v1/stories/{id}/move/", b"/api/v1/backlog-products/{id}/what-if/", b"/api/v1/feedback/"):
        assert path in body
