"""KPI change and target text (metrics.figures), computed by hand."""

from datetime import date
from decimal import Decimal

import pytest

from metrics.figures import kpi_change, target_text


@pytest.mark.parametrize(("current", "before", "direction", "expected"), [
    (108, 100, "higher", {"pct": 8.0, "text": "+8.0 %", "tone": "good"}),
    (92, 100, "higher", {"pct": -8.0, "text": "−8.0 %", "tone": "bad"}),
    (92, 100, "lower", {"pct": -8.0, "text": "−8.0 %", "tone": "good"}),
    (108, 100, "lower", {"pct": 8.0, "text": "+8.0 %", "tone": "bad"}),
    (-5, -10, "higher", {"pct": 50.0, "text": "+50.0 %", "tone": "good"}),  # toward zero from below is up
    (100, 100, "higher", {"pct": 0.0, "text": "±0 %", "tone": "flat"}),
])
def test_change_sign_follows_the_value_and_tone_the_direction(current, before, direction, expected):
    assert kpi_change(current=Decimal(current), before=Decimal(before), direction=direction) == expected


@pytest.mark.parametrize(("current", "before"), [(None, 1), (1, None), (5, 0)])
def test_no_change_without_two_values_or_from_zero(current, before):
    assert kpi_change(current=current, before=before, direction="higher") is None


def test_target_text_never_says_none_for_a_missing_date():
    assert target_text(Decimal("35.0000"), None) == "35"
    assert target_text(Decimal("35.5"), date(2027, 3, 31)) == "35.5 by 31 Mar 2027"
    assert target_text(None, date(2027, 3, 31)) == "none"
