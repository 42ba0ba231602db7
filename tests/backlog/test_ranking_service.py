"""Every path that writes a rank keeps keys short on the database: one-at-a-time appends and
prepends through the service (hundreds; thousands through the key arithmetic), random moves,
moves at one spot, bulk creates, and keys of an old format (docs/decisions/1220-rank-keys-with-integer-head.md)."""

import importlib
import random

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import ranking, services
from backlog.models import Story

from .factories import make_stories, ranked_titles

pytestmark = pytest.mark.django_db

# Longest key after 300 inserts at each end through the service and random moves (3 at the ends, a few more for
# midpoints between neighbours).
DB_BOUND = 6


def _ranks(product):
    return list(Story.objects.filter(product=product).order_by("rank").values_list("rank", flat=True))


def test_hundreds_of_one_at_a_time_appends_prepends_and_moves_stay_short(admin, product):
    # Thousands of appends and prepends are driven through the key arithmetic alone in
    # tests/backlog/test_ranking.py; here the service's reads of its neighbours and its writes.
    rng = random.Random(5)
    expected = []
    for i in range(300):
        services.story_create(actor=admin, product=product, title=f"B{i}")
        expected.append(f"B{i}")
        services.story_create(actor=admin, product=product, title=f"T{i}", position="top")
        expected.insert(0, f"T{i}")
    assert ranked_titles(product) == expected
    assert max(len(k) for k in _ranks(product)) <= 4
    stories = {s.title: s for s in Story.objects.filter(product=product)}
    for _ in range(300):
        moved, anchor = rng.sample(expected, 2)
        where = rng.choice(["before", "after"])
        services.story_move(actor=admin, story=stories[moved], **{where: stories[anchor].id})
        expected.remove(moved)
        expected.insert(expected.index(anchor) + (where == "after"), moved)
    assert ranked_titles(product) == expected
    assert max(len(k) for k in _ranks(product)) <= DB_BOUND


def test_moves_at_one_spot_rebalance_inline_before_a_key_gets_too_long(admin, product):
    stories = make_stories(product, 6, actor=admin)
    for _ in range(150):  # the same gap, halved again and again
        services.story_move(actor=admin, story=stories[5], before=stories[1].id)
        services.story_move(actor=admin, story=stories[4], before=stories[5].id)
    assert ranked_titles(product) == ["Story 1", "Story 5", "Story 6", "Story 2", "Story 3", "Story 4"]
    assert max(len(k) for k in _ranks(product)) <= ranking.HARD_LENGTH


def test_a_move_is_one_update_of_one_row(admin, product):
    stories = make_stories(product, 5, actor=admin)
    with CaptureQueriesContext(connection) as ctx:
        services.story_move(actor=admin, story=stories[4], before=stories[0].id)
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "backlog_story"')]
    assert len(updates) == 1 and "WHERE \"backlog_story\".\"id\" =" in updates[0]
    assert ranked_titles(product)[0] == "Story 5"


def test_bulk_create_after_a_long_key_appends_short_keys_after_it(admin, product):
    make_stories(product, 3, actor=admin)
    last = Story.objects.filter(product=product).order_by("-rank").first()
    Story.objects.filter(id=last.id).update(rank="i2" + "i" * ranking.HARD_LENGTH)
    created = make_stories(product, 500, actor=admin, status="ready")
    titles = ranked_titles(product)
    assert titles[:3] == ["Story 1", "Story 2", "Story 3"] and len(titles) == 503
    assert max(len(s.rank) for s in created) <= 4


def test_bulk_create_next_to_a_malformed_key_rebalances_inline(admin, product):
    make_stories(product, 3, actor=admin)
    last = Story.objects.filter(product=product).order_by("-rank").first()
    Story.objects.filter(id=last.id).update(rank="zzzi")  # old format
    make_stories(product, 10, actor=admin)
    assert ranked_titles(product)[:4] == ["Story 1", "Story 2", "Story 3", "Story 1"]
    assert max(len(k) for k in _ranks(product)) <= 3


@pytest.mark.parametrize("position", ["top", "bottom"])
def test_create_next_to_a_key_of_the_old_format_rebalances_and_succeeds(admin, product, position):
    make_stories(product, 3, actor=admin)
    first, _, last = Story.objects.filter(product=product).order_by("rank")
    Story.objects.filter(id=first.id).update(rank="0001")  # old format: a base-36 fraction
    Story.objects.filter(id=last.id).update(rank="zzzi")
    services.story_create(actor=admin, product=product, title="New", position=position)
    expected = ["Story 1", "Story 2", "Story 3"]
    assert ranked_titles(product) == (["New", *expected] if position == "top" else [*expected, "New"])
    for key in _ranks(product):
        ranking.validate(key)


def test_migration_rekeys_old_keys_in_their_order(admin, product):
    migration = importlib.import_module("backlog.migrations.0005_rank_keys_with_integer_head")
    stories = make_stories(product, 4, actor=admin)
    for story, old in zip(stories, ["0001", "i", "izzzi", "zzzzzzzzzzzzzzzzzzzzzzzzzzi"], strict=True):
        Story.objects.filter(id=story.id).update(rank=old)
    migration.rekey(apps, None)
    assert ranked_titles(product) == ["Story 1", "Story 2", "Story 3", "Story 4"]
    assert _ranks(product) == ranking.even_keys(4)
    migration.rekey_backwards(apps, None)
    assert ranked_titles(product) == ["Story 1", "Story 2", "Story 3", "Story 4"]
    assert all(not k.endswith("0") and len(k) <= 2 for k in _ranks(product))
