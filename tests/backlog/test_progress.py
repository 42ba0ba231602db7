"""The progress definition (backlog/progress.py), checked by hand."""

from backlog.models import DEFAULT_WORKFLOW_CATEGORIES
from backlog.progress import EMPTY, Progress, categories_of, progress_of, status_category, statuses_in

SHIPPING = [{"key": "todo", "label": "To do", "category": "todo"},
            {"key": "shipped", "label": "Shipped", "category": "done"},
            {"key": "dropped", "label": "Dropped", "category": "excluded"}]


def test_points_decide_when_any_story_has_points():
    # done 3 + 0 (unpointed done story), in progress 5, excluded 8 left out: 3 / 8.
    work = progress_of([("done", 3), ("done", None), ("active", 5), ("excluded", 8)])
    assert work == Progress(done_points=3, total_points=8, done_count=2, total_count=3)
    assert work.ratio == 3 / 8
    assert work.percent == 37  # rounded down: 37.5 % is not 38 % done


def test_counts_decide_when_no_story_has_points():
    work = progress_of([("done", None), ("todo", None), ("todo", None), ("excluded", None)])
    assert (work.done_count, work.total_count, work.total_points) == (1, 3, 0)
    assert work.ratio == 1 / 3 and work.percent == 33


def test_nothing_in_scope_has_no_progress():
    assert EMPTY.ratio is None and EMPTY.percent is None
    assert progress_of([("excluded", 5)]).ratio is None
    assert EMPTY.as_dict() == {"done_points": 0, "total_points": 0, "done_count": 0, "total_count": 0,
                               "ratio": None, "percent": None}


def test_all_done_is_exactly_one_hundred_percent():
    work = progress_of([("done", 2), ("done", 1)])
    assert work.ratio == 1.0 and work.percent == 100


def test_progress_of_two_scopes_adds_up():
    assert Progress(1, 4, 1, 2) + Progress(2, 6, 1, 3) == Progress(3, 10, 2, 5)


def test_a_custom_workflow_decides_categories():
    categories = categories_of(SHIPPING)
    assert status_category(categories, "shipped") == "done"
    assert status_category(categories, "done") == "todo"  # not a status of this workflow
    assert statuses_in(categories, "done") == {"shipped"}
    assert statuses_in(categories, "done", "excluded") == {"shipped", "dropped"}
    assert categories_of(None) == DEFAULT_WORKFLOW_CATEGORIES
