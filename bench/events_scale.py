"""Usage events at scale: ingestion rate against its floors, and the adoption page and rollups at
1 M, 3 M and 10 M events (issue 23, target 5).

    .venv/bin/python -m bench.events_scale                          # 1 M, 3 M, 10 M; ~minutes
    .venv/bin/python -m bench.events_scale --sizes 1000000 --rounds 10   # quick look
    .venv/bin/python -m bench.events_scale --json bench/events_scale.json

Own database: `<DATABASE_URL name>_events_bench` (recreated; never yours). PostgreSQL only
(the partitioned table is the point).

1. Ingestion, `--rounds` rounds of one `--batch`-event batch per case, the cases interleaved
   round by round so machine noise hits all alike; each batch is new events of the last 24 hours
   (what an SDK flushes):
   - "service": adoption.services.events_ingest, the whole worker path (validation, INSERT ...
     ON CONFLICT, touched days); the rollup it queues is left to a worker (not run);
   - "API": POST /api/v1/events/bulk/ through the Django test client (JSON, key auth, service);
   - floor "INSERT": the same rows already as tuples, one execute_values INSERT ... ON CONFLICT;
   - floor "COPY": the same rows as COPY text, one COPY FROM STDIN (no conflict handling).
   Rate = events per second of the median batch; ratios against the floors.
2. Scale: the events table is filled to each size by INSERT ... SELECT generate_series (90 days,
   20 features with a skewed mix, 50,000 actors), then ANALYZE; at each size:
   - the rollup of today (adoption.tasks.rollup_day), p50 / p95 of --rollup-runs runs in blocks:
     the full path (before decision 1915), the first incremental run after it, incremental runs
     with no new events, and incremental runs after a 1,000-event batch; with each run's step
     times (the profile) and the load average (see measure_rollups);
   - the rebuild of the whole 90 days (adoption.tasks.rollup_span), once;
   - the adoption page and one feature's page (test client, signed in), median of --page-runs;
   - the discovery outcome query that reads raw events (events of one feature since a date).
Budgets (exit status 1 if missed): ingestion ≥ 20,000 events/s; pages < 150 ms (the dashboard
budget of bench/cases/metrics.py); the rollup of a day (p95, incremental) < 10 s; the rollup
after a 1,000-event batch (p50) < 1 s.

`--again` reuses the last run's database (10 M events take minutes to generate): migrated to the
current code, it measures the rollups and pages only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.generate import bench_database_url, is_postgres_url, recreate_database, setup_django

FEATURES = 20
ACTORS = 50_000
DAYS = 90
PAGE_BUDGET = 0.150
RATE_BUDGET = 20_000
ROLLUP_DAY_BUDGET = 10.0
INCREMENTAL_BUDGET = 1.0


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _world():
    from django.contrib.auth.hashers import make_password

    from adoption.models import IngestionKey
    from adoption.services import ingestion_key_create
    from pmhub.models import Membership, Role, User, Workspace
    from roadmaps.models import Product

    ws = Workspace.objects.create(name="Events bench", slug="events-bench", time_zone="UTC")
    user = User.objects.create(email="bench@events.pmhub.test", name="Bench", password=make_password(None))
    Membership.objects.create(user=user, workspace=ws, role=Role.ADMIN)
    product = Product.objects.create(workspace=ws, name="Telemetry")
    key, raw = ingestion_key_create(user=user, product=product, name="bench")
    key = IngestionKey.objects.select_related("product__workspace").get(pk=key.pk)
    return ws, user, product, key, raw


def _batch(seq: int, size: int, now: datetime) -> list[dict]:
    import random

    rng = random.Random(seq)
    return [{"id": f"ing-{seq}-{j}", "feature": f"feature.{min(int(rng.paretovariate(1.2)) - 1, FEATURES - 1):02d}",
             "actor": f"user-{rng.randrange(ACTORS)}",
             "occurred_at": (now - timedelta(seconds=rng.randrange(86_400))).isoformat(),
             "properties": {"plan": rng.choice(["free", "team", "enterprise"])}} for j in range(size)]


def measure_ingestion(product, key, raw, *, rounds: int, size: int) -> dict:
    from django.db import connection, transaction
    from psycopg2.extras import Json, execute_values
    from rest_framework.test import APIClient

    from adoption import services
    from adoption.ingestion import validate_events

    services._rollup_enqueue = lambda *a, **k: None  # a worker's job, not the ingestion's
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    now = datetime.now(UTC)
    samples: dict[str, list[float]] = {"service": [], "API": [], "floor INSERT": [], "floor COPY": []}
    seq = 0
    table = "adoption_usageevent"
    cols = "(product_id, event_id, feature_key, actor, occurred_at, properties, received_at)"
    for r in range(rounds + 1):  # round 0 warms up
        for case in samples:
            seq += 1
            items = _batch(seq, size, now)
            if case in ("floor INSERT", "floor COPY"):
                rows, _ = validate_events(items, tz=UTC, now=now)  # prepared outside the timing
                values = [(product.pk, r_[0], r_[1], r_[2], r_[3], Json(r_[4]), now) for r_ in rows]
                text = "".join(f"{product.pk}\t{r_[0]}\t{r_[1]}\t{r_[2]}\t{r_[3].isoformat()}\t"
                               f"{json.dumps(r_[4])}\t{now.isoformat()}\n" for r_ in rows)
            start = time.perf_counter()
            if case == "service":
                services.events_ingest(key=key, items=items)
            elif case == "API":
                response = client.post("/api/v1/events/bulk/", {"events": items}, format="json")
                assert response.status_code == 202, response.content[:300]
            elif case == "floor INSERT":
                with transaction.atomic(), connection.cursor() as cursor:
                    execute_values(cursor, f"INSERT INTO {table} {cols} VALUES %s "  # noqa: S608
                                   "ON CONFLICT (product_id, event_id, occurred_at) DO NOTHING", values,
                                   page_size=size)
            else:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.cursor.copy_expert(f"COPY {table} {cols} FROM STDIN", io.StringIO(text))
            elapsed = time.perf_counter() - start
            if r:
                samples[case].append(elapsed)
    out = {case: {"median_ms": round(_median_ms(s), 2), "rate": round(size / statistics.median(s))}
           for case, s in samples.items()}
    for case in ("service", "API"):
        out[case]["x_insert_floor"] = round(out[case]["median_ms"] / out["floor INSERT"]["median_ms"], 2)
        out[case]["x_copy_floor"] = round(out[case]["median_ms"] / out["floor COPY"]["median_ms"], 2)
    return out


def fill_to(product, target: int, have: int) -> float:
    """INSERT ... SELECT generate_series up to `target` events over the last DAYS days."""
    from django.db import connection

    if target <= have:
        return 0.0
    start = time.perf_counter()
    chunk = 1_000_000
    with connection.cursor() as cursor:
        for low in range(have, target, chunk):
            high = min(target, low + chunk)
            cursor.execute(
                "INSERT INTO adoption_usageevent (product_id, event_id, feature_key, actor, occurred_at, "
                "properties, received_at) "
                "SELECT %s, 'gen-' || g, 'feature.' || lpad(LEAST(GREATEST(floor(1 / (0.05 + random()))::int - 1, 0), %s)::text, 2, '0'), "
                "'user-' || (random() * %s)::int, "
                "now() - random() * make_interval(days => %s), '{}'::jsonb, now() "
                "FROM generate_series(%s, %s) g",
                [product.pk, FEATURES - 1, ACTORS - 1, DAYS, low + 1, high])
        cursor.execute("ANALYZE adoption_usageevent")
    return time.perf_counter() - start


def _quantiles_ms(samples: list[float]) -> str:
    """p50 / p95 / max in ms (nearest rank: with few runs p95 is the worst but one or the worst)."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return f"p50 {statistics.median(ordered) * 1000:,.0f} / p95 {p95 * 1000:,.0f} / max {ordered[-1] * 1000:,.0f} ms"


