"""Pure arithmetic of adoption, retention and outcome calibration (no Django, no database).

Definitions (see docs/decisions/0703-adoption-and-retention.md):
- adoption % of a feature over a window = distinct users of the feature in the window
  / distinct active users of the product (any feature) in the same window x 100.
- trend = adoption % of the window minus adoption % of the window just before it (points).
- retention: cohort = actors whose first use of the feature falls in week 0 (7 days from the
  cohort start); retention[n] = share of the cohort that used the feature in week n.
- calibration: Spearman rank correlation between predicted score and measured relative change.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from math import sqrt

ADOPTION_WINDOW_DAYS = 7


def adoption_percent(users: int, active: int) -> float | None:
    """Share of active users who used the feature, in percent; None when nobody was active."""
    if not active:
        return None
    return round(100.0 * users / active, 2)


def trend_points(current: float | None, previous: float | None) -> float | None:
    """Change in percentage points versus the previous window; None if either is unknown."""
    if current is None or previous is None:
        return None
    return round(current - previous, 2)


def retention_curve(first_use: Mapping[str, date], activity: Iterable[tuple[str, date]], *,
                    cohort_start: date, weeks: int) -> list[dict]:
    """Week-over-week retention of one cohort.

    `first_use` maps actor -> day of their first use of the feature (ever); the cohort is the
    actors whose first use is in [cohort_start, cohort_start + 7 days). `activity` lists
    (actor, day) uses of the feature. Returns [{"week": n, "users": k, "share": k / cohort}]
    for n = 0..weeks-1; week 0 is always the whole cohort (share 1.0), an empty cohort gives
    share None.
    """
    cohort = {actor for actor, day in first_use.items() if 0 <= (day - cohort_start).days < 7}
    seen: list[set[str]] = [set() for _ in range(weeks)]
    for actor, day in activity:
        if actor not in cohort:
            continue
        n = (day - cohort_start).days // 7
        if 0 <= n < weeks:
            seen[n].add(actor)
    size = len(cohort)
    return [{"week": n, "users": len(s), "share": (round(len(s) / size, 4) if size else None)}
            for n, s in enumerate(seen)]


def retention_combined(curves: Sequence[Sequence[dict]], cohort_sizes: Sequence[int]) -> list[dict]:
    """Average several cohorts' curves, weighting by cohort size; week n counts only the cohorts
    that have lived through week n (pass each curve truncated to its elapsed weeks)."""
    length = max((len(c) for c in curves), default=0)
    out = []
    for n in range(length):
        retained = sum(c[n]["users"] for c in curves if len(c) > n)
        size = sum(s for c, s in zip(curves, cohort_sizes, strict=True) if len(c) > n)
        out.append({"week": n, "users": retained, "cohort": size,
                    "share": round(retained / size, 4) if size else None})
    return out


def relative_change(baseline, measured, *, lower_is_better: bool = False) -> float | None:
    """(measured - baseline) / |baseline|, sign flipped for a lower-is-better KPI so that a
    positive number always means improvement. None without both values or with a zero baseline."""
    if baseline is None or measured is None:
        return None
    baseline, measured = float(baseline), float(measured)
    if baseline == 0:
        return None
    change = (measured - baseline) / abs(baseline)
    return round(-change if lower_is_better else change, 4)


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; ties get the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        average = (i + j) / 2 + 1
        for k in range(i, j + 1):
            result[order[k]] = average
        i = j + 1
    return result


def spearman(xs: Sequence[float], ys: Sequence[float]) -> tuple[float | None, int]:
    """Spearman's rank correlation (Pearson correlation of the ranks, so ties are handled) and n.
    None when fewer than 3 pairs or when either side has no spread."""
    pairs = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
    n = len(pairs)
    if n < 3:
        return None, n
    rx, ry = ranks([p[0] for p in pairs]), ranks([p[1] for p in pairs])
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None, n
    return round(cov / sqrt(vx * vy), 4), n
