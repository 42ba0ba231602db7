"""Cutting time into KPI periods in the workspace's time zone (pure functions, no Django).

A timestamp belongs to the local day (then week, month) of the workspace: 23:30 UTC is
already tomorrow in Auckland and still yesterday's evening in Los Angeles.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"


def local_date(moment: datetime, time_zone: str) -> date:
    """The calendar day of `moment` in `time_zone`; a naive datetime is read as local time."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(ZoneInfo(time_zone)).date()


def period_start(day: date, cadence: str) -> date:
    """First day of the period holding `day`: the day, the Monday of its ISO week, the 1st."""
    if cadence == WEEKLY:
        return day - timedelta(days=day.weekday())
    if cadence == MONTHLY:
        return day.replace(day=1)
    return day


def period_end(start: date, cadence: str) -> date:
    """Last day of the period starting at `start`."""
    if cadence == WEEKLY:
        return start + timedelta(days=6)
    if cadence == MONTHLY:
        nxt = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return nxt - timedelta(days=1)
    return start


def period_of(value, cadence: str, time_zone: str) -> date:
    """Period start of a date or a datetime (datetimes are cut in the workspace's zone)."""
    day = local_date(value, time_zone) if isinstance(value, datetime) else value
    return period_start(day, cadence)

