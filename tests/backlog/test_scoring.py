"""Every formula with a worked example computed by hand, and the edge cases."""

from decimal import Decimal

import pytest

from backlog import scoring


def test_rice_worked_example():
    # reach 1000, impact 2, confidence 80% -> 0.8, effort 4: 1000 x 2 x 0.8 / 4 = 400
    assert scoring.rice(reach=1000, impact=2, confidence=80, effort=4) == Decimal("400.0000")


def test_rice_fractional_example():
    # 150 x 0.5 x 0.5 / 3 = 37.5 / 3 = 12.5
    assert scoring.rice(reach=150, impact=0.5, confidence=50, effort=3) == Decimal("12.5000")


def test_wsjf_worked_example():
    # (8 + 5 + 3) / 4 = 16 / 4 = 4
    assert scoring.wsjf(business_value=8, time_criticality=5, risk_reduction=3, job_size=4) == Decimal("4.0000")


def test_wsjf_rounds_to_four_places():
    # (1 + 1 + 0) / 3 = 0.6666... -> 0.6667
    assert scoring.wsjf(business_value=1, time_criticality=1, risk_reduction=0, job_size=3) == Decimal("0.6667")


def test_value_effort_worked_example_and_quadrants():
    # 8 / 2 = 4
    assert scoring.value_effort(value=8, effort=2) == Decimal("4.0000")
    assert scoring.quadrant(value=8, effort=2) == "quick win"
    assert scoring.quadrant(value=8, effort=9) == "big bet"
    assert scoring.quadrant(value=2, effort=2) == "fill-in"
    assert scoring.quadrant(value=2, effort=9) == "money pit"


def test_ice_worked_example():
    # 7 x 6 x 5 = 210
    assert scoring.ice(impact=7, confidence=6, ease=5) == Decimal("210.0000")


def test_weighted_with_a_criterion_counting_against():
    # 2 x value 8 + 1 x reach 5 - 1.5 x effort 3 = 16 + 5 - 4.5 = 16.5
    criteria = [{"key": "value", "weight": 2}, {"key": "reach", "weight": 1},
                {"key": "effort", "weight": 1.5, "against": True}]
    assert scoring.weighted(criteria=criteria, values={"value": 8, "reach": 5, "effort": 3}) == Decimal("16.5000")


def test_moscow_and_kano_points():
    assert scoring.category_score(category="must", points=scoring.MOSCOW_POINTS, name="moscow") == 4
    assert scoring.category_score(category="wont", points=scoring.MOSCOW_POINTS, name="moscow") == 0
    assert scoring.category_score(category="attractive", points=scoring.KANO_POINTS, name="kano") == 2


@pytest.mark.parametrize("fn,kwargs,field", [
    (scoring.rice, {"reach": 10, "impact": 1, "confidence": 50, "effort": 0}, "effort"),
    (scoring.wsjf, {"business_value": 1, "time_criticality": 1, "risk_reduction": 1, "job_size": 0}, "job_size"),
    (scoring.value_effort, {"value": 5, "effort": 0}, "effort"),
])
def test_zero_divisor_is_a_field_error(fn, kwargs, field):
    with pytest.raises(scoring.ScoringError) as exc:
        fn(**kwargs)
    assert field in exc.value.errors
    assert "greater than zero" in exc.value.errors[field][0]


def test_missing_inputs_name_each_field():
    with pytest.raises(scoring.ScoringError) as exc:
        scoring.rice(reach=100, impact=None, confidence="", effort=2)
    assert set(exc.value.errors) == {"impact", "confidence"}


def test_non_numeric_and_out_of_range_inputs():
    with pytest.raises(scoring.ScoringError) as exc:
        scoring.ice(impact="lots", confidence=11, ease=5)
    assert set(exc.value.errors) == {"impact", "confidence"}


def test_evaluate_explains_inputs_and_formula():
    e = scoring.evaluate(framework="rice", criteria=[], inputs={"reach": 1000, "impact": 2, "confidence": 80,
                                                               "effort": 4})
    assert e.score == Decimal("400")
    assert e.inputs == {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}
    assert "reach" in e.formula and "effort" in e.formula


def test_try_evaluate_leaves_incomplete_items_unscored_not_zero():
    e = scoring.try_evaluate(framework="wsjf", criteria=[], inputs={"business_value": 3})
    assert e.score is None
    assert e.missing == ["job_size", "risk_reduction", "time_criticality"]


def test_validate_criteria():
    assert scoring.validate_criteria([]) == {"criteria": ["A weighted model needs at least one criterion."]}
    errors = scoring.validate_criteria([{"key": "a", "weight": -1}, {"key": "a"}, {"key": "b", "source": "x"}])
    assert len(errors["criteria"]) == 3
