"""Rollups of overlapping windows at the same time (threads, each on its own PostgreSQL
connection) leave exactly the rows of a clean recompute.

The 7-day windows of a day read the ActorDay rows of the six days before it and are written into
the rows of the six days after it, so two rollups of nearby days must not run side by side: the
second would count the first's days from the last committed state (short by the actors of the
uncommitted day). `test_a_rollup_waits_for_an_uncommitted_neighbour` makes that interleaving
happen every time; the backfill test runs many overlapping spans together as a worker pool would.
"""

import random
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connections, transaction

from adoption.models import ActorDay, Feature, FeatureDaily, ProductDaily, UsageEvent
from adoption.rollups import rollup_day, rollup_range
from pmhub.models import Workspace
from roadmaps.models import Product
from tests.services import on_postgres, require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FIRST = date(2026, 10, 1)
DAYS = 14


def _product() -> Product:
    ws = Workspace.objects.create(name="Acme", slug=f"acme-{random.randrange(10**9)}")
    product = Product.objects.create(workspace=ws, name="P")
    # Registered already, as after a product's first rollups: a first sighting would make the
    # second rollup wait on the first's uncommitted Feature insert and hide the race.
    for key in ("search", "export"):
        Feature.objects.create(product=product, key=key, name=key.capitalize())
    return product


def _events(product, *, seed: int, n: int = 600) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        day = FIRST + timedelta(days=rng.randrange(DAYS))
        rows.append(UsageEvent(product=product, event_id=f"e{i}", feature_key=rng.choice(["search", "export"]),
                               actor=f"u{rng.randrange(60)}",
                               occurred_at=datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)))
    UsageEvent.objects.bulk_create(rows)


def _rows(product) -> tuple[dict, dict, int]:
    features = {(f, d): (u, e, u7) for f, d, u, e, u7 in FeatureDaily.objects.filter(product=product)
                .values_list("feature__key", "day", "users", "events", "users_7d")}
    daily = {d: (a, e, a7) for d, a, e, a7 in ProductDaily.objects.filter(product=product)
             .values_list("day", "active_users", "events", "active_7d")}
    return features, daily, ActorDay.objects.filter(product=product).count()


def _clean(product) -> tuple[dict, dict, int]:
    """The rows of one rollup of the whole span, alone, compared against what is stored."""
    stored = _rows(product)
    rollup_range(product_id=product.id, first=FIRST, last=FIRST + timedelta(days=DAYS - 1), tz_name="UTC")
    return stored, _rows(product)


def _run_together(*calls) -> list:
    barrier = threading.Barrier(len(calls))
    errors: list = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def test_a_rollup_waits_for_an_uncommitted_neighbour():
    """A rolls up day 3 and holds its transaction open; B rolls up day 5 meanwhile. B must not
    compute day 5's window from the state before A's commit (the old code did, every time)."""
    require(on_postgres(), "PostgreSQL")
    product = _product()
    _events(product, seed=1)
    a_done, b_done = threading.Event(), threading.Event()
    order: list[str] = []

    def a():
        with transaction.atomic():
            rollup_day(product_id=product.id, day=FIRST + timedelta(days=3), tz_name="UTC")
            a_done.set()
            b_done.wait(timeout=2)  # the fixed code blocks B until this commits: give up waiting
            order.append("a commits")

    def b():
        a_done.wait(timeout=10)
        rollup_day(product_id=product.id, day=FIRST + timedelta(days=5), tz_name="UTC")
        order.append("b commits")
        b_done.set()

    assert _run_together(a, b) == []
    # Only days 3 and 5 were rolled up: compare them with a clean recompute of just those days.
    stored = _rows(product)
    rollup_range(product_id=product.id, first=FIRST + timedelta(days=3), last=FIRST + timedelta(days=3),
                 tz_name="UTC")
    rollup_range(product_id=product.id, first=FIRST + timedelta(days=5), last=FIRST + timedelta(days=5),
                 tz_name="UTC")
    assert stored == _rows(product)
    assert order == ["a commits", "b commits"]


def test_concurrent_overlapping_backfills_equal_a_clean_recompute():
    """A 14-day backfill as a pool of workers runs it: every day alone, plus overlapping spans,
    all at once, twice over. The stored rows equal one clean rollup of the span."""
    require(on_postgres(), "PostgreSQL")
    product = _product()
    _events(product, seed=2)
    last = FIRST + timedelta(days=DAYS - 1)
    for round_ in range(3):
        calls = [lambda d=FIRST + timedelta(days=n): rollup_day(product_id=product.id, day=d, tz_name="UTC")
                 for n in range(DAYS)]
        calls += [lambda: rollup_range(product_id=product.id, first=FIRST, last=FIRST + timedelta(days=8),
                                       tz_name="UTC"),
                  lambda: rollup_range(product_id=product.id, first=FIRST + timedelta(days=5), last=last,
                                       tz_name="UTC")]
        random.Random(round_).shuffle(calls)
        assert _run_together(*calls) == []
        stored, clean = _clean(product)
        assert stored == clean, f"round {round_}"
        ProductDaily.objects.filter(product=product).delete()
        FeatureDaily.objects.filter(product=product).delete()
        ActorDay.objects.filter(product=product).delete()


def test_rollups_of_far_apart_days_do_not_wait_for_each_other():
    """Days more than two windows apart share no rows: their rollups still run side by side."""
    require(on_postgres(), "PostgreSQL")
    product = _product()
    _events(product, seed=3)
    started = threading.Event()
    finished: list[float] = []

    def a():
        with transaction.atomic():
            rollup_day(product_id=product.id, day=FIRST, tz_name="UTC")
            started.set()
            time.sleep(1.5)

    def b():
        started.wait(timeout=10)
        t0 = time.monotonic()
        rollup_day(product_id=product.id, day=FIRST + timedelta(days=13), tz_name="UTC")
        finished.append(time.monotonic() - t0)

    assert _run_together(a, b) == []
    assert finished[0] < 1.0


def test_a_backfill_spread_over_two_real_workers_equals_a_clean_recompute(services_ready, tmp_path):
    """The path of issue 14: the days of a 14-day backfill queued one task each (plus two
    overlapping spans), consumed by two real worker processes side by side through Redis."""
    from adoption import tasks

    from .conftest import WorkerProcess, publishing_to, wait_until

    product = _product()
    _events(product, seed=4)
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    first, second = WorkerProcess(tmp_path / "one"), WorkerProcess(tmp_path / "two")
    second.queue, second.key_prefix = first.queue, first.key_prefix  # one queue, two consumers
    with publishing_to(first):
        first.start()
        second.start()
        try:
            for n in range(DAYS):
                tasks.rollup_day.delay(product.id, (FIRST + timedelta(days=n)).isoformat())
            tasks.rollup_span.delay(product.id, FIRST.isoformat(), (FIRST + timedelta(days=8)).isoformat())
            tasks.rollup_span.delay(product.id, (FIRST + timedelta(days=5)).isoformat(),
                                    (FIRST + timedelta(days=DAYS - 1)).isoformat())

            def finished():
                logs = first.output() + second.output()
                return logs.count(" succeeded in ") + logs.count(" raised unexpected") >= DAYS + 2

            wait_until(finished, timeout=180, message=lambda: first.output()[-2000:] + second.output()[-2000:])
            logs = first.output() + second.output()
        finally:
            first.stop()
            second.stop()
    assert "raised unexpected" not in logs and "Retry in" not in logs
    assert "rollup_day" in first.output() and "rollup_day" in second.output()  # both took work
    stored, clean = _clean(product)
    assert stored == clean
