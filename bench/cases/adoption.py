"""Adoption: 1,000,000 usage events over 90 days; bulk ingestion through the API and the daily
rollup over all of them.

How the events get there: (events - ingest_batches x batch_size) rows by COPY, then
ingest_batches batches of batch_size through POST /api/v1/events/bulk/ (timed); at full scale
900,000 + 100 x 1,000 = 1,000,000. Without the endpoint, all of them come by COPY.

Filled after the adoption merge:
- adoption.UsageEvent (product, event_id unique per product, feature_key, actor, occurred_at,
  properties, received_at).
- Ingestion key: adoption.services.ingestion_key_create(user=, product=, name=) -> (key, raw),
  sent as `Authorization: Bearer <raw>`.
- Body: {"product": id, "events": [{"id", "feature", "actor", "occurred_at", "properties"}]}.
  The endpoint queues adoption.tasks.rollup_day for days that turned pending; during the
  ingestion figure those calls are collected, not run (a worker runs them in production; the
  rollup is its own figure).
- Rollup: adoption.tasks.rollup_span(product_id, first, last) over every day of the event span
  (set-based: one statement per span for the daily and 7-day figures).
"""

import uuid
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from bench.generate import insert_rows
from bench.harness import (
    Budget,
    Result,
    call_with_available,
    find_callable,
    guarded,
    measure_call,
    model,
    url_exists,
)
from pmhub.clock import today_in

BENCH_TZ = "UTC"  # the bench workspace's time zone (bench.generate)

NAME = "adoption"
ORDER = 40
EVENT_MODELS = ("adoption.UsageEvent",)
REQUIRES = ()  # checked in _event_model(): the model may live in adoption or metrics
MEASURES = ("event ingestion (bulk API)", "daily adoption rollup")
BULK_API = "/api/v1/events/bulk/"
INGEST_AUTH_HEADER = "HTTP_AUTHORIZATION"  # "Bearer <key>" (or X-PMHub-Ingestion-Key: <key>)
ROLLUP_TASKS = ("rollup_span",)


def _event_model():
    for label in EVENT_MODELS:
        found = model(label)
        if found is not None:
            return found
    return None


def available() -> bool:
    return _event_model() is not None


def _features(ctx) -> list[str]:
    return [f"feature.{i:02d}" for i in range(ctx.scale.event_features)]


def _event_columns(Event) -> dict[str, str]:
    """Which attname plays which role (UsageEvent: event_id is the idempotency key, feature_key the feature)."""
    Product, Workspace = model("roadmaps.Product"), model("pmhub.Workspace")
    roles: dict[str, str] = {}
    for f in Event._meta.concrete_fields:
        if f.primary_key:
            continue
        name, kind = f.name, f.get_internal_type()
        if f.is_relation and f.related_model is Product:
            roles["product"] = f.attname
        elif f.is_relation and f.related_model is Workspace:
            roles["workspace"] = f.attname
        elif kind == "DateTimeField" and name in ("occurred_at", "timestamp", "at", "happened_at", "time"):
            roles["when"] = f.attname
        elif kind == "DateTimeField" and name == "received_at":
            roles["received"] = f.attname
        elif kind == "DateField" and name in ("day", "date", "occurred_on"):
            roles["day"] = f.attname
        elif "feature" in name or name in ("event", "name", "event_name"):
            roles["feature"] = f.attname
        elif "actor" in name or name in ("user_key", "account", "distinct_id", "user_ref"):
            roles["actor"] = f.attname
        elif "idempotency" in name or name in ("key", "event_id", "uid", "dedupe_key"):
            roles["key" if kind != "UUIDField" else "uuid"] = f.attname
    return roles


def _event_row(ctx, roles: dict[str, str], i: int, when: datetime, feature: str, actor: str) -> dict:
    row = {}
    if "product" in roles:
        row[roles["product"]] = ctx.product.pk
    if "workspace" in roles:
        row[roles["workspace"]] = ctx.workspace.pk
    if "when" in roles:
        row[roles["when"]] = when
    if "received" in roles:
        row[roles["received"]] = when
    if "day" in roles:
        row[roles["day"]] = when.date()
    if "feature" in roles:
        row[roles["feature"]] = feature
    if "actor" in roles:
        row[roles["actor"]] = actor
    if "key" in roles:
        row[roles["key"]] = f"bench-{i}"
    if "uuid" in roles:
        row[roles["uuid"]] = uuid.UUID(int=i + 1)
    return row


def generate(ctx) -> None:
    Event = _event_model()
    if Event is None:
        ctx.notes.append("adoption: no usage-event model yet; 0 events generated")
        return
    scale, rng = ctx.scale, ctx.rng
    ingested = scale.ingest_batches * scale.batch_size if url_exists(BULK_API) else 0
    copied = max(0, scale.events - ingested)
    ctx.data["events_copied"], ctx.data["events_to_ingest"] = copied, ingested
    features = _features(ctx)
    weights = [1 / (k + 1) for k in range(len(features))]  # a few features are used far more than others
    start = datetime.combine(today_in(BENCH_TZ) - timedelta(days=scale.event_days), time(0), tzinfo=UTC)
    span = scale.event_days * 86_400
    roles = _event_columns(Event)
    actors = [f"user-{a}" for a in range(scale.event_actors)]
    picks = rng.choices(features, weights, k=copied)  # one call: far faster than one per row

    def rows():
        for i in range(copied):
            when = start + timedelta(seconds=rng.randrange(span))
            yield _event_row(ctx, roles, i, when, picks[i], actors[rng.randrange(scale.event_actors)])

    insert_rows(ctx, Event, rows(), copy=True)
    ctx.data["event_start"] = start
    # The rollup tables as production has them (the dashboards' funnels read them): one rollup of
    # the whole span, as `manage.py adoption_rebuild` runs it.
    task = find_callable("adoption.tasks", ROLLUP_TASKS)
    if task is not None and copied:
        with ctx.timer("adoption rollups", rows=copied, method="rollup_span"):
            task(ctx.product.pk, start.date().isoformat(), today_in(BENCH_TZ).isoformat())


