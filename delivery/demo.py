"""Demo data of the delivery app: 3 finished iterations with history and 1 current one, in
product "Acme Analytics". Idempotent: everything is get_or_create; history is written only
when its iteration is created."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from backlog.models import Story
from pmhub.clock import today_in
from roadmaps.models import Product

from .models import Iteration, IterationItem, StoryStatusEvent

ITERATION_DAYS = 14
PLAN = [  # per iteration: (title, points, day it got done or None)
    [("Event ingestion API", 5, 4), ("Daily rollup job", 3, 8), ("Dashboard skeleton", 5, 12),
     ("Login with SSO", 8, None)],
    [("Login with SSO (part 2)", 5, 3), ("Funnel chart", 8, 9), ("CSV export of charts", 3, 11),
     ("Retention cohort table", 5, 13)],
    [("Alert on KPI drop", 5, 5), ("Slack notifications", 3, 6), ("Saved filters", 5, 10),
     ("Chart annotations", 3, None)],
    [("Usage heatmap", 8, 2), ("Public share links", 5, None), ("Dark mode", 3, None), ("Embed widget", 5, None)],
]


def seed(*, workspace, users):
    product, _ = Product.objects.get_or_create(workspace=workspace, name="Acme Analytics")
    tz = ZoneInfo(workspace.time_zone)
    today = today_in(workspace.time_zone)
    current_start = today - timedelta(days=5)
    assignee = users.get("eng") or users.get("demo")
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
        for title, points, done_day in stories:
            story, _ = Story.objects.get_or_create(product=product, title=title,
                                                   defaults={"points": points, "status": "ready",
                                                             "assignee": assignee})
            if IterationItem.objects.filter(story=story, removed_at__isnull=True).exists():
                continue
            IterationItem.objects.create(iteration=iteration, story=story, added_at=start_at)
            StoryStatusEvent.objects.create(product=product, story=story, old_status=None, new_status="ready",
                                            at=start_at - timedelta(days=1))
            if done_day is not None and start_at + timedelta(days=done_day) < timezone.now():
                StoryStatusEvent.objects.create(product=product, story=story, old_status="ready",
                                                new_status="done", at=start_at + timedelta(days=done_day))
                Story.objects.filter(pk=story.pk).update(status="done")
            elif iteration.end_date < today:
                # Unfinished work of a past sprint was carried over: close its stay at the end.
                IterationItem.objects.filter(story=story, removed_at__isnull=True).update(
                    removed_at=datetime.combine(iteration.end_date + timedelta(days=1), time(8), tzinfo=tz))
    return product
