"""The one "today": the calendar day of now in a workspace's time zone.

Every figure and rule that depends on the date (a KPI's current value, a measurement "in the
future", a past end date, an iteration's burn, a report period, the adoption windows, the demo's
dates) asks this module, so a workspace in Auckland and one in Los Angeles each see their own day,
and a test freezes one clock (time-machine) for all of them. See docs/decisions/1111-one-today.md.
"""

import zoneinfo
from datetime import date, datetime

from django.utils import timezone

UTC = zoneinfo.ZoneInfo("UTC")


def zone(time_zone: str | None) -> zoneinfo.ZoneInfo:
    """The workspace's zone; an empty or unknown name (never stored by our services, but old
    rows may hold one) is UTC rather than an error on every page."""
    try:
        return zoneinfo.ZoneInfo(time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def today_in(time_zone: str | None, now: datetime | None = None) -> date:
    """The local calendar day of `now` (default: the current moment) in `time_zone`, a
    workspace's `time_zone` field. A naive `now` is read as already local."""
    now = now or timezone.now()
    if now.tzinfo is None:
        return now.date()
    return now.astimezone(zone(time_zone)).date()


def workspace_today(workspace, now: datetime | None = None) -> date:
    """`today_in(workspace.time_zone)`: the same helper, for callers that hold the workspace."""
    return today_in(workspace.time_zone, now)
