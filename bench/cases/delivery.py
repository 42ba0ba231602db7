"""Delivery: placeholder. The issue sets no delivery figure; the progress report (reports case)
reads delivery data once it exists.

Not filled yet: delivery rows (iterations, velocity history) for the largest product would make
the report build see realistic delivery data; no figure is budgeted.
"""

from bench.harness import Result

NAME = "delivery"
ORDER = 45
REQUIRES = ()
MEASURES = ()


def generate(ctx) -> None:
    """No delivery rows yet (no budgeted figure reads them)."""


def measure(ctx) -> list[Result]:
    return []
