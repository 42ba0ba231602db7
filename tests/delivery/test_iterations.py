"""Iterations: create, plan stories in and out (one iteration at a time, with history)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from delivery import services
from delivery.models import Iteration, IterationItem
from pmhub import formatting
from pmhub.models import Activity

from .factories import IterationFactory, StoryFactory

pytestmark = pytest.mark.django_db


def test_editor_creates_iteration_and_activity_is_recorded(product, editor):
    iteration = services.iteration_create(actor=editor, product=product, name="Sprint 7",
                                          start_date=date(2026, 11, 2), end_date=date(2026, 11, 13),
                                          capacity_points=20)
    assert iteration.length_days == 12
    assert Activity.objects.filter(verb="created iteration", target_id=iteration.id).exists()


def test_end_before_start_is_a_field_error(product, editor):
    with pytest.raises(ValidationError) as e:
        services.iteration_create(actor=editor, product=product, name="Bad", start_date=date(2026, 11, 13),
                                  end_date=date(2026, 11, 2))
    assert "end_date" in e.value.message_dict
    assert not Iteration.objects.exists()


def test_story_is_in_one_iteration_at_a_time_and_history_is_kept(product, editor):
    first, second = IterationFactory(product=product), IterationFactory(product=product)
    story = StoryFactory(product=product)
    services.iteration_add_story(actor=editor, iteration=first, story_id=story.id)
    services.iteration_add_story(actor=editor, iteration=second, story_id=story.id)
    stays = list(IterationItem.objects.filter(story=story).order_by("id"))
    assert [(s.iteration_id, s.removed_at is None) for s in stays] == [(first.id, False), (second.id, True)]
    services.iteration_add_story(actor=editor, iteration=second, story_id=story.id)  # no-op
    assert IterationItem.objects.filter(story=story).count() == 2


def test_story_of_another_product_cannot_be_planned(product, other_product, editor):
    iteration = IterationFactory(product=product)
    foreign = StoryFactory(product=other_product)
    with pytest.raises(ValidationError):
        services.iteration_add_story(actor=editor, iteration=iteration, story_id=foreign.id)
    assert not IterationItem.objects.exists()


def test_removing_a_story_not_planned_is_an_error(product, editor):
    iteration = IterationFactory(product=product)
    with pytest.raises(ValidationError):
        services.iteration_remove_story(actor=editor, iteration=iteration, story_id=StoryFactory(product=product).id)


def _plan_url(product, iteration, name="delivery:iteration"):
    return reverse(name, kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                 "iteration_id": iteration.id})


def test_plan_page_warns_when_committed_points_exceed_capacity(client_as, product, editor):
    iteration = IterationFactory(product=product, capacity_points=5)
    client = client_as(editor)
    for points in (3, 4):
        story = StoryFactory(product=product, points=points)
        response = client.post(_plan_url(product, iteration, "delivery:iteration_items"),
                               {"story": story.id, "action": "add"})
        assert response.status_code == 302
    page = client.get(_plan_url(product, iteration))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Over capacity by <span id=\"over-by\">2</span> <span id=\"over-by-unit\">points</span>." in html
    assert 'data-testid="capacity-warning" hidden' not in html


def test_drag_endpoint_answers_json_with_capacity(client_as, product, editor):
    iteration = IterationFactory(product=product, capacity_points=2)
    story = StoryFactory(product=product, points=3)
    response = client_as(editor).post(_plan_url(product, iteration, "delivery:iteration_items"),
                                      {"story": story.id, "action": "add"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["capacity"]["over_by"] == 1
    bad = client_as(editor).post(_plan_url(product, iteration, "delivery:iteration_items"),
                                 {"story": 999999, "action": "add"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "story" in bad.json()["errors"]


def test_iterations_page_lists_and_creates(client_as, product, editor):
    url = reverse("delivery:iterations", kwargs={"ws": product.workspace.slug, "product_id": product.id})
    client = client_as(editor)
    response = client.post(url, {"name": "Sprint 1", "start_date": "2026-11-02", "end_date": "2026-11-13",
                                 "capacity_points": 10})
    assert response.status_code == 302
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "", "start_date": "2026-11-13", "end_date": "2026-11-02",
                            "capacity_points": -1})
    assert bad.status_code == 400
    assert Iteration.objects.count() == 1


@time_machine.travel(datetime(2026, 11, 4, 12, tzinfo=UTC), tick=False)  # during the iteration
def test_api_iteration_lifecycle(api_as, product, editor):
    client = api_as(editor)
    created = client.post("/api/v1/iterations/", {"product": product.id, "name": "S1", "start_date": "2026-11-02",
                                                  "end_date": "2026-11-06", "capacity_points": 4}, format="json")
    assert created.status_code == 201, created.json()
    iteration_id = created.json()["id"]
    story = StoryFactory(product=product, points=5)
    added = client.post(f"/api/v1/iterations/{iteration_id}/items/", {"story": story.id}, format="json")
    assert added.status_code == 200
    assert added.json()["committed_points"] == 5 and added.json()["over_capacity"] is True
    burndown = client.get(f"/api/v1/iterations/{iteration_id}/burndown/")
    assert burndown.status_code == 200 and len(burndown.json()["days"]) == 5
    removed = client.post(f"/api/v1/iterations/{iteration_id}/items/remove/", {"story": story.id}, format="json")
    assert removed.json()["committed_points"] == 0
    with time_machine.travel(datetime(2026, 11, 9, 12, tzinfo=UTC), tick=False):  # once it has ended
        velocity = client.get(f"/api/v1/iterations/velocity/?product={product.id}")
    assert velocity.status_code == 200 and [v["completed"] for v in velocity.json()["iterations"]] == [0]
    version = client.get(f"/api/v1/iterations/{iteration_id}/").json()["version"]
    patched = client.patch(f"/api/v1/iterations/{iteration_id}/", {"capacity_points": 8, "version": version},
                           format="json")
    assert patched.json()["capacity_points"] == 8 and patched.json()["version"] == version + 1
    bad = client.patch(f"/api/v1/iterations/{iteration_id}/", {"end_date": "2026-10-01", "version": version + 1},
                       format="json")
    assert bad.status_code == 400 and "end_date" in bad.json()["errors"]
    assert client.delete(f"/api/v1/iterations/{iteration_id}/").status_code == 204
    assert not Iteration.objects.exists()


def test_home_panel_lists_current_iterations_with_capacity(client_as, product, editor, workspace):
    from django.utils import timezone

    today = timezone.localdate()
    iteration = IterationFactory(product=product, name="Now sprint", start_date=today, end_date=today,
                                 capacity_points=1)
    services.iteration_add_story(actor=editor, iteration=iteration, story_id=StoryFactory(product=product,
                                                                                         points=3).id)
    IterationFactory(product=product, name="Old sprint", start_date=date(2020, 1, 1), end_date=date(2020, 1, 2))
    html = client_as(editor).get(f"/w/{workspace.slug}/").content.decode()
    assert "Now sprint" in html and "over capacity by 2 points" in html and "Old sprint" not in html
    assert f"ends {formatting.date(today)} <strong" in html  # "5 Dec 2026", as every other page prints a date
    Iteration.objects.filter(pk=iteration.pk).update(capacity_points=2)
    html = client_as(editor).get(f"/w/{workspace.slug}/").content.decode()
    assert "over capacity by 1 point<" in html


def test_planning_column_shows_a_chunk_in_backlog_order_and_loads_the_rest(client_as, product, editor, viewer):
    """Issue 23, target 3: the unplanned stories come BACKLOG_CHUNK (30) at a time (the rest as the column
    scrolls), in backlog order, without a story twice or one left out; planned ones stay out."""
    import re

    from backlog.models import Story
    from delivery.views import BACKLOG_CHUNK
    from tests.backlog.factories import make_stories

    make_stories(product, BACKLOG_CHUNK + 7, actor=editor, status="ready")
    ranked = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    iteration = IterationFactory(product=product, capacity_points=50)
    services.iteration_add_story(actor=editor, iteration=iteration, story_id=ranked[3])
    unplanned = [i for i in ranked if i != ranked[3]]

    def cards(html):
        backlog_column = html.split('data-testid="backlog-column"', 1)[-1].split("</ul>", 1)[0]
        return [int(i) for i in re.findall(r'class="story-card" data-story-id="(\d+)"', backlog_column)]

    page = client_as(viewer).get(_plan_url(product, iteration)).content.decode()
    first = cards(page)
    assert first == unplanned[:BACKLOG_CHUNK]
    more = _plan_url(product, iteration, "delivery:iteration_backlog") + f"?offset={BACKLOG_CHUNK}"
    assert f'hx-get="{more}"' in page and 'hx-trigger="revealed"' in page
    rest = client_as(viewer).get(more).content.decode()
    assert cards('data-testid="backlog-column"' + rest) == unplanned[BACKLOG_CHUNK:]
    assert "backlog-load-more" not in rest  # the last chunk: nothing more to load
    for bad in ("-1", "x", "99999999999"):
        response = client_as(viewer).get(_plan_url(product, iteration, "delivery:iteration_backlog") + f"?offset={bad}")
        assert response.status_code == 400


def test_over_capacity_by_one_point_reads_in_the_singular(client_as, product, editor):
    iteration = IterationFactory(product=product, capacity_points=5)
    client = client_as(editor)
    story = StoryFactory(product=product, points=6)
    client.post(_plan_url(product, iteration, "delivery:iteration_items"), {"story": story.id, "action": "add"})
    html = client.get(_plan_url(product, iteration)).content.decode()
    assert "Over capacity by <span id=\"over-by\">1</span> <span id=\"over-by-unit\">point</span>." in html
