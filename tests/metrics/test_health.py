"""Health arithmetic, computed by hand (docs/decisions/0601-kpi-health-rules.md)."""

from datetime import date
from decimal import Decimal as D

import pytest

from metrics.health import evaluate, expected_on

JAN1, APR11 = date(2026, 1, 1), date(2026, 4, 11)  # 100 days apart
FEB20 = date(2026, 2, 20)  # day 50: half-way


def test_straight_line_is_half_way_on_day_50():
    assert expected_on(baseline=D(100), baseline_date=JAN1, target=D(200), target_date=APR11, day=FEB20) == D(150)


def test_straight_line_is_flat_before_the_baseline_and_after_the_target_date():
    kw = {"baseline": D(100), "baseline_date": JAN1, "target": D(200), "target_date": APR11}
    assert expected_on(day=date(2025, 12, 1), **kw) == D(100)
    assert expected_on(day=date(2026, 6, 1), **kw) == D(200)


@pytest.mark.parametrize(("value", "status"), [
    (D(151), "on_track"),   # ahead of the line
    (D(148), "on_track"),   # 2 behind = 2 % of the planned change of 100
    (D(145), "on_track"),   # 5 % exactly is still on track
    (D(140), "at_risk"),    # 10 %
    (D(135), "at_risk"),    # 15 % exactly
    (D(130), "off_track"),  # 20 %
])
def test_higher_is_better_against_the_line(value, status):
    verdict = evaluate(value=value, day=FEB20, direction="higher", baseline=D(100), baseline_date=JAN1,
                       target=D(200), target_date=APR11)
    assert verdict.status == status
    assert verdict.expected == D(150)


@pytest.mark.parametrize(("value", "status"), [
    (D(39), "on_track"),    # below the line is good when lower is better
    (D(41), "on_track"),    # 1 above of a planned change of 20 = 5 %
    (D(42), "at_risk"),     # 10 %
    (D(44), "off_track"),   # 20 %
])
def test_lower_is_better_against_the_line(value, status):
    # 50 -> 30 over 100 days: day 50 expects 40.
    verdict = evaluate(value=value, day=FEB20, direction="lower", baseline=D(50), baseline_date=JAN1,
                       target=D(30), target_date=APR11)
    assert verdict.status == status
    assert verdict.expected == D(40)


@pytest.mark.parametrize(("value", "status"), [(D(90), "on_track"), (D(80), "at_risk"), (D(75), "at_risk"),
                                               (D(60), "off_track"), (D(50), "off_track")])
def test_higher_is_better_thresholds(value, status):
    assert evaluate(value=value, day=FEB20, direction="higher", warning=D(80), critical=D(60)).status == status


@pytest.mark.parametrize(("value", "status"), [(D(2), "on_track"), (D(3), "at_risk"), (D(4.5), "at_risk"),
                                               (D(5), "off_track")])
def test_lower_is_better_thresholds(value, status):
    assert evaluate(value=value, day=FEB20, direction="lower", warning=D(3), critical=D(5)).status == status


def test_the_worse_rule_wins():
    # On the line (150) but under the critical threshold 160: off track.
    verdict = evaluate(value=D(150), day=FEB20, direction="higher", warning=D(170), critical=D(160),
                       baseline=D(100), baseline_date=JAN1, target=D(200), target_date=APR11)
    assert verdict.status == "off_track"
    # Thresholds fine but 20 % behind the line: off track.
    verdict = evaluate(value=D(130), day=FEB20, direction="higher", warning=D(50), critical=D(20),
                       baseline=D(100), baseline_date=JAN1, target=D(200), target_date=APR11)
    assert verdict.status == "off_track"


def test_no_value_is_unknown():
    assert evaluate(value=None, day=None, direction="higher").status == "unknown"
