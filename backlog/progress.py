"""Work progress and workflow categories: pure functions, no queries (docs/decisions/1100).

One definition, used by every page, API response, report and export that shows progress:

    A story counts by its status's CATEGORY in its product's workflow (never by a status name):
    "done" stories make the done side, "excluded" stories (won't do, duplicates, ...) are left out
    of both sides, every other story ("todo", "active", or a status the workflow no longer has)
    counts toward the total only.

    points done / points total  -- story points (a story without points counts 0)
    count done  / count total   -- number of stories

    ratio = points done / points total when any story in scope has points, else
            count done / count total; None when nothing is in scope ("no stories yet").

Rolls up story -> epic -> initiative -> objective / release by scope: an epic's scope is its
stories, an initiative's the stories of its epics, an objective's the stories of its
initiatives' epics, a release's the stories of the epics in it (an epic's own release, else its
initiative's) plus the stories put in its scope one by one. A story is counted once per scope.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from roadmaps.progress import work_progress

from .models import CATEGORY_DONE, CATEGORY_EXCLUDED, CATEGORY_TODO, DEFAULT_WORKFLOW_CATEGORIES


def categories_of(workflow: list[dict] | None) -> dict[str, str]:
    """status key -> category for a workflow (the default workflow's when None)."""
    if workflow is None:
        return dict(DEFAULT_WORKFLOW_CATEGORIES)
    return {s["key"]: s["category"] for s in workflow}


def status_category(categories: dict[str, str], status: str) -> str:
    """The category of a status; a status the workflow does not have counts as to do."""
    return categories.get(status, CATEGORY_TODO)


def statuses_in(categories: dict[str, str], *wanted: str) -> set[str]:
    return {key for key, category in categories.items() if category in wanted}


@dataclass(frozen=True)
class Progress:
    """The four figures of a scope's progress (see the module docstring for the definition)."""

    done_points: int = 0
    total_points: int = 0
    done_count: int = 0
    total_count: int = 0

    @property
    def ratio(self) -> float | None:
        return work_progress(done_points=self.done_points, total_points=self.total_points,
                             done_count=self.done_count, total_count=self.total_count)

    @property
    def percent(self) -> int | None:
        """Whole percent, rounded down: 99.6 % of the work done is not shown as 100 %."""
        ratio = self.ratio
        return None if ratio is None else int(ratio * 100 + 1e-9)

    def __add__(self, other: "Progress") -> "Progress":
        return Progress(self.done_points + other.done_points, self.total_points + other.total_points,
                        self.done_count + other.done_count, self.total_count + other.total_count)

    def as_dict(self) -> dict:
        ratio = self.ratio
        return {"done_points": self.done_points, "total_points": self.total_points,
                "done_count": self.done_count, "total_count": self.total_count,
                "ratio": None if ratio is None else round(ratio, 4), "percent": self.percent}


EMPTY = Progress()


def progress_of(stories: Iterable[tuple[str, int | None]]) -> Progress:
    """Progress of a set of stories given as (category, points) pairs."""
    done_points = total_points = done_count = total_count = 0
    for category, points in stories:
        if category == CATEGORY_EXCLUDED:
            continue
        total_points += points or 0
        total_count += 1
        if category == CATEGORY_DONE:
            done_points += points or 0
            done_count += 1
    return Progress(done_points, total_points, done_count, total_count)
