"""A product whose workflow is todo -> doing -> shipped (done) -> dropped (excluded): a shipped
story is done for every reader (progress, burn, velocity, plan, scoring list, importer, reports)
and a dropped one is left out, because "done" comes from the workflow's categories."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from backlog import selectors as backlog_selectors
from backlog import services as backlog_services
from backlog.models import Story
from delivery import selectors, services
from delivery.models import IterationItem, StoryStatusEvent
from reports import sections

from .factories import EpicFactory, IterationFactory, StoryFactory, staged_import

pytestmark = pytest.mark.django_db

SHIPPING = [{"key": "todo", "label": "To do", "category": "todo"},
            {"key": "doing", "label": "Doing", "category": "active"},
            {"key": "shipped", "label": "Shipped", "category": "done"},
            {"key": "dropped", "label": "Dropped", "category": "excluded"}]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def shipping(product, admin):
    backlog_services.settings_update(actor=admin, product=product, workflow=SHIPPING)
    product.refresh_from_db()
    return product


def test_status_service_sets_done_time_version_and_status_event(shipping, editor):
    story = StoryFactory(product=shipping, status="todo", points=3)
    with time_machine.travel(utc(2026, 11, 3, 10), tick=False):
        backlog_services.story_status_set(actor=editor, story=story, status="shipped", version=1)
    story.refresh_from_db()
    assert story.done_at == utc(2026, 11, 3, 10) and story.version == 2
    event = StoryStatusEvent.objects.get(story=story)
    assert (event.old_status, event.new_status) == ("todo", "shipped")
    backlog_services.story_status_set(actor=editor, story=story, status="doing")
    story.refresh_from_db()
    assert story.done_at is None and story.version == 3


def test_shipped_counts_as_done_in_burn_and_velocity(shipping, editor, workspace):
    iteration = IterationFactory(product=shipping, start_date=date(2026, 11, 2), end_date=date(2026, 11, 6))
    shipped, open_, dropped = (StoryFactory(product=shipping, status="todo", points=p) for p in (5, 3, 2))
    for story in (shipped, open_, dropped):
        IterationItem.objects.create(iteration=iteration, story=story, added_at=utc(2026, 11, 1))
    backlog_services.story_status_set(actor=editor, story=shipped, status="shipped", at=utc(2026, 11, 3, 12))
    backlog_services.story_status_set(actor=editor, story=dropped, status="dropped", at=utc(2026, 11, 4, 12))
    with time_machine.travel(utc(2026, 11, 10, 12), tick=False):
        series = selectors.burn_for(iteration=selectors.iteration_for_product(product=shipping,
                                                                              iteration_id=iteration.id))
        velocity = selectors.velocity_summary(product=shipping)
    assert [d.completed for d in series] == [0, 5, 5, 5, 5]
    assert [d.remaining for d in series] == [10, 5, 5, 5, 5]
    assert velocity["iterations"][0]["completed"] == 5


def test_plan_column_and_top_by_score_leave_shipped_and_dropped_out(shipping):
    todo = StoryFactory(product=shipping, status="todo", score=5)
    StoryFactory(product=shipping, status="shipped", score=9)
    StoryFactory(product=shipping, status="dropped", score=8)
    assert list(selectors.backlog_stories(product=shipping)) == [todo]
    assert backlog_selectors.top_by_score(product=shipping) == [todo]


def test_progress_and_reports_count_shipped_as_done(shipping, editor):
    from roadmaps.models import Initiative

    initiative = Initiative.objects.create(product=shipping, title="Billing")
    epic = EpicFactory(product=shipping, initiative=initiative)
    StoryFactory(product=shipping, epic=epic, status="shipped", points=3)
    StoryFactory(product=shipping, epic=epic, status="doing", points=1)
    StoryFactory(product=shipping, epic=epic, status="dropped", points=8)
    work = backlog_selectors.progress_for_initiatives(initiative_ids=[initiative.id])[initiative.id]
    assert (work.done_points, work.total_points, work.percent) == (3, 4, 75)
    roadmap = sections.roadmap(products=[shipping], today=date(2026, 11, 1), previous=None)
    assert roadmap["items"][0]["work"]["percent"] == 75
    backlog = sections.backlog(products=[shipping], today=date(2026, 11, 1), previous=None)
    assert [s["status"] for s in backlog["items"]] == ["doing"]


def test_importer_maps_the_usual_names_to_this_workflow(shipping, editor):
    csv = b"Summary,Status\nA,Done\nB,In Progress\nC,To Do\nD,Won't Do\nE,shipped\n"
    job = staged_import(actor=editor, product=shipping, filename="jira.csv", data=csv)
    preview = services.import_preview(actor=editor, job=job)
    assert preview["errors"] == []
    assert [s["status"] for s in preview["sample"]] == ["shipped", "doing", "todo", "dropped", "shipped"]
    assert Story.objects.filter(product=shipping).count() == 0  # a preview imports nothing