STEPS = ("_actor_days_sync", "_first_use_update", "_features_register", "_features_seen", "_dailies_upsert",
         "_refresh_windows", "_actor_last_sync", "actor_last_rebuild", "_windows_from_last_days", "_window_scan",
         "_windows_scan_all", "_windows_store")


class _Profile:
    """Time spent in each step of adoption.rollups (wrapped for the bench only)."""

    def __init__(self):
        from adoption import rollups

        self.rollups, self.spent, self.saved = rollups, {}, {}
        for name in STEPS:
            fn = self.saved[name] = getattr(rollups, name)
            setattr(rollups, name, self._wrap(name, fn))

    def _wrap(self, name, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - t0
        return timed

    def take(self) -> str:
        spent, self.spent = self.spent, {}
        return ", ".join(f"{k.lstrip('_')} {v * 1000:,.0f}" for k, v in sorted(spent.items(), key=lambda kv: -kv[1])
                         if v >= 0.0005)

    def close(self):
        for name, fn in self.saved.items():
            setattr(self.rollups, name, fn)


def measure_rollups(product, key, *, runs: int, skip_full: bool = False) -> dict:
    """The rollup of today as the worker runs it (adoption.tasks.rollup_day: rollup of the day,
    windows, KPI sync), in blocks close in time, with the load average of each block:
    - "full": every step deleted and rebuilt, the windows counted over a year of ActorDay (the
      path before decision 1915, kept for SQLite and the repair command);
    - "first incremental after full": absorbs the full runs (their days are recorded as rebuilt:
      one pass to rebuild each actor's last days);
    - "incremental, no new events": the beat's rerun;
    - "incremental after a 1,000-event batch": a batch of today ingested (adoption.services.
      events_ingest), then the rollup.
    Each run's step times (ms) are printed for the profile."""
    from adoption import rollups, services, tasks
    from pmhub.clock import today_in

    today = today_in("UTC")
    profile = _Profile()
    out: dict = {}

    def block(name: str, n: int, before=None, run=None) -> list[float]:
        samples = []
        load = os.getloadavg()[0]
        for _ in range(n):
            if before:
                before()
            t0 = time.perf_counter()
            (run or (lambda: tasks.rollup_day(product.pk, today.isoformat())))()
            samples.append(time.perf_counter() - t0)
            print(f"    {name}: {samples[-1] * 1000:,.0f} ms ({profile.take()})", flush=True)
        out[f"rollup today, {name}"] = _quantiles_ms(samples) + f" (load {load:.1f}, {n} runs)"
        out[f"rollup today, {name} p50 ms"] = round(statistics.median(samples) * 1000, 1)
        return samples

    def full():
        rollups.rollup_range(product_id=product.pk, first=today, last=today, tz_name="UTC", full=True)
        rollups.windows_refresh(product_id=product.pk, end=today, full=True)
        services.feature_kpis_sync(product_id=product.pk, tz_name="UTC")

    seq = iter(range(10**6))

    def batch():
        services.events_ingest(key=key, items=_batch(10**6 + next(seq) + int(time.time()), 1000,
                                                     datetime.now(UTC)))

    try:
        if not skip_full:
            block("full", runs, run=full)
            block("first incremental after full", 1)
        block("incremental, no new events", runs)
        block("incremental after a 1,000-event batch", runs, before=batch)
    finally:
        profile.close()
    return out


def measure_scale(ws, user, product, key, *, page_runs: int, rollup_runs: int, rebuild: bool = True,
                  skip_full: bool = False) -> dict:
    from django.db import connection
    from django.test import Client

    from adoption import tasks
    from adoption.models import Feature, UsageEvent
    from pmhub.clock import today_in

    today = today_in("UTC")
    out: dict = {}
    if rebuild:
        start = time.perf_counter()
        tasks.rollup_span(product.pk, (today - timedelta(days=DAYS)).isoformat(), today.isoformat())
        out["rollup 90 days (rebuild) s"] = round(time.perf_counter() - start, 2)
    with connection.cursor() as cursor:
        # Statistics of the rollup tables (this server runs without autovacuum: without them the
        # planner probes first uses through the wrong index, minutes instead of milliseconds).
        if not connection.in_atomic_block:
            cursor.execute("VACUUM ANALYZE adoption_actorday, adoption_featurefirstuse, adoption_actorlastday")
    out.update(measure_rollups(product, key, runs=rollup_runs, skip_full=skip_full))
    client = Client()
    client.force_login(user)
    feature = Feature.objects.filter(product=product).order_by("key").first()
    pages = {"adoption page": f"/w/{ws.slug}/products/{product.pk}/adoption/",
             "feature page": f"/w/{ws.slug}/products/{product.pk}/adoption/features/{feature.pk}/"}
    from django.urls import reverse

    pages["feature page"] = reverse("adoption_feature", kwargs={"ws": ws.slug, "product_id": product.pk,
                                                                "feature_id": feature.pk})
    for name, path in pages.items():
        samples = []
        for i in range(page_runs + 1):
            t0 = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, (path, response.status_code)
            if i:
                samples.append(elapsed)
        out[f"{name} ms"] = round(_median_ms(samples), 1)
    since = datetime.now(UTC) - timedelta(days=30)
    samples = []
    for _ in range(4):
        t0 = time.perf_counter()
        list(UsageEvent.objects.filter(product_id=product.pk, feature_key=feature.key, occurred_at__gte=since)
             .values("actor").distinct()[:1000])
        samples.append(time.perf_counter() - t0)
    out["raw events: distinct actors of a feature, 30 days ms"] = round(_median_ms(samples[1:]), 1)
    return out


def _rollup_misses(figures: dict, size: int) -> list[str]:
    """Budgets: the rollup of a day (today's events grouped again, the windows counted: the
    incremental run without new events) within ROLLUP_DAY_BUDGET at p95, the rollup after a
    1,000-event batch within INCREMENTAL_BUDGET at p50. The first run after full ones (it rebuilds
    every actor's last days, as after the repair command) is reported, not budgeted."""
    misses = []
    if float(figures["rollup today, incremental, no new events"].split("p95 ")[1].split(" ")[0].replace(",", "")) \
            >= ROLLUP_DAY_BUDGET * 1000:
        misses.append(f"rollup of a day at {size:,}")
    if figures["rollup today, incremental after a 1,000-event batch p50 ms"] >= INCREMENTAL_BUDGET * 1000:
        misses.append(f"incremental rollup after a batch at {size:,}")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,3000000,10000000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--page-runs", type=int, default=7)
    parser.add_argument("--rollup-runs", type=int, default=5, help="runs of each rollup case")
    parser.add_argument("--skip-full", action="store_true", help="with --again: no full-path rollups")
    parser.add_argument("--json", default="")
    parser.add_argument("--again", action="store_true",
                        help="keep the last run's database and events (migrated to the current code): "
                             "measure the rollup of today and the pages only")
    args = parser.parse_args(argv)
    url = bench_database_url(os.environ.get("DATABASE_URL"))
    if not is_postgres_url(url):
        print("events_scale needs PostgreSQL (DATABASE_URL)")
        return 2
    url = url.replace("_bench", "_events_bench")
    if not args.again:
        recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if args.again:
        from adoption import services
        from adoption.models import IngestionKey, UsageEvent
        from pmhub.models import User, Workspace

        services._rollup_enqueue = lambda *a, **k: None  # measured in-process, not by a worker

        ws = Workspace.objects.get(slug="events-bench")
        user, product = User.objects.get(email="bench@events.pmhub.test"), ws.products.get()
        key = IngestionKey.objects.select_related("product__workspace").get(product=product, name="bench")
        figures = measure_scale(ws, user, product, key, page_runs=args.page_runs, rollup_runs=args.rollup_runs,
                                rebuild=False, skip_full=args.skip_full)
        print(f"{UsageEvent.objects.count():,} events (again): " + "; ".join(f"{k} {v}" for k, v in figures.items()))
        failed = _rollup_misses(figures, UsageEvent.objects.count())
        for f in failed:
            print("MISSED:", f)
        return 1 if failed else 0
    ws, user, product, key, raw = _world()
    report: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
                    "batch": args.batch, "rounds": args.rounds, "sizes": {}}
    failed = []
    have = 0
    for n, size in enumerate(int(s) for s in args.sizes.split(",")):
        fill_s = fill_to(product, size, have)
        have = size
        figures = {"fill s": round(fill_s, 1)}
        if n == 0:
            report["ingestion"] = ingest = measure_ingestion(product, key, raw, rounds=args.rounds, size=args.batch)
            print(f"ingestion at {size:,} events, batches of {args.batch:,}, {args.rounds} rounds:")
            for case, f in ingest.items():
                extra = (f"  {f['x_insert_floor']}x INSERT floor, {f['x_copy_floor']}x COPY floor"
                         if "x_insert_floor" in f else "")
                print(f"  {case:<14}{f['median_ms']:>8.1f} ms/batch {f['rate']:>9,} events/s{extra}")
            if ingest["service"]["rate"] < RATE_BUDGET:
                failed.append(f"ingestion {ingest['service']['rate']:,}/s < {RATE_BUDGET:,}/s")
        figures.update(measure_scale(ws, user, product, key, page_runs=args.page_runs,
                                     rollup_runs=args.rollup_runs))
        report["sizes"][size] = figures
        print(f"{size:,} events: " + "; ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
        for page in ("adoption page ms", "feature page ms"):
            if figures[page] >= PAGE_BUDGET * 1000:
                failed.append(f"{page} {figures[page]} at {size:,}")
        failed += _rollup_misses(figures, size)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    for f in failed:
        print("MISSED:", f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