def measure(ctx) -> list[Result]:
    if _event_model() is None:
        reason = f"feature not present (no usage-event model: {', '.join(EVENT_MODELS)})"
        return [Result.na(n, reason, kind=k, case=NAME) for n, k in zip(MEASURES, ("throughput", "write"), strict=True)]
    return [_ingestion(ctx), _rollup(ctx)]


def _ingestion_key(ctx) -> str | None:
    """adoption.services.ingestion_key_create(user=, product=, name=) -> (key, raw key)."""
    create = find_callable("adoption.services", ("ingestion_key_create", "ingest_key_create", "api_key_create"))
    if create is None:
        return None
    made = call_with_available(create, workspace=ctx.workspace, product=ctx.product, user=ctx.user,
                               actor=ctx.user, name="bench")
    return made[1] if isinstance(made, tuple) else str(made)


def _event_payload(ctx, batch: int) -> dict:
    """The body of POST /api/v1/events/bulk/: {"product", "events": [{"id", "feature", "actor", "occurred_at"}]}."""
    rng, size = ctx.rng, ctx.scale.batch_size
    features = _features(ctx)
    start = ctx.data.get("event_start") or timezone.now() - timedelta(days=ctx.scale.event_days)
    span = ctx.scale.event_days * 86_400
    base = ctx.data.get("events_copied", 0) + batch * size
    return {"product": ctx.product.pk, "events": [
        {"id": f"bench-api-{base + j}", "feature": rng.choice(features),
         "actor": f"user-{rng.randrange(ctx.scale.event_actors)}",
         "occurred_at": (start + timedelta(seconds=rng.randrange(span))).isoformat()}
        for j in range(size)
    ]}


@guarded("event ingestion (bulk API)", kind="throughput", case=NAME)
def _ingestion(ctx) -> Result:
    name = "event ingestion (bulk API)"
    if not url_exists(BULK_API):
        return Result.na(name, f"feature not present (POST {BULK_API} not routed)", kind="throughput", case=NAME)
    from rest_framework.test import APIClient

    key = _ingestion_key(ctx)
    client = APIClient()
    if key:
        client.credentials(**{INGEST_AUTH_HEADER: f"Bearer {key}"})
    else:
        client = ctx.api()
    # Every batch is new data, so the runs are the batches themselves: the first one warms up.
    payloads = [_event_payload(ctx, b) for b in range(ctx.scale.ingest_batches)]
    # Rollups the endpoint queues after commit go to a worker in production: collect them here
    # (the bench runs Celery eagerly, which would otherwise time 91 rollups inside each request).
    from unittest import mock

    from adoption import tasks

    queued = []
    with mock.patch.object(tasks.rollup_day, "delay", lambda *a, **k: queued.append(a)):
        result = _post_batches(ctx, client, payloads, name)
    result.note += f"; {len(queued)} rollups queued (not run here)"
    return result


def _post_batches(ctx, client, payloads, name) -> Result:
    import time as _time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples, queries, size = [], None, 0
    for i, payload in enumerate(payloads):
        with CaptureQueriesContext(connection) as captured:
            start = _time.perf_counter()
            response = client.post(BULK_API, payload, format="json")
            elapsed = _time.perf_counter() - start
        if response.status_code not in (200, 201, 202):
            raise AssertionError(f"POST {BULK_API} -> {response.status_code}: {response.content[:300]!r}")
        if i > 0 or len(payloads) == 1:  # the first batch warms up
            samples.append(elapsed)
            queries, size = len(captured.captured_queries), len(response.content)
    return Result(
        name=name, kind="throughput", samples=samples, queries=queries, bytes=size, case=NAME,
        items_per_sample=ctx.scale.batch_size, budget=Budget(min_rate=20_000),
        note=(f"{ctx.data.get('events_copied', 0):,} events by COPY + {len(payloads)} batches of "
              f"{ctx.scale.batch_size:,} through the API (first batch is the warm-up)"),
    )


@guarded("daily adoption rollup", kind="write", case=NAME)
def _rollup(ctx) -> Result:
    task = find_callable("adoption.tasks", ROLLUP_TASKS)
    if task is None:
        return Result.na("daily adoption rollup", "feature not present (no rollup task in adoption.tasks)",
                         kind="write", case=NAME)
    start = ctx.data.get("event_start") or timezone.now() - timedelta(days=ctx.scale.event_days)
    days = [(start + timedelta(days=d)).date() for d in range(ctx.scale.event_days + 1)]

    def run(i):
        # Every day of the events' span recomputed in one task, as a backfill runs it.
        task(ctx.product.pk, days[0].isoformat(), days[-1].isoformat())

    def vacuum(i):
        # Each run rewrites ~1,000,000 rollup rows; in production autovacuum cleans up between
        # rollups, here it would not get the chance between back-to-back runs (not timed).
        from django.db import connection

        if connection.vendor == "postgresql" and not connection.in_atomic_block:  # the smoke test runs in one
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE adoption_actorday, adoption_featuredaily, adoption_productdaily")

    return measure_call(ctx, name="daily adoption rollup", func=run, before=vacuum, budget=Budget(median=10.0),
                        case=NAME,
                        count_sql=False, note=(f"{ctx.scale.events:,} events, all {len(days)} local days recomputed "
                                               "by adoption.tasks.rollup_span; in-process"))
