"""Burn-down, burn-up and velocity against histories computed by hand."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from backlog.services import story_status_set
from delivery import burn, selectors, services
from delivery.models import IterationItem, StoryStatusEvent

from .factories import IterationFactory, StoryFactory

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# A 5-day iteration (Mon 2 Nov - Fri 6 Nov 2026). A=5, B=3, C=2 planned before it starts;
# A done on Tue; D=4 added on Wed; C removed on Thu; B done Thu 23:30 UTC, which is already
# Friday 00:30 in Berlin; D done Friday.
STAYS = [
    ("A", utc(2026, 11, 1, 10), None),
    ("B", utc(2026, 11, 1, 10), None),
    ("C", utc(2026, 11, 1, 10), utc(2026, 11, 5, 12)),
    ("D", utc(2026, 11, 4, 10), None),
]
EVENTS = [
    ("A", utc(2026, 11, 1, 9), "ready"), ("A", utc(2026, 11, 3, 15), "done"),
    ("B", utc(2026, 11, 5, 23, 30), "done"),
    ("D", utc(2026, 11, 6, 8), "done"),
]
POINTS = {"A": 5, "B": 3, "C": 2, "D": 4}


def test_burn_series_by_hand_in_berlin():
    series = burn.burn_series(start=date(2026, 11, 2), end=date(2026, 11, 6), tz="Europe/Berlin", stays=STAYS,
                              events=EVENTS, points=POINTS, done_statuses={"done"}, today=date(2026, 11, 6))
    assert [(d.scope, d.completed, d.remaining) for d in series] == [
        (10, 0, 10),  # Mon: A+B+C
        (10, 5, 5),   # Tue: A done
        (14, 5, 9),   # Wed: D added
        (12, 5, 7),   # Thu: C removed; B's 23:30 UTC is Friday in Berlin
        (12, 12, 0),  # Fri: B and D done
    ]
    assert [d.ideal for d in series] == [10, 7.5, 5, 2.5, 0]


def test_days_follow_the_workspace_time_zone():
    series = burn.burn_series(start=date(2026, 11, 2), end=date(2026, 11, 6), tz="UTC", stays=STAYS,
                              events=EVENTS, points=POINTS, done_statuses={"done"}, today=date(2026, 11, 6))
    assert series[3].completed == 8  # in UTC, B is done on Thursday


def test_future_days_are_not_drawn():
    series = burn.burn_series(start=date(2026, 11, 2), end=date(2026, 11, 6), tz="UTC", stays=STAYS,
                              events=EVENTS, points=POINTS, done_statuses={"done"}, today=date(2026, 11, 3))
    assert [d.remaining for d in series] == [10, 5, None, None, None]


def test_reopened_story_is_no_longer_completed():
    events = [("A", utc(2026, 11, 2, 9), "done"), ("A", utc(2026, 11, 3, 9), "in_progress")]
    series = burn.burn_series(start=date(2026, 11, 2), end=date(2026, 11, 3), tz="UTC",
                              stays=[("A", utc(2026, 11, 1), None)], events=events, points={"A": 5},
                              done_statuses={"done"})
    assert [d.completed for d in series] == [5, 0]


def test_average_velocity_uses_the_last_three():
    assert burn.average_velocity([30, 12, 8, 10]) == 10
    assert burn.average_velocity([]) is None


@pytest.mark.parametrize(("delta", "velocity", "days", "expected"), [
    (5, 10, 14, 7),      # half an iteration
    (3, 10, 14, 5),      # 4.2 days rounds up
    (-3, 10, 14, -4),    # a removal gives back at most the whole days it frees
    (5, None, 14, None),  # no history, no estimate
])
def test_date_impact(delta, velocity, days, expected):
    assert burn.date_impact_days(points_delta=delta, velocity=velocity, iteration_days=days) == expected


def test_capacity_arithmetic_and_warning():
    assert burn.capacity_state(committed=8, capacity=10) == {
        "committed": 8, "capacity": 10, "percent": 80, "over": False, "over_by": 0, "free": 2}
    over = burn.capacity_state(committed=13, capacity=10)
    assert over["over"] and over["over_by"] == 3 and over["percent"] == 130 and over["free"] == 0
    assert burn.capacity_state(committed=10, capacity=10)["over"] is False
    assert burn.capacity_state(committed=1, capacity=0)["over"] is True


def _history(product, actor):
    """The hand-computed history above, written through the backlog's status service."""
    iteration = IterationFactory(product=product, start_date=date(2026, 11, 2), end_date=date(2026, 11, 6),
                                 capacity_points=12)
    stories = {}
    for key, stay_start, stay_end in STAYS:
        story = StoryFactory(product=product, title=key, points=POINTS[key], status="ready")
        stories[key] = story
        IterationItem.objects.create(iteration=iteration, story=story, added_at=stay_start, removed_at=stay_end)
    for key, at, status in EVENTS:
        story_status_set(actor=actor, story=stories[key], status=status, at=at)
    return iteration, stories


