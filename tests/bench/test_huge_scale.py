"""The huge bench scale (issue 23, target 5): 100,000 stories in the workspace, 10,000 in one backlog,
written by COPY. Generates the core rows and the backlog case at that scale on the test database."""

import random

import pytest
from django.db.models import F

from bench.cases import backlog
from bench.generate import generate_core
from bench.harness import HUGE, SCALES, Context, Timer
from tests.services import on_postgres, require


def test_huge_is_a_scale_of_its_own():
    assert SCALES["huge"] is HUGE
    assert HUGE.stories == 10_000
    assert HUGE.stories + (HUGE.products - 1) * HUGE.stories_other >= 100_000


@pytest.mark.django_db
def test_huge_scale_generates_100k_stories_with_10k_in_one_backlog():
    require(on_postgres(), "COPY is PostgreSQL's")
    from backlog.models import Story

    ctx = Context(rng=random.Random(7), scale=HUGE, timer=Timer(), vendor="postgresql")
    generate_core(ctx, workspace_slug="huge")
    backlog.generate(ctx)

    in_workspace = Story.objects.filter(product__workspace=ctx.workspace)
    assert in_workspace.count() == 10_000 + 19 * 4_737
    assert in_workspace.filter(product=ctx.product).count() == 10_000
    (stories,) = [s for s in ctx.timer.sections if s.name == "backlog_story"]
    assert stories.method == "COPY" and stories.rows == 100_003
    # The other products' stories belong to epics of their own (the workspace's roll-ups count them).
    others = in_workspace.exclude(product=ctx.product)
    assert others.filter(epic__isnull=False).count() > 0.8 * others.count()
    assert not others.exclude(epic__isnull=True).exclude(epic__product_id=F("product_id")).exists()
