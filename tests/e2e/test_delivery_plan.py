"""Planning an iteration in a real Chromium: drag stories from the backlog into the iteration."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from delivery.models import IterationItem
from pmhub.models import Role
from tests.delivery.factories import IterationFactory, ProductFactory, StoryFactory
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _drag(page, source, target):
    """SortableJS listens to pointer events: move the mouse in steps so it sees a real drag."""
    src, dst = source.bounding_box(), target.bounding_box()
    page.mouse.move(src["x"] + src["width"] / 3, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(src["x"] + src["width"] / 3 + 5, src["y"] + src["height"] / 2 + 5, steps=5)
    page.mouse.move(dst["x"] + dst["width"] / 2, dst["y"] + dst["height"] - 10, steps=20)
    page.mouse.up()


@pytest.mark.drag
def test_plan_an_iteration_by_dragging_stories(page, live_server, sign_in, screenshot_path):
    user = UserFactory(email="pm@example.com", name="Priya PM")
    membership = MembershipFactory(user=user, role=Role.EDITOR)
    product = ProductFactory(workspace=membership.workspace, name="Acme Analytics")
    today = timezone.localdate()
    iteration = IterationFactory(product=product, name="Sprint 4", start_date=today - timedelta(days=2),
                                 end_date=today + timedelta(days=11), capacity_points=8)
    first = StoryFactory(product=product, title="Usage heatmap", points=5)
    second = StoryFactory(product=product, title="Public share links", points=5)
    StoryFactory(product=product, title="Dark mode", points=3)
    sign_in(page, user)
    url = f"{live_server.url}/w/{membership.workspace.slug}/products/{product.id}/iterations/{iteration.id}/"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    iteration_column = page.get_by_test_id("iteration-column")

    _drag(page, page.get_by_test_id(f"story-{first.id}"), iteration_column)
    expect(iteration_column.locator(f"[data-testid=story-{first.id}]")).to_be_visible()
    expect(page.locator(f"[data-testid=story-{first.id}][data-saved=true]")).to_have_count(1)
    expect(page.get_by_test_id("capacity-warning")).to_be_hidden()

    _drag(page, page.get_by_test_id(f"story-{second.id}"), iteration_column)
    expect(page.locator(f"[data-testid=story-{second.id}][data-saved=true]")).to_have_count(1)
    expect(page.get_by_test_id("capacity-warning")).to_be_visible()  # 10 of 8 points
    expect(page.get_by_test_id("capacity-warning")).to_contain_text("Over capacity by 2 points")

    page.reload()
    expect(iteration_column.locator(f"[data-testid=story-{first.id}]")).to_be_visible()
    expect(iteration_column.locator(f"[data-testid=story-{second.id}]")).to_be_visible()
    expect(page.get_by_test_id("backlog-column").locator(".story-title", has_text="Dark mode")).to_be_visible()
    assert set(IterationItem.objects.filter(iteration=iteration, removed_at__isnull=True)
               .values_list("story_id", flat=True)) == {first.id, second.id}
    page.screenshot(path=screenshot_path("delivery-iteration.png"), full_page=True)


def test_keyboard_alternative_moves_a_story(page, live_server, sign_in):
    user = UserFactory(email="kb@example.com")
    membership = MembershipFactory(user=user, role=Role.EDITOR)
    product = ProductFactory(workspace=membership.workspace)
    iteration = IterationFactory(product=product, capacity_points=8)
    story = StoryFactory(product=product, title="Keyboard story", points=3)
    sign_in(page, user)
    page.goto(f"{live_server.url}/w/{membership.workspace.slug}/products/{product.id}/iterations/{iteration.id}/")
    button = page.get_by_role("button", name=re.compile("Add to iteration “Keyboard story”"))
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("iteration-column").locator(f"[data-testid=story-{story.id}]")).to_be_visible()
    assert IterationItem.objects.filter(iteration=iteration, story=story, removed_at__isnull=True).exists()


@pytest.mark.drag
def test_a_story_of_a_chunk_loaded_later_is_dragged_into_the_iteration(page, live_server, sign_in):
    """The planning column shows BACKLOG_CHUNK (30) unplanned stories and loads the next as it is revealed; a card
    of a later chunk is dragged into the iteration like the first ones."""
    from delivery.views import BACKLOG_CHUNK
    from tests.backlog.factories import make_stories

    user = UserFactory(email="pm@example.com", name="Priya PM")
    membership = MembershipFactory(user=user, role=Role.EDITOR)
    product = ProductFactory(workspace=membership.workspace, name="Acme Analytics")
    today = timezone.localdate()
    iteration = IterationFactory(product=product, name="Sprint 5", start_date=today, end_date=today + timedelta(days=13),
                                 capacity_points=20)
    stories = make_stories(product, BACKLOG_CHUNK + 5, actor=user, status="ready", points=2)
    sign_in(page, user)
    # Tall enough that the iteration column and the last cards are on screen together.
    page.set_viewport_size({"width": 1280, "height": 4800})
    page.goto(f"{live_server.url}/w/{membership.workspace.slug}/products/{product.id}/iterations/{iteration.id}/")
    backlog_column = page.get_by_test_id("backlog-column")
    expect(backlog_column.locator(".story-card")).to_have_count(BACKLOG_CHUNK + 5)  # the second chunk arrived
    late = stories[BACKLOG_CHUNK + 3]
    _drag(page, page.get_by_test_id(f"story-{late.id}"), page.get_by_test_id("iteration-column"))
    expect(page.locator(f"[data-testid=story-{late.id}][data-saved=true]")).to_have_count(1)
    assert list(IterationItem.objects.filter(iteration=iteration, removed_at__isnull=True)
                .values_list("story_id", flat=True)) == [late.id]
