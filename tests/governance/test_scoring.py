"""The risk arithmetic (governance/scoring.py), computed by hand."""

import pytest

from governance.scoring import above_appetite, band, heat_map, risk_score


@pytest.mark.parametrize(("likelihood", "impact", "score"), [(1, 1, 1), (2, 3, 6), (4, 5, 20), (5, 5, 25), (3, 4, 12)])
def test_score_is_likelihood_times_impact(likelihood, impact, score):
    assert risk_score(likelihood, impact) == score


@pytest.mark.parametrize(("likelihood", "impact"), [(0, 3), (6, 1), (3, 0), (3, 6)])
def test_score_refuses_values_outside_one_to_five(likelihood, impact):
    with pytest.raises(ValueError):
        risk_score(likelihood, impact)


def test_above_appetite_is_strictly_greater_and_never_when_closed():
    assert above_appetite(13, 12) is True
    assert above_appetite(12, 12) is False  # the appetite is the highest acceptable score
    assert above_appetite(20, 12, closed=True) is False


def test_bands_of_an_appetite_of_ten():
    # medium from 60% of the appetite (score*5 > appetite*3: 7 and up for 10), high above it.
    assert [band(s, 10) for s in (6, 7, 10, 11)] == ["low", "medium", "medium", "high"]


def test_heat_map_puts_likelihood_five_on_top_and_counts_each_cell():
    grid = heat_map({(5, 4): 2, (1, 1): 1}, appetite=12)
    assert [row[0]["likelihood"] for row in grid] == [5, 4, 3, 2, 1]
    assert [c["impact"] for c in grid[0]] == [1, 2, 3, 4, 5]
    assert grid[0][3] == {"likelihood": 5, "impact": 4, "score": 20, "count": 2, "band": "high"}
    assert grid[4][0]["count"] == 1 and grid[4][0]["band"] == "low"
    assert sum(c["count"] for row in grid for c in row) == 3
