"""Writes of the adoption app: event ingestion, features, ingestion keys, KPI sync and outcome
reviews. Every user-facing write checks the actor's role first."""

import json
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pmhub.access import require_role
from pmhub.clock import today_in
from pmhub.integrity import duplicate_as
from pmhub.models import Role, hash_secret
from pmhub.services import activity_record
from pmhub.utils import model_update, version_claim
from pmhub.webhooks import webhook_emit

from . import analytics, partitions
from .ingestion import BatchInvalid, BatchTooLarge, validate_events
from .models import Feature, IngestionKey, OutcomeCheckpoint, OutcomeReview, ProductDaily, UsageEvent
from .rollups import touched_days_mark


# --- ingestion ---------------------------------------------------------------------------------
def events_ingest(*, key: IngestionKey, items) -> dict:
    """Store a batch of usage events for the key's product; all or nothing.

    One validation pass, one INSERT ... ON CONFLICT DO NOTHING (a re-sent id is ignored), one
    upsert of the touched (product, local day) pairs; rollups of days that turned pending are
    queued on commit. An invalid item rejects the whole batch (BatchInvalid, nothing stored).
    """
    if not isinstance(items, list):
        raise BatchInvalid({"events": ["Send {\"events\": [...]}, a list of events."]})
    limit = settings.API_MAX_BATCH_SIZE
    if len(items) > limit:
        raise BatchTooLarge(len(items), limit)
    product = key.product
    tz_name = product.workspace.time_zone
    rows, errors = validate_events(items, tz=ZoneInfo(tz_name), now=timezone.now())
    if errors:
        raise BatchInvalid(errors)
    product_id = product.id
    days = {r[5] for r in rows}
    try:
        queued = _events_store(product_id=product_id, rows=rows, days=days, batch_size=limit)
    except IntegrityError as e:
        # An event in a month without a partition (the daily job keeps [now - 25 months,
        # now + 3 months] ready, so only after it has not run for long): make them, retry once.
        if not partitions.is_missing_partition(e):
            raise
        partitions.ensure({r[3] for r in rows})
        queued = _events_store(product_id=product_id, rows=rows, days=days, batch_size=limit)
    return {"accepted": len(rows), "days": sorted(d.isoformat() for d in days),
            "rollups_queued": [d.isoformat() for d in queued]}


def _events_store(*, product_id: int, rows: list[tuple], days: set, batch_size: int) -> list[date]:
    with transaction.atomic():
        _events_insert(product_id=product_id, rows=rows, batch_size=batch_size)
        queued = touched_days_mark(product_id=product_id, days=days)
        for day in queued:
            transaction.on_commit(partial(_rollup_enqueue, product_id, day.isoformat()))
    return queued


def _events_insert(*, product_id: int, rows: list[tuple], batch_size: int) -> None:
    """INSERT ... ON CONFLICT DO NOTHING of validated rows. On PostgreSQL one statement whose
    rows arrive as ONE json parameter (a list of [event_id, feature, actor, occurred_at,
    properties]) unpacked by json_array_elements on the server: one json.dumps in C on our side
    instead of adapting 7,000 values one by one (execute_values, 0901), 2.5x the rate at 1,000
    events (docs/decisions/1912-ingestion-json-rows.md). Elsewhere bulk_create(ignore_conflicts=True)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        UsageEvent.objects.bulk_create(
            [UsageEvent(product_id=product_id, event_id=r[0], feature_key=r[1], actor=r[2], occurred_at=r[3],
                        properties=r[4]) for r in rows],
            ignore_conflicts=True, batch_size=batch_size,
        )
        return
    table = UsageEvent._meta.db_table
    payload = json.dumps([(r[0], r[1], r[2], r[3].isoformat(), r[4]) for r in rows], separators=(",", ":"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, event_id, feature_key, actor, occurred_at, properties, received_at) "  # noqa: S608
            "SELECT %s, e->>0, e->>1, e->>2, (e->>3)::timestamptz, (e->4)::jsonb, %s "
            "FROM json_array_elements(%s::json) AS e "
            "ON CONFLICT (product_id, event_id, occurred_at) DO NOTHING",
            [product_id, timezone.now(), payload],
        )


def _rollup_enqueue(product_id: int, day: str) -> None:
    """Queue a day's rollup after the events are committed. A broker that is down must not turn an
    accepted batch into an error: the day stays pending and the beat sweep (tasks.rollup_recent)
    queues it once it is five minutes old."""
    from pmhub.celery import queue_or_leave

    from .tasks import rollup_day

    queue_or_leave(rollup_day, product_id, day)


# --- ingestion keys ------------------------------------------------------------------------------
@transaction.atomic
def ingestion_key_create(*, user, product, name: str) -> tuple[IngestionKey, str]:
    """Create a product's ingestion key; the raw key is returned once and stored only as a hash."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the key after the system that sends events."})
    raw = IngestionKey.generate_key()
    key = IngestionKey.objects.create(product=product, name=name[:100], prefix=raw[:12], key_hash=hash_secret(raw),
                                      created_by=user)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="created ingestion key", target=product,
                    data={"name": key.name})
    return key, raw


