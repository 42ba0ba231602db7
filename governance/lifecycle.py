"""Product lifecycle evidence, pure (no Django). Definitions (docs/figures.md, decisions/1508):

- a series is **declining over N periods** when its last N period-over-period changes all move
  the wrong way (down for a higher-is-better signal, up for a lower-is-better one): it needs N + 1
  values, the last N + 1 complete months;
- a product in introduction, growth or maturity is **proposed for decline** when at least one
  signal has enough data and every signal that has enough data is declining.
"""

from __future__ import annotations

STAGES = ["idea", "development", "introduction", "growth", "maturity", "decline", "retired"]
WATCHED = ("introduction", "growth", "maturity")


def declining(values: list, periods: int, *, lower_is_better: bool = False) -> bool | None:
    """None when there are fewer than periods + 1 values (not enough data)."""
    if periods < 1 or len(values) < periods + 1:
        return None
    tail = values[-(periods + 1):]
    steps = list(zip(tail, tail[1:], strict=False))
    return all(b > a for a, b in steps) if lower_is_better else all(b < a for a, b in steps)


def propose_decline(stage: str, signals: dict[str, bool | None]) -> bool:
    if stage not in WATCHED:
        return False
    judged = [v for v in signals.values() if v is not None]
    return bool(judged) and all(judged)


def month_starts(today, count: int) -> list:
    """The first days of the last `count` complete months before `today`'s month, oldest first."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(today.replace(year=year, month=month, day=1))
    return list(reversed(out))
