"""The status board's cards are printed in Python (backlog/cards.py, decision 2010) from named rows
(selectors.CARD_ROW) with exactly the markup templates/backlog/_board_cards.html's loop printed from
stories before: each case renders the old loop (kept here as it was) over story models and the new
partial over the rows of the same stories, and compares the bytes. Escaping included: titles,
names and URLs with every character autoescape changes; and the board page itself against the old
loop over the stories as the board read them before."""

from collections import namedtuple
from decimal import Decimal

import pytest
from django.template import engines

from backlog import selectors
from backlog.cards import BoardCards
from backlog.models import Epic, Story
from backlog.selectors import CARD_ROW, with_texts
from pmhub.models import User

from .factories import make_stories

OLD_CARDS = """{# One CSRF token for all cards: the csrf_token variable is computed once per page, the csrf_token tag masks a new token per card (decision 1920). #}{% load pmhub %}{% for story in stories %}
<li class="bd-card" data-id="{{ story.id_text }}" data-live-item="story:{{ story.id_text }}" data-version="{{ story.version_text }}" data-points="{{ story.points_text|default:"0" }}" data-testid="card-{{ story.id_text }}"{% if can_edit %} data-status-url="{{ stories_url }}{{ story.id_text }}/status/"{% endif %}>
  <a class="bd-card-title" href="{{ stories_url }}{{ story.id_text }}/">{{ story.title }}</a>
  <p class="bd-card-meta"><small>
    {% if story.points is not None %}<span class="tag" title="Story points">{{ story.points_text }} pt{{ story.points|pluralize }}</span>{% endif %}
    {% if story.score is not None %}<span class="tag" title="Score">Score {{ story.score|num }}</span>{% endif %}
    {% if story.assignee %}<span>{{ story.assignee }}</span>{% endif %}
    {% if story.epic %}<span class="muted">Epic: {{ story.epic.title }}</span>{% endif %}
  </small></p>
  {% if can_edit %}
  <form method="post" action="{{ stories_url }}{{ story.id_text }}/status/" class="bd-status-form"><input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}">
    <input type="hidden" name="version" value="{{ story.version_text }}"><input type="hidden" name="next" value="{{ board_url }}">
    <label class="visually-hidden" for="st-{{ story.id_text }}">Status of “{{ story.title }}”</label>
    <select id="st-{{ story.id_text }}" name="status">{% select_options statuses story.status %}</select>
    <button type="submit" class="secondary outline bd-status-save">Move</button>
  </form>{% endif %}
</li>{% endfor %}
"""

NASTY = "Tom & \"Jerry\" <b>'x'</b>"
STATUSES = [("idea", "Idea"), ("ready", "Ready <now>"), ("in_progress", "In progress"), ("done", "Done & dusted")]
Row = namedtuple("Row", CARD_ROW)


def _stories():
    people = [None, User(id=7, name="Ann O'Hara <ann>", email="ann@example.com"),
              User(id=8, name="", email="bo&b@example.com")]
    epics = [None, Epic(id=3, title=NASTY), Epic(id=4, title="")]
    stories = []
    for n, (points, score) in enumerate([(None, None), (0, Decimal("0")), (1, Decimal("12345.6789")),
                                          (5, Decimal("45.0000")), (13, Decimal("-0.0040")), (None, Decimal("2.5")),
                                          (2, None)]):
        status = STATUSES[n % len(STATUSES)][0] if n != 5 else "gone"  # a status the workflow no longer has
        stories.append(Story(id=1000 + n, title=NASTY if n % 2 else f"Story {n}", points=points, score=score,
                             version=n + 1, status=status, assignee=people[n % 3], epic=epics[n % 3]))
    return with_texts(stories)


def _row(story) -> Row:
    epic, person = story.epic, story.assignee
    return Row(story.id, story.title, story.status, story.points, story.score, story.version,
               epic and epic.id, epic and epic.title, person and person.id, person and person.name,
               person and person.email)


def _old(stories, **context) -> str:
    return engines["django"].from_string(OLD_CARDS).render({"stories": stories, **context})


def _new(rows, **context) -> str:
    cards = BoardCards(statuses=context["statuses"], can_edit=context["can_edit"],
                       stories_url=context["stories_url"], csrf_token=context["csrf_token"],
                       board_url=context["board_url"])
    return engines["django"].get_template("backlog/_board_cards.html").render({"cards": cards.html(rows)})


@pytest.mark.parametrize("can_edit", [True, False])
def test_board_cards_print_the_markup_of_the_old_template_loop(can_edit):
    stories = _stories()
    context = {"can_edit": can_edit, "statuses": STATUSES, "csrf_token": "tok&en<",
               "stories_url": "/w/a&b/products/3/backlog/stories/", "board_url": "/w/a&b/board/?q=<x>&y=1"}
    old = _old(stories, **context)
    new = _new([_row(s) for s in stories], **context)
    assert new == old
    assert "Tom &amp; &quot;Jerry&quot; &lt;b&gt;&#x27;x&#x27;&lt;/b&gt;" in new and "<b>" not in new
    assert ("tok&amp;en&lt;" in new) is can_edit
    assert new.count('<li class="bd-card"') == len(stories)


def test_no_cards_print_the_old_partials_newline():
    context = {"can_edit": True, "statuses": STATUSES, "csrf_token": "t", "stories_url": "/s/", "board_url": "/b/"}
    assert _new([], **context) == _old([], **context) == "\n"


@pytest.mark.django_db
def test_the_board_pages_cards_are_the_old_loop_over_the_stories_the_board_read(client_as, admin, editor, product):
    """The page as served: each column's cards equal the old loop over the same stories read as models
    (epic and assignee joined, as the board read them before), in the same order."""
    epic = Epic.objects.create(product=product, title=NASTY)
    make_stories(product, 45, actor=admin, points=3)
    make_stories(product, 5, actor=admin, status="done")
    ids = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    for n, story_id in enumerate(ids):
        Story.objects.filter(pk=story_id).update(epic=epic if n % 2 else None, assignee=(admin, editor, None)[n % 3],
                                                 title=NASTY if n % 5 == 0 else f"Story {n}", points=(None, 1, 8)[n % 3])
    columns = selectors.story_board(product=product)
    response = client_as(admin).get(f"/w/acme/products/{product.id}/backlog/board/")
    html = response.content.decode()
    token = html.split('class="bd-status-form"><input type="hidden" name="csrfmiddlewaretoken" value="', 1)[1]
    token = token.split('"', 1)[0]
    context = {"can_edit": True, "statuses": [(s["key"], s["label"]) for s in selectors.settings_of(product).workflow],
               "csrf_token": token, "stories_url": f"/w/acme/products/{product.id}/backlog/stories/",
               "board_url": f"/w/acme/products/{product.id}/backlog/board/"}
    shown = 0
    for column in columns:
        models = {s.id: s for s in Story.objects.filter(id__in=[c.id for c in column.stories])
                  .select_related("epic", "assignee")}
        old = _old(with_texts([models[c.id] for c in column.stories]), **context)
        assert old in html
        assert _new(column.stories, **context) == old
        shown += len(column.stories)
    assert shown == 25  # 20 of the first column, 5 done
