"""Adoption, retention and calibration arithmetic, against hand-computed examples."""

from datetime import date

import pytest

from adoption import analytics


def test_adoption_percent_is_users_over_active():
    assert analytics.adoption_percent(2, 4) == 50.0
    assert analytics.adoption_percent(1, 3) == 33.33
    assert analytics.adoption_percent(0, 5) == 0.0


def test_adoption_percent_is_unknown_without_active_users():
    assert analytics.adoption_percent(0, 0) is None


def test_trend_is_change_in_points_and_unknown_without_a_previous_window():
    assert analytics.trend_points(100.0, 25.0) == 75.0
    assert analytics.trend_points(40.0, 50.0) == -10.0
    assert analytics.trend_points(40.0, None) is None


def test_retention_of_one_cohort_by_hand():
    # Week 0 = 2..8 Nov. a, b, c start in week 0; d starts on 9 Nov (week 1), so is not in the cohort.
    first_use = {"a": date(2026, 11, 2), "b": date(2026, 11, 4), "c": date(2026, 11, 8), "d": date(2026, 11, 9)}
    activity = [("a", date(2026, 11, 2)), ("a", date(2026, 11, 10)), ("b", date(2026, 11, 4)),
                ("b", date(2026, 11, 17)), ("c", date(2026, 11, 8)), ("c", date(2026, 11, 11)),
                ("c", date(2026, 11, 12)), ("d", date(2026, 11, 9)), ("d", date(2026, 11, 10))]
    curve = analytics.retention_curve(first_use, activity, cohort_start=date(2026, 11, 2), weeks=3)
    assert curve == [
        {"week": 0, "users": 3, "share": 1.0},
        {"week": 1, "users": 2, "share": 0.6667},  # a and c (c twice counts once)
        {"week": 2, "users": 1, "share": 0.3333},  # b
    ]


def test_retention_of_an_empty_cohort_is_unknown():
    curve = analytics.retention_curve({}, [], cohort_start=date(2026, 11, 2), weeks=2)
    assert curve == [{"week": 0, "users": 0, "share": None}, {"week": 1, "users": 0, "share": None}]


def test_combined_retention_weights_cohorts_that_lived_through_the_week():
    older = [{"week": 0, "users": 3}, {"week": 1, "users": 2}, {"week": 2, "users": 1}]
    younger = [{"week": 0, "users": 2}, {"week": 1, "users": 1}]
    combined = analytics.retention_combined([older, younger], [3, 2])
    assert combined == [
        {"week": 0, "users": 5, "cohort": 5, "share": 1.0},
        {"week": 1, "users": 3, "cohort": 5, "share": 0.6},
        {"week": 2, "users": 1, "cohort": 3, "share": 0.3333},  # only the older cohort reached week 2
    ]


def test_relative_change_follows_the_kpi_direction():
    assert analytics.relative_change(200, 250) == 0.25
    assert analytics.relative_change(200, 250, lower_is_better=True) == -0.25
    assert analytics.relative_change(-50, -25) == 0.5
    assert analytics.relative_change(0, 10) is None
    assert analytics.relative_change(None, 10) is None


def test_ranks_average_ties():
    assert analytics.ranks([10, 20, 20, 30]) == [1.0, 2.5, 2.5, 4.0]


def test_spearman_by_hand_without_ties():
    # d = rank differences -1, 1, -1, 1, 0; rho = 1 - 6*4 / (5*(25-1)) = 0.8
    assert analytics.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == (0.8, 5)


def test_spearman_by_hand_with_ties():
    # ranks x = 1, 2.5, 2.5, 4; y = 1, 2, 3, 4 -> cov 4.5, var 4.5 and 5 -> 4.5 / sqrt(22.5) = 0.9487
    assert analytics.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == (0.9487, 4)


def test_spearman_perfectly_inverse():
    assert analytics.spearman([1, 2, 3], [30, 20, 10]) == (-1.0, 3)


@pytest.mark.parametrize("xs,ys", [([1, 2], [1, 2]), ([1, 1, 1], [1, 2, 3])])
def test_spearman_needs_three_pairs_and_spread(xs, ys):
    assert analytics.spearman(xs, ys)[0] is None