@transaction.atomic
def ingestion_key_revoke(*, user, key: IngestionKey) -> IngestionKey:
    require_role(user=user, workspace_id=key.product.workspace_id, role=Role.ADMIN)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        activity_record(workspace_id=key.product.workspace_id, actor=user, verb="revoked ingestion key",
                        target=key.product, data={"name": key.name})
    return key


def ingestion_key_authenticate(raw: str) -> IngestionKey | None:
    return (IngestionKey.objects.select_related("product__workspace")
            .filter(key_hash=hash_secret(raw), revoked_at__isnull=True, product__deleted_at__isnull=True).first())


# --- features ------------------------------------------------------------------------------------
FEATURE_FIELDS = ["key", "name", "description", "target_percent", "kpi"]


def _check_kpi(product, kpi) -> None:
    if kpi is not None and kpi.product_id != product.id:
        raise ValidationError({"kpi": "Choose a KPI of the same product."})


def _check_target(target) -> None:
    if target is not None and not (Decimal(0) <= Decimal(target) <= Decimal(100)):
        raise ValidationError({"target_percent": "A percentage between 0 and 100."})


@transaction.atomic
def feature_create(*, user, product, key: str, name: str = "", description: str = "", target_percent=None,
                   kpi=None) -> Feature:
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    from .ingestion import FEATURE_RE

    key = (key or "").strip()
    if not FEATURE_RE.match(key):
        raise ValidationError({"key": "1 to 100 characters of letters, digits and _ . : / - ."})
    if Feature.objects.filter(product=product, key=key).exists():
        raise ValidationError({"key": "This product already has a feature with this key."})
    _check_kpi(product, kpi)
    _check_target(target_percent)
    with duplicate_as({"key": "This product already has a feature with this key."}):
        feature = Feature.objects.create(product=product, key=key, name=(name or "").strip()[:120],
                                         description=description or "", target_percent=target_percent, kpi=kpi)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="created feature", target=feature)
    webhook_emit(workspace_id=product.workspace_id, event="adoption.feature.created",
                 payload={"id": feature.id, "key": feature.key})
    return feature


@transaction.atomic
def feature_update(*, user, feature: Feature, data: dict, version: int | None = None) -> Feature:
    """Rename, describe, set the target or the KPI. The key is fixed: events refer to it."""
    product = feature.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    version_claim(instance=feature, expected_version=version)
    if "key" in data and data["key"] != feature.key:
        raise ValidationError({"key": "The key of a feature cannot change: events refer to it."})
    if "kpi" in data:
        _check_kpi(product, data["kpi"])
    if "target_percent" in data:
        _check_target(data["target_percent"])
    if model_update(instance=feature, data=data, fields=["name", "description", "target_percent", "kpi"]):
        activity_record(workspace_id=product.workspace_id, actor=user, verb="updated feature", target=feature)
        webhook_emit(workspace_id=product.workspace_id, event="adoption.feature.updated", payload={"id": feature.id})
    return feature


@transaction.atomic
def feature_delete(*, user, feature: Feature) -> None:
    """Delete a feature and its rollups (raw events stay; new events of its key register it again)."""
    require_role(user=user, workspace_id=feature.product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=feature.product.workspace_id, actor=user, verb="deleted feature",
                    data={"key": feature.key})
    feature.delete()


# --- adoption into KPIs ------------------------------------------------------------------------
def feature_kpis_sync(*, product_id: int, tz_name: str) -> int:
    """Record each linked feature's adoption % (selectors.adoption_of_products: 7 days ending
    today in the workspace's time zone, the figure the adoption page shows) as its KPI's
    measurement of today; metrics' measurement service then sets the KPI's current value and
    health. A product never rolled up records nothing."""
    from . import selectors

    features = list(Feature.objects.filter(product_id=product_id, kpi__isnull=False).select_related("kpi"))
    if not features:
        return 0
    today = today_in(tz_name)
    if not ProductDaily.objects.filter(product_id=product_id, day__lte=today).exists():
        return 0
    figures = selectors.adoption_by_feature(product_id=product_id, end=today, window=analytics.ADOPTION_WINDOW_DAYS)
    written = 0
    for feature in features:
        percent = figures.get(feature.id, {}).get("percent")
        if percent is None:
            percent = 0.0
        value = Decimal(str(percent))
        _measurement_upsert(kpi=feature.kpi, period=today, value=value)
        written += 1
    return written


