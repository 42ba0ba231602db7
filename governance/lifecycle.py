"""Product lifecycle evidence, pure (no Django). Definitions (docs/figures.md, decisions/1508):

- a series is **declining over N periods** when its last N period-over-period changes all move
  the wrong way (down for a higher-is-better signal, up for a lower-is-better one): it needs N + 1
  values, the last N + 1 complete months;
- a product in introduction, growth or maturity is **proposed for decline** when at least one
  signal has enough data and every signal that has enough data is declining;
- a series is **rising over N periods** when its last N changes all move the right way, and
  **flat over N periods** when each of its last N changes is within FLAT_BAND (2%) of the value
  before it (a value of 0 is flat only when the next is 0 too);
- a product in **introduction** is proposed for **growth** when every signal with enough data
  rises; a product in **growth** is proposed for **maturity** when every signal with enough data
  is flat (decisions/1509). Decline is checked first.
"""

from __future__ import annotations

STAGES = ["idea", "development", "introduction", "growth", "maturity", "decline", "retired"]
WATCHED = ("introduction", "growth", "maturity")
FLAT_BAND = 0.02


def declining(values: list, periods: int, *, lower_is_better: bool = False) -> bool | None:
    """None when there are fewer than periods + 1 values (not enough data)."""
    if periods < 1 or len(values) < periods + 1:
        return None
    tail = values[-(periods + 1):]
    steps = list(zip(tail, tail[1:], strict=False))
    return all(b > a for a, b in steps) if lower_is_better else all(b < a for a, b in steps)


def trend(values: list, periods: int, *, lower_is_better: bool = False) -> str | None:
    """"declining", "rising", "flat" or "mixed" over the last `periods` changes; None when there
    are fewer than periods + 1 values."""
    if periods < 1 or len(values) < periods + 1:
        return None
    if declining(values, periods, lower_is_better=lower_is_better):
        return "declining"
    tail = values[-(periods + 1):]
    steps = list(zip(tail, tail[1:], strict=False))
    if all((b < a) if lower_is_better else (b > a) for a, b in steps):
        return "rising"
    if all(abs(b - a) <= FLAT_BAND * abs(a) for a, b in steps):
        return "flat"
    return "mixed"


NEXT_STAGE = {"introduction": ("rising", "growth"), "growth": ("flat", "maturity")}


def propose_stage(stage: str, trends: dict[str, str | None]) -> str | None:
    """The stage to propose from the signals' trends, or None: decline (from any watched stage)
    when every judged signal declines; else growth from introduction when every judged signal
    rises, maturity from growth when every judged signal is flat."""
    if stage not in WATCHED:
        return None
    judged = [t for t in trends.values() if t is not None]
    if not judged:
        return None
    if all(t == "declining" for t in judged):
        return "decline"
    wanted = NEXT_STAGE.get(stage)
    if wanted and all(t == wanted[0] for t in judged):
        return wanted[1]
    return None


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