def test_burn_for_reads_status_events_and_membership(product, workspace, admin):
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    iteration, _ = _history(product, admin)
    assert StoryStatusEvent.objects.filter(product=product).count() == 3  # A's first "ready" is no change
    with time_machine.travel(utc(2026, 11, 6, 18), tick=False):
        series = selectors.burn_for(iteration=selectors.iteration_for_product(product=product,
                                                                              iteration_id=iteration.id))
    assert [d.remaining for d in series] == [10, 5, 9, 7, 0]
    assert [d.scope for d in series] == [10, 10, 14, 12, 12]


def test_velocity_counts_completed_points_per_finished_iteration(product, admin):
    first, _ = _history(product, admin)
    second = IterationFactory(product=product, start_date=date(2026, 11, 9), end_date=date(2026, 11, 13))
    late = StoryFactory(product=product, points=8)
    IterationItem.objects.create(iteration=second, story=late, added_at=utc(2026, 11, 8))
    story_status_set(actor=admin, story=late, status="done", at=utc(2026, 11, 12, 10))
    IterationFactory(product=product, start_date=date(2026, 11, 16), end_date=date(2026, 11, 20))  # current
    with time_machine.travel(utc(2026, 11, 17, 12), tick=False):
        summary = selectors.velocity_summary(product=product)
    assert [(v["name"], v["completed"]) for v in summary["iterations"]] == [(first.name, 12), (second.name, 8)]
    assert summary["average"] == 10
    assert summary["iteration_days"] == 5


def test_velocity_query_count_does_not_grow_with_iterations(product, django_assert_max_num_queries):
    for week in range(6):
        it = IterationFactory(product=product, start_date=date(2026, 9, 7 + week), end_date=date(2026, 9, 7 + week))
        for _ in range(3):
            IterationItem.objects.create(iteration=it, story=StoryFactory(product=product), added_at=utc(2026, 9, 1))
    # Iterations, all their stays, all events, and the product's workflow (what counts as done).
    with django_assert_max_num_queries(4):
        assert len(selectors.velocity_for(product=product)) == 6


@time_machine.travel(utc(2026, 11, 4, 12), tick=False)  # during the iteration
def test_capacity_of_an_iteration_from_its_open_stays(product, editor):
    iteration = IterationFactory(product=product, capacity_points=10)
    for points in (5, 4):
        services.iteration_add_story(actor=editor, iteration=iteration,
                                     story_id=StoryFactory(product=product, points=points).id)
    assert services.iteration_capacity(iteration=iteration)["over"] is False
    extra = StoryFactory(product=product, points=2)
    services.iteration_add_story(actor=editor, iteration=iteration, story_id=extra.id)
    fresh = selectors.iteration_for_product(product=product, iteration_id=iteration.id)
    assert services.iteration_capacity(iteration=fresh) == {
        "committed": 11, "capacity": 10, "percent": 110, "over": True, "over_by": 1, "free": 0}
    services.iteration_remove_story(actor=editor, iteration=iteration, story_id=extra.id)
    assert services.iteration_capacity(iteration=iteration)["committed"] == 9


def test_committed_points_are_the_same_in_the_list_the_velocity_table_and_the_api(client_as, api_as, product,
                                                                                  editor, workspace):
    """The sprint of issue 14 (21 in one table, 13 in the other): 8 + 5 + 8 points planned, one
    8-point story carried over after the end, a 3-point story taken out during the sprint.
    Committed = the stories not taken out before the end of the last day: 21."""
    iteration = IterationFactory(product=product, start_date=date(2026, 11, 2), end_date=date(2026, 11, 13),
                                 capacity_points=20)
    a, b, carried, dropped = (StoryFactory(product=product, points=p) for p in (8, 5, 8, 3))
    with time_machine.travel(utc(2026, 11, 1, 10), tick=False):
        for story in (a, b, carried, dropped):
            services.iteration_add_story(actor=editor, iteration=iteration, story_id=story.id)
    with time_machine.travel(utc(2026, 11, 5, 10), tick=False):
        services.iteration_remove_story(actor=editor, iteration=iteration, story_id=dropped.id)
    for story, day in ((a, 6), (b, 12)):
        StoryStatusEvent.objects.create(product=product, story=story, at=utc(2026, 11, day, 15), old_status="ready", new_status="done")
    with time_machine.travel(utc(2026, 11, 16, 8), tick=False):  # the next sprint's planning takes it out
        services.iteration_remove_story(actor=editor, iteration=iteration, story_id=carried.id)

    with time_machine.travel(utc(2026, 11, 20, 12), tick=False):
        page = client_as(editor).get(f"/w/{workspace.slug}/products/{product.id}/iterations/")
        listed = api_as(editor).get(f"/api/v1/iterations/?product={product.id}").json()["results"][0]
        velocity = api_as(editor).get(f"/api/v1/iterations/velocity/?product={product.id}").json()
    row = next(i for i in page.context["iterations"] if i.id == iteration.id)
    assert row.capacity["committed"] == 21 and row.story_count == 3
    assert page.context["velocity"]["iterations"][0]["committed"] == 21
    assert page.context["velocity"]["iterations"][0]["completed"] == 13
    assert listed["committed_points"] == 21
    assert velocity["iterations"][0]["committed"] == 21 and velocity["iterations"][0]["completed"] == 13
