"""The benchmark's measuring kit: scales, the run context, results with budgets, timing of
requests (Django test client, queries counted with CaptureQueriesContext) and of bare SQL.

Nothing here knows about a domain app; the case modules in bench/cases/ use these helpers.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

# --- Scales -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Counts of the generated dataset and the number of measured runs."""

    name: str
    products: int = 20
    members: int = 200
    initiatives: int = 300          # in the largest product
    initiatives_other: int = 10     # in each other product
    dependencies: int = 200         # in the largest product
    releases: int = 20              # in the largest product
    epics: int = 400                # in the largest product
    stories: int = 20_000           # in the largest product's backlog
    stories_other: int = 100        # in each other product
    kpis: int = 50                  # 30 in the largest product, the rest spread over the others
    measurement_days: int = 730     # two years of daily measurements per KPI
    events: int = 1_000_000         # usage events in the dataset (COPY + ingested through the API)
    event_days: int = 90
    event_features: int = 40
    event_actors: int = 20_000
    ingest_batches: int = 100       # batches sent through POST /api/v1/events/bulk/
    batch_size: int = 1_000
    companies: int = 2_000          # discovery, in the largest product
    insights: int = 100_000
    ideas: int = 2_000
    visitors: int = 50_000
    votes: int = 1_000_000          # votes_per_visitor distinct ideas per visitor
    read_runs: int = 30
    read_warmup: int = 3
    write_runs: int = 30
    write_warmup: int = 3
    heavy_runs: int = 3             # re-score, rollup, report build
    heavy_warmup: int = 1
    lcp_runs: int = 5

    @property
    def kpis_largest(self) -> int:
        return max(1, round(self.kpis * 0.6))


FULL = Scale(name="full")
# ~1/20 of every count (products and releases keep a floor of 2 so "other products" exist).
SMALL = Scale(
    name="small", products=2, members=10, initiatives=15, initiatives_other=3, dependencies=10, releases=2,
    epics=20, stories=1_000, stories_other=5, kpis=3, measurement_days=730, events=50_000, event_days=90,
    event_features=10, event_actors=1_000, ingest_batches=5, batch_size=1_000,
    companies=100, insights=5_000, ideas=100, visitors=2_500, votes=50_000,
    read_runs=10, read_warmup=2, write_runs=10, write_warmup=2, heavy_runs=2, heavy_warmup=1, lcp_runs=2,
)
# For the smoke test: a few rows of everything, one warm-up and two runs.
TINY = Scale(
    name="tiny", products=2, members=4, initiatives=8, initiatives_other=2, dependencies=4, releases=2,
    epics=3, stories=60, stories_other=3, kpis=3, measurement_days=20, events=600, event_days=3,
    event_features=4, event_actors=20, ingest_batches=2, batch_size=100,
    companies=10, insights=200, ideas=20, visitors=50, votes=400,
    read_runs=2, read_warmup=1, write_runs=2, write_warmup=1, heavy_runs=1, heavy_warmup=0, lcp_runs=1,
)
# Issue 23, target 5: 100,000 stories in the workspace, 10,000 of them in the measured backlog
# (10,000 + 19 other products x 4,737 = 100,003), every other count as at full scale. For the
# page/API ratios at 100k: `python -m bench.floors --scale huge`, `python -m bench.run --scale huge`.
HUGE = replace(FULL, name="huge", stories=10_000, stories_other=4_737)
SCALES = {s.name: s for s in (FULL, SMALL, TINY, HUGE)}


# --- Timing of generation -----------------------------------------------------------------


@dataclass
class Section:
    name: str
    rows: int = 0
    method: str = ""
    seconds: float = 0.0


class Timer:
    """Time per table (or step) of the generation: `with ctx.timer("backlog_story", method="COPY") as s: ...`."""

    def __init__(self, echo=None):
        self.sections: list[Section] = []
        self.echo = echo  # a stream: each section is printed as it finishes (progress of a long run)

    @contextlib.contextmanager
    def __call__(self, name: str, *, rows: int = 0, method: str = "") -> Iterator[Section]:
        section = Section(name=name, rows=rows, method=method)
        start = time.perf_counter()
        try:
            yield section
        finally:
            section.seconds = time.perf_counter() - start
            self.sections.append(section)
            if self.echo is not None:
                print(section_line(section), file=self.echo, flush=True)

    @property
    def total(self) -> float:
        return sum(s.seconds for s in self.sections)


SECTION_HEADER = f"{'table / step':<28} {'rows':>10} {'seconds':>9} {'rows/s':>10}  method"


def section_line(s: Section) -> str:
    rate = f"{s.rows / s.seconds:,.0f}" if s.rows and s.seconds > 0 else ""
    return f"{s.name:<28} {s.rows:>10,} {s.seconds:>9.2f} {rate:>10}  {s.method}"


