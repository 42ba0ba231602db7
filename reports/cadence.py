"""When is a subscription due, and which period does a run belong to. Pure functions.

Everything is computed in the workspace's time zone: a weekly report "Monday 08:00" in
Europe/Berlin is due at 07:00 UTC in winter and 06:00 UTC in summer. Periods are ISO weeks
("2026-W48") and calendar months ("2026-11") of the local date of the scheduled moment.
"""

import zoneinfo
from datetime import date, datetime, timedelta


def tz_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def period_key(cadence: str, local_day: date) -> str:
    if cadence == "monthly":
        return f"{local_day.year:04d}-{local_day.month:02d}"
    year, week, _ = local_day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def scheduled_moment(*, cadence: str, weekday: int, day_of_month: int, hour: int, now: datetime,
                     time_zone: str) -> datetime:
    """The scheduled moment (aware, in the workspace tz) of the period that contains `now`."""
    tz = tz_of(time_zone)
    local = now.astimezone(tz)
    if cadence == "monthly":
        day = local.date().replace(day=max(1, min(day_of_month, 28)))
    else:
        day = local.date() - timedelta(days=local.weekday()) + timedelta(days=max(0, min(weekday, 6)))
    return datetime(day.year, day.month, day.day, max(0, min(hour, 23)), tzinfo=tz)


def due_period(*, cadence: str, weekday: int, day_of_month: int, hour: int, now: datetime, time_zone: str,
               not_before: datetime | None = None) -> str | None:
    """The period key if the subscription's report for the current period is due at `now`, else None.

    Due means: the scheduled moment of the current week/month has passed. A subscription created
    after that moment waits for the next period (`not_before`), so it does not mail at once.
    """
    moment = scheduled_moment(cadence=cadence, weekday=weekday, day_of_month=day_of_month, hour=hour, now=now,
                              time_zone=time_zone)
    if now < moment:
        return None
    if not_before is not None and moment < not_before:
        return None
    return period_key(cadence, moment.date())

