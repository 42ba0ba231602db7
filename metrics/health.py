"""KPI health arithmetic (pure, no Django). See docs/decisions/0601-kpi-health-rules.md.

Two rules, the worse one wins:

1. Thresholds. Higher is better: value <= critical -> off track, value <= warning -> at risk.
   Lower is better: value >= critical -> off track, value >= warning -> at risk.
2. The straight line from the baseline (b at date d0) to the target (t at date d1). On day d
   the line expects  e = b + (t - b) * clamp((d - d0) / (d1 - d0), 0, 1).
   The shortfall is how far the value is behind the line in the good direction:
   higher: s = e - v; lower: s = v - e. Relative to the planned change |t - b|:
   s / |t - b| <= 5 %  -> on track;  <= 15 % -> at risk;  more -> off track.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ON_TRACK, AT_RISK, OFF_TRACK, UNKNOWN = "on_track", "at_risk", "off_track", "unknown"
SEVERITY = {UNKNOWN: -1, ON_TRACK: 0, AT_RISK: 1, OFF_TRACK: 2}
AT_RISK_GAP = Decimal("0.05")
OFF_TRACK_GAP = Decimal("0.15")


@dataclass(frozen=True)
class Verdict:
    status: str
    expected: Decimal | None = None
    reason: str = ""


def expected_on(*, baseline: Decimal, baseline_date: date, target: Decimal, target_date: date, day: date) -> Decimal:
    """Value the straight line from baseline to target expects on `day` (flat outside the span)."""
    span = (target_date - baseline_date).days
    if span <= 0:
        return target
    progress = Decimal(min(max((day - baseline_date).days, 0), span)) / Decimal(span)
    return baseline + (target - baseline) * progress


def threshold_status(*, value: Decimal, direction: str, warning: Decimal | None, critical: Decimal | None) -> str:
    higher = direction == "higher"

    def breached(limit):
        return limit is not None and (value <= limit if higher else value >= limit)

    if breached(critical):
        return OFF_TRACK
    if breached(warning):
        return AT_RISK
    return ON_TRACK


def line_status(*, value: Decimal, expected: Decimal, direction: str, baseline: Decimal, target: Decimal) -> str:
    planned = abs(target - baseline)
    shortfall = (expected - value) if direction == "higher" else (value - expected)
    if shortfall <= 0:
        return ON_TRACK
    if planned == 0:
        return OFF_TRACK if shortfall > 0 else ON_TRACK
    gap = shortfall / planned
    if gap <= AT_RISK_GAP:
        return ON_TRACK
    if gap <= OFF_TRACK_GAP:
        return AT_RISK
    return OFF_TRACK


def evaluate(*, value: Decimal | None, day: date | None, direction: str, warning: Decimal | None = None,
             critical: Decimal | None = None, baseline: Decimal | None = None, baseline_date: date | None = None,
             target: Decimal | None = None, target_date: date | None = None) -> Verdict:
    """Health of a KPI whose latest value is `value` for the period ending `day`."""
    if value is None or day is None:
        return Verdict(UNKNOWN, reason="No measurement yet.")
    value = Decimal(value)
    status = threshold_status(value=value, direction=direction, warning=warning, critical=critical)
    reasons = []
    if status != ON_TRACK:
        reasons.append(f"{'critical' if status == OFF_TRACK else 'warning'} threshold crossed")
    expected = None
    if None not in (baseline, baseline_date, target, target_date):
        expected = expected_on(baseline=Decimal(baseline), baseline_date=baseline_date, target=Decimal(target),
                               target_date=target_date, day=day)
        on_line = line_status(value=value, expected=expected, direction=direction, baseline=Decimal(baseline),
                              target=Decimal(target))
        if on_line != ON_TRACK:
            reasons.append(f"behind the line to target (expected {expected.quantize(Decimal('0.01'))})")
        if SEVERITY[on_line] > SEVERITY[status]:
            status = on_line
    return Verdict(status, expected, "; ".join(reasons) or "on track")
