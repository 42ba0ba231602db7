"""The backlog and story pages' reads compiled once (decisions 2132, 2134) answer what the ORM
reads they stand for answer, and a write is seen by the next read (nothing is kept but the SQL)."""

import pytest
from django.http import Http404

from backlog import selectors, services
from backlog.models import AcceptanceCriterion, Comment, Epic, SavedView, Story

pytestmark = pytest.mark.django_db

HOSTILE = '<b>"R&D" & <script>alert(1)</script>\'s'


def _fields(objs):
    return [{k: v for k, v in vars(o).items() if k != "_state"} for o in objs]


def test_backlog_first_rows_are_the_unfiltered_backlogs(product, stories, editor):
    epic = Epic.objects.create(product=product, title=HOSTILE)
    Story.objects.filter(pk=stories[1].pk).update(epic=epic, assignee=editor)
    orm = list(selectors.stories_for_backlog(product=product)[:3])
    compiled = selectors.backlog_first_rows(product=product, limit=3)
    assert _fields(compiled) == _fields(orm) and len(compiled) == 3
    assert [s.epic and s.epic.title for s in compiled] == [s.epic and s.epic.title for s in orm]
    assert [s.assignee_id for s in compiled] == [s.assignee_id for s in orm]
    services.story_move(actor=editor, story=Story.objects.get(pk=stories[4].pk), before=stories[0].pk)
    assert selectors.backlog_first_rows(product=product, limit=3)[0].pk == stories[4].pk


def test_saved_views_are_the_users_and_the_shared_ones(product, editor, viewer):
    SavedView.objects.create(product=product, owner=editor, name=HOSTILE, config={})
    SavedView.objects.create(product=product, owner=viewer, name="Shared", config={}, shared=True)
    SavedView.objects.create(product=product, owner=viewer, name="Private", config={})
    compiled = selectors.saved_views_list(user=editor, product=product)
    assert _fields(compiled) == _fields(selectors.saved_views_for(user=editor, product=product))
    assert [v.name for v in compiled] == [HOSTILE, "Shared"] and compiled[1].owner == viewer


def test_story_of_product_is_the_products_story_or_404(product, stories, foreign_story, admin):
    story = selectors.story_of_product(product=product, story_id=stories[2].pk)
    orm = selectors.story_for_user(user=admin, story_id=stories[2].pk, product=product)
    assert _fields([story]) == _fields([orm]) and story.product is product
    with pytest.raises(Http404):
        selectors.story_of_product(product=product, story_id=foreign_story.pk)


def test_comments_and_criteria_in_their_order_and_after_a_write(product, stories, admin):
    story = stories[0]
    Comment.objects.create(story=story, author=admin, body=HOSTILE)
    Comment.objects.create(story=story, author=None, body="second")
    AcceptanceCriterion.objects.create(story=story, text="b", position=2)
    AcceptanceCriterion.objects.create(story=story, text=HOSTILE, position=1)
    comments = selectors.story_comments(story_id=story.pk)
    assert _fields(comments) == _fields(story.comments.select_related("author"))
    assert comments[0].author == admin and comments[1].author is None
    assert [c.text for c in selectors.story_criteria(story_id=story.pk)] == [HOSTILE, "b"]
    AcceptanceCriterion.objects.filter(text="b").update(position=0)
    assert [c.text for c in selectors.story_criteria(story_id=story.pk)] == ["b", HOSTILE]
    assert selectors.epic_choices(product_id=product.pk) == list(
        Epic.objects.filter(product=product).values_list("id", "title"))
