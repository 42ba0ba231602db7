"""Reports: one progress report build over the generated product.

Filled after the reports merge: reports.services.report_build(product=, workspace=) builds a
preview with every section (SECTION_KEYS) over the product's roadmap, backlog, metrics and
adoption rows; no subscription row is needed.
"""

from datetime import timedelta

from bench.harness import Result, call_with_available, find_callable, guarded, measure_call
from pmhub.clock import today_in

BENCH_TZ = "UTC"  # the bench workspace's time zone (bench.generate)

NAME = "reports"
ORDER = 50
REQUIRES = ()
MEASURES = ("progress report build",)
REPORT_BUILD = ("reports.services", ("report_build",))


def generate(ctx) -> None:
    """Nothing yet: a report reads the roadmap, backlog and metrics rows."""


def measure(ctx) -> list[Result]:
    return [_build(ctx)]


@guarded("progress report build", kind="write", case=NAME)
def _build(ctx) -> Result:
    build = find_callable(*REPORT_BUILD)
    if build is None:
        return Result.na("progress report build", "feature not present (reports.services.report_build)",
                         kind="write", case=NAME)
    today = today_in(BENCH_TZ)

    def run(i):
        call_with_available(build, product=ctx.product, workspace=ctx.workspace, user=ctx.user, actor=ctx.user,
                            kind="progress", period_start=today - timedelta(days=30), period_end=today,
                            product_id=ctx.product.pk, workspace_id=ctx.workspace.pk)

    return measure_call(ctx, name="progress report build", func=run, budget=None, case=NAME,
                        note="informational (no budget in the issue); in-process")
