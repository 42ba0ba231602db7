"""Benchmark cases: one module per capability, discovered by bench.run.

The contract of a case module (see bench/README.md):

    NAME: str                 # shown in the table, e.g. "backlog"
    ORDER: int                # generation order: core 0, roadmaps 10, backlog 20, metrics 30, ...
    REQUIRES: tuple[str, ...] # "app.Model" labels generate() needs; one missing -> the whole case is n/a
    MEASURES: tuple[str, ...] # names of its figures, printed as "n/a (feature not present)" when skipped
    def generate(ctx) -> None           # add rows (ctx.rng, ctx.scale, ctx.workspace, ctx.products,
                                        # ctx.users, ctx.timer; bench.generate.insert_rows)
    def measure(ctx) -> list[Result]    # figures; a missing endpoint/function gives Result.na(...)
    def pages(ctx) -> list[tuple[str, str]]   # optional: (name, path) of pages for the LCP pass
"""

import importlib
import pkgutil
from types import ModuleType


def discover() -> list[ModuleType]:
    """Every module of this package, in ORDER then name."""
    modules = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)
               if not info.name.startswith("_")]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def missing_requirements(module: ModuleType) -> list[str]:
    from bench.harness import model

    return [label for label in getattr(module, "REQUIRES", ()) if model(label) is None]
