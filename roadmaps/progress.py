"""Progress arithmetic (pure functions, no queries)."""

from decimal import Decimal


def key_result_progress(*, start, target, current) -> float:
    """(current - start) / (target - start), clamped to 0..1.

    Works for decreasing targets too (start 40, target 10, current 25 -> 0.5), because numerator
    and denominator change sign together. A target equal to the start is met once current reaches it.
    """
    start, target, current = (Decimal(str(v if v is not None else 0)) for v in (start, target, current))
    span = target - start
    if span == 0:
        return 1.0 if current == target else 0.0
    ratio = (current - start) / span
    return float(min(Decimal(1), max(Decimal(0), ratio)))


def work_progress(*, done_points, total_points, done_count, total_count) -> float | None:
    """Share of work done: weighted by story points when any story has points, else by count.

    Stories in excluded statuses are already left out of the totals by the selector. None when
    there is no work at all (shown as "no stories yet").
    """
    if total_points:
        return min(1.0, float(done_points or 0) / float(total_points))
    if total_count:
        return min(1.0, float(done_count or 0) / float(total_count))
    return None