# --- Budgets and results --------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """Limits a result must meet. Each figure is optional; all given ones must hold.

    Time limits are in seconds. `min_rate` is for throughput (items/second of the median batch).
    `max_updates` counts UPDATE statements on `Result.extra["update_table"]` in one request.
    `fixed_queries` asks the same query count on a small product as on the largest one.
    """

    median: float | None = None
    p95: float | None = None
    queries: int | None = None
    ratio: float | None = None
    min_rate: float | None = None
    max_updates: int | None = None
    fixed_queries: bool = False

    def describe(self, unit: str) -> str:
        parts = []
        if self.queries is not None:
            parts.append(f"≤{self.queries} q")
        if self.fixed_queries:
            parts.append("fixed q")
        if self.max_updates is not None:
            parts.append(f"{self.max_updates} UPDATE")
        if self.median is not None:
            parts.append(f"med<{format_seconds(self.median, unit)}")
        if self.p95 is not None:
            parts.append(f"p95<{format_seconds(self.p95, unit)}")
        if self.ratio is not None:
            parts.append(f"ratio<{self.ratio:g}")
        if self.min_rate is not None:
            parts.append(f"≥{self.min_rate:,.0f}/s")
        return ", ".join(parts)

    def failures(self, result: Result) -> list[str]:
        failed = []
        if self.queries is not None and result.queries is not None and result.queries > self.queries:
            failed.append(f"{result.queries} queries > {self.queries}")
        if self.fixed_queries:
            other = result.extra.get("queries_small_product")
            if other is not None and other != result.queries:
                failed.append(f"query count varies with size ({other} vs {result.queries})")
        if self.max_updates is not None:
            updates = result.extra.get("updates")
            if updates is not None and updates > self.max_updates:
                failed.append(f"{updates} UPDATEs > {self.max_updates}")
        if self.median is not None and result.median is not None and result.median >= self.median:
            failed.append("median over budget")
        if self.p95 is not None and result.p95 is not None and result.p95 >= self.p95:
            failed.append("p95 over budget")
        if self.ratio is not None and result.ratio is not None and result.ratio >= self.ratio:
            failed.append(f"ratio {result.ratio:.1f} ≥ {self.ratio:g}")
        if self.min_rate is not None and result.rate is not None and result.rate < self.min_rate:
            failed.append(f"{result.rate:,.0f}/s < {self.min_rate:,.0f}/s")
        return failed


KINDS = ("read", "write", "throughput")


@dataclass
class Result:
    """One measured figure. Samples are seconds per run (per batch for throughput)."""

    name: str
    kind: str = "read"
    samples: list[float] = field(default_factory=list)
    queries: int | None = None
    bytes: int | None = None
    bare_sql_samples: list[float] = field(default_factory=list)
    budget: Budget | None = None
    unit: str = "ms"                 # how to show times: "ms" or "s"; throughput shows items/s
    items_per_sample: int = 1        # throughput: items handled by one sample (events in a batch)
    case: str = ""
    status: str = "ok"               # ok | n/a | error
    note: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def na(cls, name: str, reason: str = "feature not present", *, kind: str = "read", case: str = "") -> Result:
        return cls(name=name, kind=kind, status="n/a", note=reason, case=case)

    @classmethod
    def error(cls, name: str, exc: BaseException, *, kind: str = "read", case: str = "") -> Result:
        return cls(name=name, kind=kind, status="error", note=f"{type(exc).__name__}: {exc}"[:300], case=case)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def p95(self) -> float | None:
        return percentile(self.samples, 95) if self.samples else None

    @property
    def bare_sql_median(self) -> float | None:
        return statistics.median(self.bare_sql_samples) if self.bare_sql_samples else None

    @property
    def ratio(self) -> float | None:
        bare = self.bare_sql_median
        if self.median is None or not bare:
            return None
        return self.median / bare

    @property
    def rate(self) -> float | None:
        """Items per second of the median sample (throughput only)."""
        if self.kind != "throughput" or not self.median:
            return None
        return self.items_per_sample / self.median

    @property
    def verdict(self) -> str:
        if self.status != "ok":
            return self.status
        if self.budget is None:
            return "—"
        return "FAIL" if self.budget.failures(self) else "PASS"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "case": self.case,
            "kind": self.kind,
            "status": self.status,
            "unit": "items/s" if self.kind == "throughput" else self.unit,
            "runs": len(self.samples),
            "median_s": self.median,
            "p95_s": self.p95,
            "rate_per_s": self.rate,
            "items_per_sample": self.items_per_sample,
            "queries": self.queries,
            "bytes": self.bytes,
            "bare_sql_median_s": self.bare_sql_median,
            "ratio": self.ratio,
            "budget": self.budget.describe(self.unit) if self.budget else None,
            "verdict": self.verdict,
            "failures": self.budget.failures(self) if self.budget and self.status == "ok" else [],
            "note": self.note,
            "samples_s": self.samples,
            "bare_sql_samples_s": self.bare_sql_samples,
            "extra": self.extra,
        }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 30 samples is the 29th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def format_seconds(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


# --- The run context ----------------------------------------------------------------------


@dataclass
class Context:
    """What generation and measurement share. Case modules add their rows' ids to `data`."""

    rng: Any                               # random.Random(seed)
    scale: Scale
    timer: Timer
    vendor: str                            # "postgresql" or "sqlite"
    seed: int = 0
    workspace: Any = None
    products: list = field(default_factory=list)   # products[0] is the largest
    users: list = field(default_factory=list)      # users[0] is the bench user (admin)
    token: str = ""                                # raw API token of the bench user (write scope)
    database_url: str = ""
    data: dict = field(default_factory=dict)       # ids shared between cases, e.g. data["story_ids"]
    notes: list[str] = field(default_factory=list)  # printed under the table

    @property
    def product(self):
        """The largest product: the one every per-product figure is measured on."""
        return self.products[0]

    @property
    def small_product(self):
        return self.products[-1]

    @property
    def user(self):
        return self.users[0]

    def runs(self, kind: str) -> tuple[int, int]:
        """(warm-up, measured runs) for a kind of measurement: read, write or heavy."""
        s = self.scale
        return {"read": (s.read_warmup, s.read_runs), "write": (s.write_warmup, s.write_runs),
                "heavy": (s.heavy_warmup, s.heavy_runs)}[kind]

    def web(self):
        """The Django test client signed in as the bench user (session, force_login)."""
        from django.test import Client

        client = Client()
        client.force_login(self.user)
        return client

    def api(self):
        """A DRF test client sending `Authorization: Token <key>` of the bench user."""
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.token}")
        return client


