"""Burn-down, burn-up and velocity: pure functions over histories (no database, no request).

Inputs are plain tuples so the arithmetic can be checked by hand in tests:
- stays: (story_id, added_at, removed_at | None) — a story's time in the iteration;
- events: (story_id, at, new_status) — status changes, any order;
- points: {story_id: points} (current estimate; None counts as 0);
- done_statuses: the statuses of the workflow's done category (a story is completed while in one).

For each calendar day of the iteration (in the workspace's time zone) we look at the state at
the END of that day: the scope is the points of the stories in the iteration then, completed
is the points of those whose latest status at that moment is a done status, and remaining is
scope - completed. A story added before the iteration starts counts from day one. Days after
`today` carry None (the future is not drawn). The ideal line falls linearly from the scope
at the end of the first day with planned work (normally day one) to zero on the last day.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BurnDay:
    day: date
    scope: int | None
    completed: int | None
    remaining: int | None
    ideal: float

    def as_dict(self) -> dict:
        return {"day": self.day.isoformat(), "scope": self.scope, "completed": self.completed,
                "remaining": self.remaining, "ideal": self.ideal}


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of the next day in `tz` (state 'at the end of the day' is before it)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _status_at(events_by_story: dict, story_id, moment: datetime) -> str | None:
    status = None
    for at, new_status in events_by_story.get(story_id, ()):
        if at >= moment:
            break
        status = new_status
    return status


def burn_series(*, start: date, end: date, tz: str | ZoneInfo, stays, events, points: dict,
                done_statuses, today: date | None = None) -> list[BurnDay]:
    """`done_statuses`: the product's statuses in the done category of its workflow (required:
    "done" is never assumed from a status name)."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    events_by_story: dict = {}
    for story_id, at, new_status in sorted(events, key=lambda e: e[1]):
        events_by_story.setdefault(story_id, []).append((at, new_status))
    days = [(start + timedelta(days=i)) for i in range((end - start).days + 1)]
    series: list[BurnDay] = []
    first_scope = None
    for day in days:
        moment = end_of_day(day, tz)
        if today is not None and day > today:
            series.append(BurnDay(day, None, None, None, 0.0))
            continue
        members = {sid for sid, added, removed in stays if added < moment and (removed is None or removed >= moment)}
        scope = sum(points.get(sid) or 0 for sid in members)
        completed = sum(points.get(sid) or 0 for sid in members
                        if _status_at(events_by_story, sid, moment) in done_statuses)
        if not first_scope:  # the ideal line starts from the first day with planned work
            first_scope = scope
        series.append(BurnDay(day, scope, completed, scope - completed, 0.0))
    base = first_scope or 0
    n = len(days) - 1
    return [BurnDay(d.day, d.scope, d.completed, d.remaining, round(base * (1 - i / n), 2) if n else 0.0)
            for i, d in enumerate(series)]


def committed_points(*, stays, points: dict, end: date, tz: str | ZoneInfo) -> int:
    """Committed points of an iteration: the points (current estimates, None counts 0) of its
    stories that were not taken out before the end of its last day (local midnight after `end`).
    A story carried over (taken out after the end) counts: committed and not completed. While
    the iteration runs, that is every story in it now. The same definition as
    delivery.selectors._with_points, which computes it in SQL for lists."""
    moment = end_of_day(end, ZoneInfo(tz) if isinstance(tz, str) else tz)
    return sum(points.get(sid) or 0 for sid, _added, removed in stays if removed is None or removed >= moment)


def completed_points(series: list[BurnDay]) -> int:
    """Completed points of an iteration (its velocity once finished): the points of the stories
    in it at the end of its last day whose status then is in the workflow's done category."""
    last = series[-1] if series else None
    return (last.completed or 0) if last else 0


def average_velocity(velocities: list[int], last: int = 3) -> float | None:
    """Mean completed points of the last `last` finished iterations (None without history)."""
    recent = velocities[-last:]
    return sum(recent) / len(recent) if recent else None


def date_impact_days(*, points_delta: int, velocity: float | None, iteration_days: int | None) -> int | None:
    """Estimated shift of the release date in days:

        points_delta / average velocity per iteration x iteration length in days

    rounded up (math.ceil): an addition never looks cheaper than it is, a removal never
    promises more days back than it gives. None without velocity history."""
    if not velocity or not iteration_days:
        return None
    return math.ceil(points_delta / velocity * iteration_days - 1e-9)


def capacity_state(*, committed: int, capacity: int) -> dict:
    """Committed points against capacity: percent used and whether to warn (over capacity)."""
    percent = round(100 * committed / capacity) if capacity else (100 if committed else 0)
    return {"committed": committed, "capacity": capacity, "percent": percent,
            "over": committed > capacity, "over_by": max(0, committed - capacity),
            "free": max(0, capacity - committed)}
