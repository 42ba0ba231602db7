"""The iteration page's story cards printed by Python (delivery/cards.py, decision 2050) are what
delivery/_story_card.html printed before, byte for byte: the old template is kept here as text and
both renderings of the same stories are compared, editable or not, "add" and "remove", with and
without points and an assignee (named or not), a status the workflow no longer has, and titles
with every character autoescape changes."""

import pytest
from django.template import engines

from backlog import selectors as backlog_selectors
from backlog.models import Story
from delivery import selectors, services
from delivery.cards import StoryCards

from .factories import IterationFactory, StoryFactory

pytestmark = pytest.mark.django_db

# delivery/_story_card.html before decision 2050.
OLD_CARD = '{# One CSRF token for all cards: the csrf_token variable is computed once per page, the csrf_token tag masks a new token per card (decision 1920). #}{% load pmhub %}<li class="story-card" data-story-id="{{ story.id_text }}" data-live-item="story:{{ story.id_text }}" data-points="{{ story.points_text|default:"0" }}" data-testid="story-{{ story.id_text }}">\n  <span class="story-title">{{ story.title }}</span>\n  <span class="story-meta"><span class="points" title="Points">{% if story.points is None %}– pt{% else %}{{ story.points|num }} pt{% endif %}</span>{% if story.assignee %} · {{ story.assignee.display_name }}{% endif %} · {{ story.status_label|default:story.status|status_label }}</span>\n  {% if can_edit %}\n  <form method="post" action="{{ items_url }}" class="inline-form story-move"><input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}">\n    <input type="hidden" name="story" value="{{ story.id_text }}"><input type="hidden" name="action" value="{{ action }}">\n    <button type="submit" class="secondary outline small-button">{% if action == "add" %}Add to iteration{% else %}Remove{% endif %}<span class="visually-hidden"> “{{ story.title }}”</span></button>\n  </form>\n  {% endif %}\n</li>\n'

HOSTILE = '<script>alert("x")</script> & \'quotes\' ≤ “curly” 🚀'


@pytest.fixture
def world(product, admin, editor):
    admin.name = HOSTILE
    admin.save(update_fields=["name"])
    iteration = IterationFactory(product=product)
    stories = [StoryFactory(product=product) for _ in range(8)]
    Story.objects.filter(id=stories[0].id).update(title=HOSTILE, assignee=admin, points=0, status="done")
    Story.objects.filter(id=stories[1].id).update(assignee=editor, points=13, status="in_progress")
    Story.objects.filter(id=stories[2].id).update(points=None, status="no_longer_in_workflow")
    Story.objects.filter(id=stories[3].id).update(points=2, title="a &amp; b")
    for story in stories[4:]:
        services.iteration_add_story(actor=editor, iteration=iteration, story_id=story.id)
    Story.objects.filter(id=stories[4].id).update(title=HOSTILE, assignee=admin, points=None)
    Story.objects.filter(id=stories[5].id).update(points=1234, status="")
    return iteration


def _old(stories, **context) -> str:
    template = engines["django"].from_string(OLD_CARD)
    return "".join(template.render({"story": s, **context}) for s in stories)


@pytest.mark.parametrize("can_edit", [True, False])
def test_cards_are_the_old_template_byte_for_byte(world, product, can_edit):
    product.refresh_from_db()
    labels = {s["key"]: s["label"] for s in backlog_selectors.settings_of(product).workflow}
    printer = StoryCards(can_edit=can_edit, items_url="/w/a&b/items/", csrf_token="tok<en>", labels=labels)
    context = {"can_edit": can_edit, "items_url": "/w/a&b/items/", "csrf_token": "tok<en>"}

    planned = backlog_selectors.with_texts(backlog_selectors.with_status_labels(
        list(selectors.iteration_stories(iteration=world)), product))
    assert len(planned) == 4
    assert printer.cards(selectors.iteration_cards(iteration=world), "remove") == _old(
        planned, action="remove", **context)

    unplanned = backlog_selectors.with_texts(backlog_selectors.with_status_labels(
        list(selectors.backlog_stories(product=product, limit=50)), product))
    assert len(unplanned) >= 3
    assert printer.cards(selectors.backlog_cards(product=product, limit=50), "add") == _old(
        unplanned, action="add", **context)


def test_the_backlog_status_left_out_is_still_printed(world, product):
    """A story whose status the workflow no longer has still shows its (capitalised) key."""
    html = StoryCards(can_edit=False, items_url="", csrf_token="", labels={}).cards(
        selectors.backlog_cards(product=product, limit=50), "add")
    assert "No longer in workflow" in html


def _page_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_page_has_the_same_queries_at_two_sizes(client_as, product, editor, admin):
    """Issue 23, target 3: a plan of 2 or 45 stories, a backlog of 3 or 60, one count (and the
    next chunk of the backlog too)."""
    iteration = IterationFactory(product=product)
    url = f"/w/{product.workspace.slug}/products/{product.id}/iterations/{iteration.id}/"
    more = f"{url}backlog/?offset=30"
    client = client_as(editor)
    client.get(url)  # the session, the frame's prepared rows
    for _ in range(3):
        StoryFactory(product=product)
    for story in [StoryFactory(product=product, assignee=admin, points=3) for _ in range(2)]:
        services.iteration_add_story(actor=editor, iteration=iteration, story_id=story.id)
    small, small_more = _page_queries(client, url), _page_queries(client, more)
    for _ in range(60):
        StoryFactory(product=product, assignee=editor)
    for story in [StoryFactory(product=product, assignee=admin, points=3) for _ in range(43)]:
        services.iteration_add_story(actor=editor, iteration=iteration, story_id=story.id)
    big, big_more = _page_queries(client, url), _page_queries(client, more)
    assert (small, small_more) == (big, big_more)
    assert big <= 12 and big_more <= 8, (big, big_more)
    html = client.get(url).content.decode()
    assert html.count('class="story-card"') == 45 + 30