# --- Presence of features (the other apps are merged later) ---------------------------------


def model(label: str):
    """`model("backlog.Story")` -> the model class, or None when that app has no such model yet."""
    from django.apps import apps

    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def has_field(model_cls, name: str) -> bool:
    if model_cls is None:
        return False
    try:
        model_cls._meta.get_field(name)
        return True
    except Exception:
        return False


def url_exists(path: str) -> bool:
    """True when some URL pattern resolves the path (query string ignored)."""
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?", 1)[0])
        return True
    except Resolver404:
        return False


def find_callable(module_path: str, names: tuple[str, ...]) -> Callable | None:
    """The first of `names` that `module_path` defines, or None (module or names missing)."""
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError:
        return None
    for name in names:
        func = getattr(module, name, None)
        if callable(func) or callable(getattr(func, "run", None)):  # a function, or a Celery task
            return func
    return None


def call_with_available(func: Callable, **candidates):
    """Call `func` with those candidates its signature accepts (by name).

    Lets a case call a service or task whose exact signature is settled only at merge time.
    A required parameter with no candidate raises TypeError, which the case reports.
    For a Celery task the wrapped function's signature is used and the task runs in-process.
    """
    target = getattr(func, "run", func)  # Celery task -> its function, run synchronously
    params = inspect.signature(target).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return target(**candidates)
    kwargs = {name: value for name, value in candidates.items() if name in params}
    missing = [n for n, p in params.items() if p.default is p.empty and n not in kwargs
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        raise TypeError(f"{getattr(target, '__qualname__', target)} needs {missing}; pass them in the case module")
    return target(**kwargs)


# --- Measuring ------------------------------------------------------------------------------


def _connection():
    from django.db import connection

    return connection


Statement = tuple[str, list]


def time_sql(statements: Statement | list[Statement], *, runs: int, warmup: int = 1) -> list[float]:
    """Seconds per run of raw cursor queries that fetch all their rows: the database's own limit.

    Several statements (e.g. initiatives, then their dependencies) are timed together per run.
    """
    if isinstance(statements, tuple):
        statements = [statements]
    connection = _connection()
    samples = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    return samples


def bare_select(model_cls, *, where: str, params: list, order: str = "id", limit: int | None = None,
                columns: list[str] | None = None) -> tuple[str, list]:
    """`SELECT <the model's columns> FROM <table> WHERE ... ORDER BY ... LIMIT n` (columns quoted)."""
    connection = _connection()
    qn = connection.ops.quote_name
    cols = columns or [f.column for f in model_cls._meta.concrete_fields]
    sql = f"SELECT {', '.join(qn(c) for c in cols)} FROM {qn(model_cls._meta.db_table)} WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, list(params)


def count_statements(captured: list[dict], verb: str, table: str) -> int:
    """How many captured statements are `<verb> ... "<table>"` (e.g. UPDATE on backlog_story)."""
    needle = f'"{table}"'
    return sum(1 for q in captured if q["sql"].lstrip().upper().startswith(verb) and needle in q["sql"].split(" WHERE")[0])


class StatusError(AssertionError):
    pass


def measure_request(
    ctx: Context,
    *,
    name: str,
    path: str,
    client=None,
    method: str = "get",
    data: Any = None,
    data_for: Callable[[int], Any] | None = None,
    path_for: Callable[[int], str] | None = None,
    format: str | None = None,
    runs_kind: str = "read",
    kind: str = "read",
    budget: Budget | None = None,
    bare: Statement | list[Statement] | None = None,
    expect: tuple[int, ...] = (200,),
    case: str = "",
    note: str = "",
    update_table: str | None = None,
) -> Result:
    """Time one request through the Django test client: median/p95 seconds, query count
    (CaptureQueriesContext, last run), response bytes (len(response.content)) and the bare SQL.

    `data_for(i)`/`path_for(i)` give a fresh body/path per run (e.g. another story to move); `update_table`
    counts the UPDATE statements on that table in the last run (extra["updates"]).
    """
    from django.test.utils import CaptureQueriesContext

    if not url_exists(path):
        return Result.na(name, f"feature not present ({method.upper()} {path.split('?')[0]} not routed)",
                         kind=kind, case=case)
    client = client or ctx.web()
    warmup, runs = ctx.runs(runs_kind)
    call = getattr(client, method)
    samples: list[float] = []
    response = None
    captured: list[dict] = []
    connection = _connection()
    for i in range(warmup + runs):
        body = data_for(i) if data_for else data
        target = path_for(i) if path_for else path
        kwargs = {}
        if body is not None:
            kwargs["data"] = body
        if format:
            kwargs["format"] = format
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = call(target, **kwargs)
            elapsed = time.perf_counter() - start
        if response.status_code not in expect:
            raise StatusError(f"{method.upper()} {target} -> {response.status_code}: {response.content[:300]!r}")
        if i >= warmup:
            samples.append(elapsed)
            captured = queries.captured_queries
    result = Result(name=name, kind=kind, samples=samples, queries=len(captured),
                    bytes=len(response.content) if response is not None else None, budget=budget,
                    case=case, note=note)
    if update_table:
        result.extra["updates"] = count_statements(captured, "UPDATE", update_table)
        result.extra["update_table"] = update_table
    if bare is not None:
        result.bare_sql_samples = time_sql(bare, runs=runs, warmup=1)
        result.extra["bare_sql"] = [sql for sql, _ in ([bare] if isinstance(bare, tuple) else bare)]
    return result


def count_queries(ctx: Context, path: str, client=None) -> int:
    """Queries of one GET (used to check a query count does not grow with the data)."""
    from django.test.utils import CaptureQueriesContext

    client = client or ctx.web()
    with CaptureQueriesContext(_connection()) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise StatusError(f"GET {path} -> {response.status_code}")
    return len(queries.captured_queries)


def measure_call(
    ctx: Context,
    *,
    name: str,
    func: Callable[[int], Any],
    runs_kind: str = "heavy",
    kind: str = "write",
    unit: str = "s",
    budget: Budget | None = None,
    before: Callable[[int], Any] | None = None,
    case: str = "",
    note: str = "",
    items_per_sample: int = 1,
    count_sql: bool = True,
) -> Result:
    """Time `func(i)` (a task, a service) over warm-up + runs; `before(i)` runs untimed first."""
    from django.test.utils import CaptureQueriesContext

    warmup, runs = ctx.runs(runs_kind)
    samples: list[float] = []
    queries = None
    for i in range(warmup + runs):
        if before:
            before(i)
        capture = CaptureQueriesContext(_connection()) if count_sql else contextlib.nullcontext()
        with capture as captured:
            start = time.perf_counter()
            func(i)
            elapsed = time.perf_counter() - start
        if i >= warmup:
            samples.append(elapsed)
            if count_sql:
                queries = len(captured.captured_queries)
    return Result(name=name, kind=kind, samples=samples, queries=queries, budget=budget, unit=unit, case=case,
                  note=note, items_per_sample=items_per_sample)


def guarded(name: str, *, kind: str = "read", case: str = ""):
    """Decorator for a measuring function: an exception becomes an `error` result, not a crash."""

    def wrap(func):
        def inner(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                return Result.error(name, exc, kind=kind, case=case)

        return inner

    return wrap


def with_budget(result: Result, budget: Budget | None) -> Result:
    return replace(result, budget=budget)