def _measurement_upsert(*, kpi, period: date, value: Decimal) -> None:
    """Record the adoption % as the KPI's measurement of that period (the KPI's history and health
    then follow like any other KPI). The rollup is system work: no user, no role check."""
    from metrics import services as metrics_services
    from metrics.models import Measurement

    metrics_services.measurements_upsert(user=None, kpi=kpi, items=[{"period": period, "value": value}],
                                         source=Measurement.Source.API, check_role=False)


# --- outcome reviews ------------------------------------------------------------------------------
def success_kpis(subject) -> list:
    """KPIs named as success criteria of an epic or initiative (`subject.kpis`, owned by metrics)."""
    related = getattr(subject, "kpis", None)
    if related is None or not hasattr(related, "all"):
        return []
    return list(related.all())


PREDICTION_INPUTS = ("score", "reach", "impact", "confidence", "effort", "rice_reach", "rice_impact",
                     "rice_confidence", "rice_effort")


def prediction_snapshot(subject) -> dict:
    """The stored score and whatever RICE inputs the subject carries, as plain JSON numbers."""
    snapshot = {}
    # The backlog keeps a scoring framework's inputs in `score_inputs` (reach, impact, ...).
    sources = [(name, getattr(subject, name, None)) for name in PREDICTION_INPUTS]
    sources += list((getattr(subject, "score_inputs", None) or {}).items())
    for name, value in sources:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            snapshot[name] = float(value)
    return snapshot


@transaction.atomic
def outcome_review_open(*, subject, kpi, released_at, release=None) -> tuple[OutcomeReview, bool]:
    """Record the KPI baseline at release and schedule the 30- and 90-day checkpoints.
    Idempotent: a second call for the same (subject, KPI) returns the existing review."""
    field = "epic" if subject._meta.model_name == "epic" else "initiative"
    existing = OutcomeReview.objects.filter(**{field: subject, "kpi": kpi}).first()
    if existing is not None:
        return existing, False
    snapshot = prediction_snapshot(subject)
    review = OutcomeReview.objects.create(
        product_id=subject.product_id, release=release, kpi=kpi, released_at=released_at,
        baseline_value=kpi.current_value, baseline_at=kpi.current_at, predicted=snapshot,
        predicted_score=snapshot.get("score"), **{field: subject},
    )
    OutcomeCheckpoint.objects.bulk_create([
        OutcomeCheckpoint(review=review, window_days=days, due_at=released_at + timedelta(days=days))
        for days in OutcomeCheckpoint.WINDOWS
    ])
    workspace_id = subject.product.workspace_id
    activity_record(workspace_id=workspace_id, actor=None, verb="opened outcome review", target=subject,
                    data={"kpi": kpi.name, "baseline": None if kpi.current_value is None else str(kpi.current_value)})
    webhook_emit(workspace_id=workspace_id, event="adoption.outcome_review.opened", payload={"id": review.id})
    return review, True


def outcome_reviews_open_for_release(*, release_id: int) -> int:
    """For each epic of a shipped release and each of their initiatives, open a review per
    success KPI. Safe to run twice."""
    from roadmaps.models import Release

    release = Release.objects.select_related("product").filter(pk=release_id).first()
    if release is None:
        return 0
    released_at = release.released_at or timezone.now()
    epics = list(release.epics.select_related("initiative", "product").all()) if hasattr(release, "epics") else []
    subjects = list(epics)
    seen = set()
    for epic in epics:
        if epic.initiative_id and epic.initiative_id not in seen:
            seen.add(epic.initiative_id)
            subjects.append(epic.initiative)
    opened = 0
    for subject in subjects:
        for kpi in success_kpis(subject):
            _, created = outcome_review_open(subject=subject, kpi=kpi, released_at=released_at, release=release)
            opened += created
    return opened


def outcome_checkpoints_measure_due(*, now=None) -> int:
    """Fill every due, unmeasured checkpoint with its KPI's current value. Each row is claimed
    under a lock, so two beat runs never measure the same checkpoint twice."""
    now = now or timezone.now()
    measured = 0
    ids = list(OutcomeCheckpoint.objects.filter(measured_at__isnull=True, due_at__lte=now)
               .values_list("id", flat=True)[:500])
    for checkpoint_id in ids:
        with transaction.atomic():
            checkpoint = (OutcomeCheckpoint.objects.select_for_update(of=("self",))
                          .select_related("review__kpi").filter(id=checkpoint_id, measured_at__isnull=True).first())
            if checkpoint is None:
                continue
            checkpoint.value = checkpoint.review.kpi.current_value
            checkpoint.measured_at = now
            checkpoint.save(update_fields=["value", "measured_at"])
            measured += 1
    return measured
