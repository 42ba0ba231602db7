"""The iteration page's reads compiled once (decision 2210) answer what the ORM reads they stand for
answer: the iteration with its committed points and story count (and 404 outside the product), and
the planning column's unplanned stories in backlog order, by the product's own workflow, for the
first chunk and the next ones. Written, then read again: never a stale answer."""

import pytest
from django.http import Http404

from backlog.models import BacklogSettings, Story
from delivery import selectors, services

from .factories import IterationFactory, ProductFactory, StoryFactory

pytestmark = pytest.mark.django_db


def _orm_iteration(product, iteration_id):
    return selectors.iterations_of_product(product=product).get(pk=iteration_id)


def _same(a, b):
    assert (a.pk, a.committed_points, a.story_count, a.name, a.goal, a.start_date, a.end_date, a.capacity_points,
            a.version, a.product_id, a.product.workspace_id) == (
        b.pk, b.committed_points, b.story_count, b.name, b.goal, b.start_date, b.end_date, b.capacity_points,
        b.version, b.product_id, b.product.workspace_id)


def test_the_iteration_is_the_orm_read_and_follows_its_writes(product, editor):
    iteration = IterationFactory(product=product, goal='<b>"R&D"</b>')
    stories = [StoryFactory(product=product, points=k) for k in range(1, 6)]
    _same(selectors.iteration_for_product(product=product, iteration_id=iteration.pk),
          _orm_iteration(product, iteration.pk))
    for story in stories[:4]:
        services.iteration_add_story(actor=editor, iteration=iteration, story_id=story.id)
    services.iteration_remove_story(actor=editor, iteration=iteration, story_id=stories[0].id)
    read = selectors.iteration_for_product(product=product, iteration_id=iteration.pk)
    _same(read, _orm_iteration(product, iteration.pk))
    # The iteration has ended (factory dates): the story taken out after its end still counts.
    assert (read.committed_points, read.story_count) == (1 + 2 + 3 + 4, 4)
    Story.objects.filter(pk=stories[1].pk).update(points=20)
    assert selectors.iteration_for_product(product=product, iteration_id=iteration.pk).committed_points == 28


def test_an_iteration_of_another_product_or_none_is_404(product, workspace):
    other = IterationFactory(product=ProductFactory(workspace=workspace))
    for iteration_id in (other.pk, 10**9):
        with pytest.raises(Http404):
            selectors.iteration_for_product(product=product, iteration_id=iteration_id)
    # A text id (not an URL's int) takes the ORM's path, with the same answer.
    mine = IterationFactory(product=product)
    _same(selectors.iteration_for_product(product=product, iteration_id=str(mine.pk)), _orm_iteration(product, mine.pk))


@pytest.mark.parametrize("workflow", [None, [{"key": "idea", "label": "Idea", "category": "todo"},
                                              {"key": "shipped", "label": "Shipped", "category": "done"},
                                              {"key": "dropped", "label": "Dropped", "category": "excluded"}]])
def test_backlog_cards_are_the_orm_rows_in_every_chunk(product, editor, workflow):
    if workflow:
        BacklogSettings.objects.update_or_create(product=product, defaults={"workflow": workflow})
    product.refresh_from_db()
    statuses = ["idea", "shipped", "dropped", "done", "wont_do", "ready"]
    stories = [StoryFactory(product=product, status=statuses[k % 6], rank=(k * 7) % 24, points=k % 4 or None)
               for k in range(24)]
    StoryFactory(product=ProductFactory(workspace=product.workspace))  # another product's: never shown
    iteration = IterationFactory(product=product)
    services.iteration_add_story(actor=editor, iteration=iteration, story_id=stories[5].id)

    def orm(limit, offset):
        return list(selectors.backlog_stories(product=product, limit=limit, offset=offset)
                    .values_list(*selectors.CARD_VALUES))

    for limit, offset in ((31, 0), (5, 0), (5, 5), (31, 30)):
        assert selectors.backlog_cards(product=product, limit=limit, offset=offset) == orm(limit, offset)
    first = selectors.backlog_cards(product=product, limit=31)
    assert stories[5].id not in [row[0] for row in first] and first
    services.iteration_add_story(actor=editor, iteration=iteration, story_id=first[0][0])
    again = selectors.backlog_cards(product=product, limit=31)
    assert first[0][0] not in [row[0] for row in again] and again == orm(31, 0)
