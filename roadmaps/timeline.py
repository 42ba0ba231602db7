"""Layout of the timeline (pure): the visible range, month/quarter columns and bar positions.

Any stored date is drawn: dates outside pmhub.bounds' range (stored before it existed, e.g.
9999-12-31, whose next month does not exist) are clamped to it, and bars to the visible range.
"""

from datetime import date

from pmhub.bounds import add_days, clamp_date


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def timeline_range(dates, today: date) -> tuple[date, date]:
    """From the first month with a date to the month after the last (at least six months)."""
    dates = [clamp_date(d) for d in dates if d is not None] + [clamp_date(today)]
    start = _month_start(min(dates))
    end = _add_months(_month_start(max(dates)), 1)
    while (end.year - start.year) * 12 + end.month - start.month < 6:
        end = _add_months(end, 1)
    return start, end


def columns(start: date, end: date, scale: str = "month") -> list[dict]:
    """Header columns with their left offset and width in percent of the whole range. Month labels
    carry the full year ("Aug 2026"): "Aug 26" reads as a day."""
    total = (end - start).days
    step = 3 if scale == "quarter" else 1
    cols, cur = [], start
    if scale == "quarter":
        cur = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
    while cur < end:
        nxt = _add_months(cur, step)
        left = max(cur, start)
        right = min(nxt, end)
        label = f"Q{(cur.month - 1) // 3 + 1} {cur.year}" if scale == "quarter" else cur.strftime("%b %Y")
        cols.append({"label": label, "left": pct((left - start).days, total),
                     "width": pct((right - left).days, total)})
        cur = nxt
    return cols


def pct(days: int, total: int) -> float:
    return round(100.0 * days / total, 3) if total else 0.0


def bar(start: date | None, end: date | None, range_start: date, range_end: date) -> dict | None:
    """Left and width (percent) of a bar; None when the initiative has no dates."""
    if start is None and end is None:
        return None
    start = min(max(start or end, range_start), range_end)
    end = min(max(end or start, range_start), range_end)
    total = (range_end - range_start).days
    left = (start - range_start).days
    width = max(1, (end - start).days + 1)
    return {"left": pct(left, total), "width": pct(width, total)}


def marker(d: date | None, range_start: date, range_end: date) -> float | None:
    if d is None or not (range_start <= d <= range_end):
        return None
    return pct((d - range_start).days, (range_end - range_start).days)


def shift(d: date | None, days: int) -> date | None:
    return add_days(d, days) if d else None
