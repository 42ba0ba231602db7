"""The KPI figures people see, defined once (pure functions, no Django). docs/figures.md lists
every surface that shows them.

- KPI current value: the latest measurement whose period starts on or before today in the
  workspace's time zone (`metrics.services.kpi_refresh_current` stores it on the KPI;
  `pmhub.clock.today_in` is today).
- KPI change (`kpi_change`): the current value against the value the KPI had before the window
  shown (its latest measurement before the window's first day, within a window of the same
  length), in percent of that value's size. Its sign is the sign of the movement: a value that
  went down never shows "+". Its tone says whether it moved toward the KPI's target: a KPI where
  lower is better that went down is good.
- KPI target (`target_text`): "35 by 31 Mar 2027", "35" without a date, "none" without a target.
"""

from datetime import date
from decimal import Decimal

from pmhub import formatting

GOOD, BAD, FLAT = "good", "bad", "flat"


def kpi_change(*, current, before, direction: str) -> dict | None:
    """{"pct": -7.9, "text": "−7.9 %", "tone": "good"|"bad"|"flat"}, or None when there is no
    current value or nothing to compare with (no earlier value, or an earlier value of 0).

        pct = (current - before) / |before| x 100, rounded to one decimal

    direction is "higher" (higher is better) or "lower"."""
    if current is None or before is None or Decimal(before) == 0:
        return None
    current, before = Decimal(current), Decimal(before)
    pct = round(float((current - before) / abs(before) * 100), 1)
    if current == before or pct == 0:
        tone, text = FLAT, "±0 %"
    else:
        went_up = current > before
        tone = GOOD if went_up == (direction != "lower") else BAD
        text = f"+{pct} %" if went_up else f"−{abs(pct)} %"
    return {"pct": pct, "text": text, "tone": tone}


def target_text(target, target_date: date | None, unit: str | None = None) -> str:
    """How a KPI's target reads: "35 by 31 Mar 2027", "35" (no date), "none" (no target); in the
    KPI's unit when it is given ("€1,200", "45%"), through the one set of value formats
    (pmhub.formatting) that pages, e-mails and exports share."""
    if target is None:
        return "none"
    if unit:
        number = formatting.kpi_value(target, unit)
    else:
        number = format(Decimal(target).quantize(Decimal("0.01")).normalize(), "f")  # 35.0000 -> 35, 35.5 -> 35.5
    return f"{number} by {formatting.date(target_date)}" if target_date else number
