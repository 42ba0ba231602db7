"""Pure rules: progress arithmetic, conflicts, cycles, snapshot diff, timeline layout, quarters."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from roadmaps.diff import snapshot_diff
from roadmaps.graph import creates_cycle, is_conflict
from roadmaps.progress import key_result_progress, work_progress
from roadmaps.services import quarter_dates
from roadmaps.timeline import bar, columns, marker, timeline_range


@pytest.mark.parametrize("start,target,current,expected", [
    (0, 100, 50, 0.5),
    (100, 200, 150, 0.5),
    (40, 10, 25, 0.5),        # decreasing target
    (40, 10, 50, 0.0),        # worse than the start: clamped to 0
    (40, 10, 5, 1.0),         # beyond a decreasing target: clamped to 1
    (0, 100, 130, 1.0),
    (10, 10, 10, 1.0),        # target equals start and is met
    (10, 10, 9, 0.0),
    (Decimal("0.5"), Decimal("1.5"), Decimal("0.75"), 0.25),
])
def test_key_result_progress_is_share_of_the_way_clamped(start, target, current, expected):
    assert key_result_progress(start=start, target=target, current=current) == pytest.approx(expected)


def test_work_progress_is_weighted_by_points():
    assert work_progress(done_points=3, total_points=12, done_count=3, total_count=4) == 0.25


def test_work_progress_falls_back_to_counts_without_points():
    assert work_progress(done_points=0, total_points=0, done_count=1, total_count=4) == 0.25


def test_work_progress_is_none_without_work():
    assert work_progress(done_points=0, total_points=0, done_count=0, total_count=0) is None


def test_dependency_ending_after_start_is_a_conflict():
    assert is_conflict(date(2026, 5, 10), date(2026, 5, 1))
    assert not is_conflict(date(2026, 5, 1), date(2026, 5, 1))
    assert not is_conflict(None, date(2026, 5, 1))


def test_cycle_is_found_through_a_chain():
    edges = [(1, 2), (2, 3), (3, 4)]
    assert creates_cycle(edges, 4, 1)
    assert creates_cycle(edges, 3, 2)
    assert not creates_cycle(edges, 1, 4)
    assert creates_cycle(edges, 5, 5)


def test_long_chain_does_not_recurse_too_deep():
    edges = [(i, i + 1) for i in range(5000)]
    assert creates_cycle(edges, 5000, 0)


def _item(i, **kw):
    base = {"id": i, "title": f"I{i}", "status": "planned", "horizon": "now", "start_date": "2026-01-01",
            "end_date": "2026-02-01"}
    return base | kw


def test_snapshot_diff_reports_added_removed_moved_and_status():
    old = {"initiatives": [_item(1), _item(2), _item(3)]}
    new = {"initiatives": [_item(1, start_date="2026-01-15", end_date="2026-02-15"), _item(3, status="done",
                                                                                          horizon="next"),
                           _item(4)]}
    diff = snapshot_diff(old, new)
    assert [x["id"] for x in diff["added"]] == [4]
    assert [x["id"] for x in diff["removed"]] == [2]
    assert diff["moved"] == [{"id": 1, "title": "I1", "from": {"start_date": "2026-01-01", "end_date": "2026-02-01"},
                              "to": {"start_date": "2026-01-15", "end_date": "2026-02-15"}}]
    assert diff["status_changed"] == [{"id": 3, "title": "I3", "from": "planned", "to": "done"}]
    assert diff["horizon_changed"][0]["to"] == "next"


def test_snapshot_diff_of_identical_snapshots_is_empty():
    snap = {"initiatives": [_item(1)]}
    assert all(v == [] for v in snapshot_diff(snap, snap).values())
    assert all(v == [] for v in snapshot_diff({}, {}).values())


def test_timeline_range_spans_at_least_six_months():
    start, end = timeline_range([date(2026, 3, 10)], today=date(2026, 3, 1))
    assert start == date(2026, 3, 1) and end == date(2026, 9, 1)


def test_bar_positions_are_percent_of_range():
    assert bar(date(2026, 1, 1), date(2026, 1, 10), date(2026, 1, 1), date(2026, 1, 21)) == {"left": 0.0,
                                                                                             "width": 50.0}
    assert bar(None, None, date(2026, 1, 1), date(2026, 2, 1)) is None
    assert marker(date(2027, 1, 1), date(2026, 1, 1), date(2026, 2, 1)) is None


def test_quarter_columns_cover_the_range():
    cols = columns(date(2026, 1, 1), date(2026, 7, 1), "quarter")
    assert [c["label"] for c in cols] == ["Q1 2026", "Q2 2026"]
    assert sum(c["width"] for c in cols) == pytest.approx(100, abs=0.01)


def test_quarter_dates():
    assert quarter_dates("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_dates("2026-q1") == (date(2026, 1, 1), date(2026, 3, 31))
    with pytest.raises(ValidationError):
        quarter_dates("2026-Q5")


def test_month_columns_name_the_year():
    cols = columns(date(2026, 11, 1), date(2027, 2, 1))
    assert [c["label"] for c in cols] == ["Nov 2026", "Dec 2026", "Jan 2027"]
