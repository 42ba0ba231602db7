"""Delivery: placeholder. The issue sets no delivery figure; the progress report (reports case)
reads delivery data once it exists.

MERGE CHECKLIST (lead, after merging delivery): generate iterations/sprints for the largest
product here (stories already exist: ctx.data["story_ids"] are the first 200 in backlog order),
so the report build and dashboards see realistic delivery rows; add a measure if one is wanted.
"""

from bench.harness import Result

NAME = "delivery"
ORDER = 45
REQUIRES = ()
MEASURES = ()


def generate(ctx) -> None:
    """TODO(merge): delivery rows (iterations, velocity history) for the largest product."""


def measure(ctx) -> list[Result]:
    return []
