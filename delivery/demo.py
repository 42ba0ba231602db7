"""Demo data of the delivery app: 3 finished iterations with history and 1 current one, in
product "Acme Analytics". Idempotent: everything is get_or_create; history is written only
when its iteration is created."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Epic, Story
from pmhub.clock import today_in
from roadmaps.models import Product, Release

from . import services
from .models import Iteration, IterationItem

ITERATION_DAYS = 14
PLAN = [  # per iteration: (title, points, day it got done or None, epic (backlog.demo) or None)
    [("Event ingestion API", 5, 4, "Data connectors"), ("Daily rollup job", 3, 8, "Data connectors"),
     ("Dashboard skeleton", 5, 12, "Dashboards 2.0"), ("Login with SSO", 8, None, "Enterprise readiness")],
    [("Login with SSO (part 2)", 5, 3, "Enterprise readiness"), ("Funnel chart", 8, 9, "Dashboards 2.0"),
     ("CSV export of charts", 3, 11, "Dashboards 2.0"), ("Retention cohort table", 5, 13, "Data connectors")],
    [("Alert on KPI drop", 5, 5, "Digest e-mails"), ("Slack notifications", 3, 6, "Digest e-mails"),
     ("Saved filters", 5, 10, "Self-serve onboarding"), ("Chart annotations", 3, None, "Dashboards 2.0")],
    [("Usage heatmap", 8, 2, "Self-serve onboarding"), ("Public share links", 5, None, "Self-serve onboarding"),
     ("Dark mode", 3, None, None), ("Embed widget", 5, None, "Dashboards 2.0")],
]
# A story without an epic, put in a release one by one (a release's scope is its epics' stories
# plus such stories).
DIRECT_SCOPE = [("Dark mode", "2.0 Self-serve")]


def seed(*, workspace, users):
    """Stories, their sprints and their status history go through the backlog's services (with
    the moment each change happened), so versions, done times, status events and activity are
    those a real team would have left."""
    product, _ = Product.objects.get_or_create(workspace=workspace, name="Acme Analytics")
    actor = users["demo"]
    tz = ZoneInfo(workspace.time_zone)
    today = today_in(workspace.time_zone)
    current_start = today - timedelta(days=5)
    assignee = users.get("eng") or users.get("demo")
    epics = dict(Epic.objects.filter(product=product).values_list("title", "id"))
    for index, stories in enumerate(PLAN):
        start = current_start - timedelta(days=ITERATION_DAYS * (len(PLAN) - 1 - index))
        end = start + timedelta(days=ITERATION_DAYS - 1)
        iteration, created = Iteration.objects.get_or_create(
            product=product, name=f"Sprint {index + 1}",
            defaults={"start_date": start, "end_date": end, "capacity_points": 20,
                      "goal": "Ship the analytics MVP" if index == 0 else ""})
        if not created:
            continue
        start_at = datetime.combine(iteration.start_date, time(9), tzinfo=tz)
        for title, points, done_day, epic in stories:
            story = Story.objects.filter(product=product, title=title).first()
            if story is None:
                story = backlog_services.story_create(
                    actor=actor, product=product, title=title, points=points, status="ready", assignee_id=assignee.id,
                    epic_id=epics.get(epic), at=start_at - timedelta(days=1))
            if IterationItem.objects.filter(story=story, removed_at__isnull=True).exists():
                continue
            IterationItem.objects.create(iteration=iteration, story=story, added_at=start_at)
            if done_day is not None and start_at + timedelta(days=done_day) < timezone.now():
                backlog_services.story_status_set(actor=actor, story=story, status="done",
                                                  at=start_at + timedelta(days=done_day))
            elif iteration.end_date < today:
                # Unfinished work of a past sprint was carried over: close its stay at the end.
                IterationItem.objects.filter(story=story, removed_at__isnull=True).update(
                    removed_at=datetime.combine(iteration.end_date + timedelta(days=1), time(8), tzinfo=tz))
            elif iteration.start_date <= today:
                backlog_services.story_status_set(actor=actor, story=story, status="in_progress",
                                                  at=start_at + timedelta(hours=2))
    for title, release_name in DIRECT_SCOPE:
        story = Story.objects.filter(product=product, title=title, epic__isnull=True).first()
        release = Release.objects.filter(product=product, name=release_name).first()
        if story and release and not release.scope_items.filter(story=story).exists():
            services.scope_change(actor=actor, release=release, story_id=story.id, kind="add")
    return product
