"""Writes of the metrics app: KPIs, measurements (upsert per period), health, action plans."""

from collections import OrderedDict
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from pmhub.access import require_role
from pmhub.clock import today_in
from pmhub.integrity import duplicate_as
from pmhub.models import Membership, Role
from pmhub.services import activity_record, notify
from pmhub.utils import ids_text, model_update, version_claim, versioned_update
from pmhub.webhooks import webhook_emit

from . import csv_import, health
from .models import ActionPlan, Health, Kpi, KpiHealth, Measurement, MeasurementUpload
from .periods import period_end, period_of

KPI_FIELDS = ["name", "description", "unit", "direction", "aggregation", "cadence", "owner", "target_value",
              "target_date", "baseline_value", "baseline_date", "warning_threshold", "critical_threshold"]


def kpi_state(kpi: Kpi) -> dict:
    """What a 409 returns: the KPI as it is now."""
    return {"id": kpi.id, "version": kpi.version, "name": kpi.name,
            "target_value": str(kpi.target_value) if kpi.target_value is not None else None,
            "warning_threshold": str(kpi.warning_threshold) if kpi.warning_threshold is not None else None,
            "critical_threshold": str(kpi.critical_threshold) if kpi.critical_threshold is not None else None}


def _check_kpi_data(*, product, data: dict, direction: str) -> None:
    errors = {}
    owner = data.get("owner")
    if owner is not None and not Membership.objects.filter(user=owner, workspace_id=product.workspace_id).exists():
        errors["owner"] = "The owner must be a member of this workspace."
    warning, critical = data.get("warning_threshold"), data.get("critical_threshold")
    if warning is not None and critical is not None:
        if direction == Kpi.Direction.HIGHER and critical > warning:
            errors["critical_threshold"] = "Higher is better: the critical threshold must not be above the warning one."
        if direction == Kpi.Direction.LOWER and critical < warning:
            errors["critical_threshold"] = "Lower is better: the critical threshold must not be below the warning one."
    if data.get("target_value") is not None and data.get("target_date") is None:
        errors["target_date"] = "A target needs a date."
    for name in ("initiatives", "epics"):
        foreign = {obj.id for obj in data.get(name) or [] if obj.product_id != product.id}
        if foreign:
            errors[name] = f"Link only {name} of this product (not {ids_text(foreign)})."
    if errors:
        raise ValidationError(errors)


def _set_links(kpi: Kpi, data: dict) -> None:
    if "initiatives" in data:
        kpi.initiatives.set(data["initiatives"] or [])
    if "epics" in data:
        kpi.epics.set(data["epics"] or [])


@transaction.atomic
def kpi_create(*, user, product, data: dict) -> Kpi:
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    fields = {f: data[f] for f in KPI_FIELDS if f in data and data[f] is not None}
    if not (fields.get("name") or "").strip():
        raise ValidationError({"name": "A KPI needs a name."})
    _check_kpi_data(product=product, data=data, direction=fields.get("direction", Kpi.Direction.HIGHER))
    kpi = Kpi(product=product, **fields)
    kpi.full_clean(exclude=["product"])
    kpi.save()
    _set_links(kpi, data)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="created KPI", target=kpi)
    webhook_emit(workspace_id=product.workspace_id, event="kpi.created", payload={"id": kpi.id, "name": kpi.name})
    return kpi


@transaction.atomic
def kpi_update(*, user, kpi: Kpi, data: dict, expected_version: int | None) -> Kpi:
    """Edit a KPI; a stale `expected_version` is a Conflict (409) with the current state."""
    product = kpi.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    merged = {f: data.get(f, getattr(kpi, f)) for f in KPI_FIELDS}
    merged.update({k: data[k] for k in ("initiatives", "epics") if k in data})
    if "name" in data and not (data["name"] or "").strip():
        raise ValidationError({"name": "A KPI needs a name."})
    _check_kpi_data(product=product, data=merged, direction=merged["direction"])
    versioned_update(instance=kpi, data=data, fields=KPI_FIELDS, expected_version=expected_version,
                     serialize=kpi_state)
    _set_links(kpi, data)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="updated KPI", target=kpi)
    _evaluate_on_commit(kpi.id)
    return kpi


@transaction.atomic
def kpi_delete(*, user, kpi: Kpi) -> None:
    require_role(user=user, workspace_id=kpi.product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=kpi.product.workspace_id, actor=user, verb="deleted KPI",
                    data={"name": kpi.name})
    kpi.delete()


# --- measurements ------------------------------------------------------------------------------
def _combine(values: list[Decimal], aggregation: str) -> Decimal:
    """Several values of one batch in the same period become one, by the KPI's aggregation."""
    if aggregation == Kpi.Aggregation.SUM:
        return sum(values, Decimal(0))
    if aggregation == Kpi.Aggregation.AVERAGE:
        return sum(values, Decimal(0)) / len(values)
    if aggregation == Kpi.Aggregation.COUNT_DISTINCT:
        return Decimal(len(set(values)))
    return values[-1]


def _coerce_item(item: dict, *, kpi: Kpi, time_zone: str) -> tuple[date, Decimal]:
    """(period start, value) of one item, or a ValidationError with field errors. A day after
    today in the workspace's zone is refused: a value measured in the future is a typo or a
    forecast, and would otherwise become the KPI's current value."""
    errors = {}
    when = item.get("period") or item.get("timestamp") or item.get("date")
    period = None
    if isinstance(when, str):
        try:
            when = csv_import.parse_when(when)
        except ValueError as e:
            errors["period"] = str(e)
    if isinstance(when, datetime | date):
        future = csv_import.future_error(when, today=today_in(time_zone), time_zone=time_zone)
        if future:
            errors["period"] = future
        else:
            period = period_of(when, kpi.cadence, time_zone)
    elif "period" not in errors:
        errors["period"] = "Give a period (date) or a timestamp."
    value = item.get("value")
    try:
        value = csv_import.parse_value(str(value)) if value is not None else None
    except (ValueError, InvalidOperation) as e:
        errors["value"] = str(e)
    if value is None and "value" not in errors:
        errors["value"] = "A value is required."
    if errors:
        raise ValidationError(errors)
    return period, value


@transaction.atomic
def measurements_upsert(*, user, kpi: Kpi, items: list[dict], source: str = Measurement.Source.MANUAL,
                        check_role: bool = True) -> list[Measurement]:
    """Write values of one KPI; (kpi, period) is unique, so a re-sent value updates its row.

    Items name a `period` (date) or a `timestamp` (cut into the local period of the workspace).
    Values of the batch falling into the same period are combined by the KPI's aggregation.
    """
    workspace = kpi.product.workspace
    if check_role:
        require_role(user=user, workspace_id=workspace.id, role=Role.EDITOR)
    per_period: OrderedDict[date, list[Decimal]] = OrderedDict()
    for item in items:
        period, value = _coerce_item(item, kpi=kpi, time_zone=workspace.time_zone)
        per_period.setdefault(period, []).append(value)
    if not per_period:
        return []
    rows = [Measurement(kpi=kpi, period_start=p, value=_combine(v, kpi.aggregation), source=source)
            for p, v in per_period.items()]
    Measurement.objects.bulk_create(rows, update_conflicts=True, unique_fields=["kpi", "period_start"],
                                    update_fields=["value", "source", "updated_at"])
    kpi_refresh_current(kpi=kpi)
    activity_record(workspace_id=workspace.id, actor=user, verb="recorded measurements", target=kpi,
                    data={"count": len(rows), "source": source})
    _measured_emit(kpi, workspace.id)
    _evaluate_on_commit(kpi.id)
    return rows


@transaction.atomic
def measurements_bulk_upsert(*, user, items: list[dict], kpis: dict[int, Kpi]) -> int:
    """Values for several KPIs at once, all or nothing; errors are reported per item index."""
    errors, grouped = {}, OrderedDict()
    for index, item in enumerate(items):
        kpi = kpis.get(item.get("kpi"))
        if kpi is None:
            errors[str(index)] = {"kpi": ["Unknown KPI."]}
            continue
        try:
            require_role(user=user, workspace_id=kpi.product.workspace_id, role=Role.EDITOR)
            _coerce_item(item, kpi=kpi, time_zone=kpi.product.workspace.time_zone)
        except ValidationError as e:
            errors[str(index)] = e.message_dict
            continue
        grouped.setdefault(kpi.id, []).append(item)
    if errors:
        raise ItemErrors(errors)
    written = 0
    for kpi_id, kpi_items in grouped.items():
        written += len(measurements_upsert(user=user, kpi=kpis[kpi_id], items=kpi_items, source=Measurement.Source.API,
                                           check_role=False))
    return written


class ItemErrors(ValidationError):
    """Per-item errors of a bulk request: {"<index>": {"field": [...]}}."""

    def __init__(self, errors: dict):
        super().__init__("Some items are invalid.")
        self.item_errors = errors


@transaction.atomic
def measurement_delete(*, user, measurement: Measurement) -> None:
    kpi = measurement.kpi
    require_role(user=user, workspace_id=kpi.product.workspace_id, role=Role.EDITOR)
    measurement.delete()
    kpi_refresh_current(kpi=kpi)
    activity_record(workspace_id=kpi.product.workspace_id, actor=user, verb="deleted a measurement", target=kpi,
                    data={"period": measurement.period_start.isoformat()})
    _measured_emit(kpi, kpi.product.workspace_id)
    _evaluate_on_commit(kpi.id)


def kpi_refresh_current(*, kpi: Kpi) -> None:
    """Keep current_value/current_at equal to the KPI's current value (key results follow it):
    the latest measurement whose period starts on or before today in the workspace's time zone
    (a row dated later, written before such rows were refused, is never current)."""
    today = today_in(kpi.product.workspace.time_zone)
    latest = (kpi.measurements.filter(period_start__lte=today).order_by("-period_start")
              .values("value", "period_start").first())
    value, at = (latest["value"], latest["period_start"]) if latest else (None, None)
    Kpi.objects.filter(pk=kpi.pk).update(current_value=value, current_at=at)
    kpi.current_value, kpi.current_at = value, at


def _measured_emit(kpi: Kpi, workspace_id: int) -> None:
    webhook_emit(workspace_id=workspace_id, event="kpi.measured", payload={
        "id": kpi.id, "product_id": kpi.product_id,
        "current_value": None if kpi.current_value is None else str(kpi.current_value),
        "current_at": kpi.current_at.isoformat() if kpi.current_at else None})


def _evaluate_on_commit(kpi_id: int) -> None:
    from .tasks import kpi_evaluate_health

    kpi_evaluate_health.delay_on_commit(kpi_id)


# --- CSV upload: stage, preview, confirm --------------------------------------------------------
@transaction.atomic
def upload_stage(*, user, kpi: Kpi, content: bytes, filename: str = "") -> MeasurementUpload:
    """Store a CSV as a `parsing` staging row and queue its parse (upload_parse) on commit; the
    request does not decode or parse it (docs/decisions/1213). The measurements are written only
    by upload_confirm."""
    require_role(user=user, workspace_id=kpi.product.workspace_id, role=Role.EDITOR)
    upload = MeasurementUpload.objects.create(kpi=kpi, created_by=user, filename=filename[:200], raw=content,
                                              status=MeasurementUpload.Status.PARSING)
    from .tasks import measurement_upload_parse

    measurement_upload_parse.delay_on_commit(upload.id)
    return upload


def upload_parse(*, upload_id: int) -> str:
    """Worker side: parse the stored CSV into valid rows and per-line errors (a file that
    pmhub.textfiles refuses is one error on line 0 with the reason), in the workspace's zone and
    against its today. Idempotent: only a `parsing` upload is parsed, under a row lock; the raw
    file is dropped once parsed."""
    with transaction.atomic():
        upload = (MeasurementUpload.objects.select_for_update(of=("self",)).select_related("kpi__product__workspace")
                  .filter(pk=upload_id).first())
        if upload is None or upload.status != MeasurementUpload.Status.PARSING:
            return "skipped"
        kpi = upload.kpi
        time_zone = kpi.product.workspace.time_zone
        upload.rows, upload.errors = csv_import.parse_csv(bytes(upload.raw), cadence=kpi.cadence,
                                                          time_zone=time_zone, today=today_in(time_zone))
        upload.status, upload.raw = MeasurementUpload.Status.READY, b""
        upload.save(update_fields=["rows", "errors", "status", "raw"])
    return "parsed"


def upload_parse_give_up(*, upload_id: int) -> None:
    """The parse task failed for a reason other than the file (retries spent, a crash)."""
    MeasurementUpload.objects.filter(pk=upload_id, status=MeasurementUpload.Status.PARSING).update(
        status=MeasurementUpload.Status.READY, raw=b"", rows=[],
        errors=[{"line": 0, "raw": "", "reason": "The file could not be read because of an error on our side. "
                                                  "Upload it again."}])


@transaction.atomic
def upload_confirm(*, user, upload: MeasurementUpload) -> int:
    require_role(user=user, workspace_id=upload.kpi.product.workspace_id, role=Role.EDITOR)
    upload = MeasurementUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.status == MeasurementUpload.Status.PARSING:
        raise ValidationError("The file is still being read; try again in a moment.")
    if upload.confirmed_at is not None:
        raise ValidationError("This upload was already confirmed.")
    if not upload.rows:
        raise ValidationError("The file has no valid rows to write.")
    written = measurements_upsert(user=user, kpi=upload.kpi, items=[{"period": r["period"], "value": r["value"]}
                                                                     for r in upload.rows],
                                  source=Measurement.Source.CSV)
    upload.confirmed_at = timezone.now()
    upload.save(update_fields=["confirmed_at"])
    return len(written)


# --- health ---------------------------------------------------------------------------------------
def kpi_health_evaluate(*, kpi_id: int) -> KpiHealth | None:
    """Compute the KPI's health; on a change record a KpiHealth row, emit the webhook, and open
    (off track) or close (on track) its action plan. Running it twice changes nothing more."""
    with transaction.atomic():
        kpi = (Kpi.objects.select_for_update(of=("self",)).select_related("product__workspace", "owner")
               .filter(pk=kpi_id).first())
        if kpi is None:
            return None
        baseline, baseline_date = kpi.baseline_value, kpi.baseline_date
        if baseline is None or baseline_date is None:
            first = kpi.measurements.order_by("period_start").values("value", "period_start").first()
            if first:
                baseline, baseline_date = first["value"], first["period_start"]
        day = period_end(kpi.current_at, kpi.cadence) if kpi.current_at else None
        verdict = health.evaluate(value=kpi.current_value, day=day, direction=kpi.direction,
                                  warning=kpi.warning_threshold, critical=kpi.critical_threshold,
                                  baseline=baseline, baseline_date=baseline_date, target=kpi.target_value,
                                  target_date=kpi.target_date)
        if verdict.status == kpi.health:
            return None
        previous = kpi.health
        record = KpiHealth.objects.create(kpi=kpi, status=verdict.status, previous_status=previous,
                                          value=kpi.current_value, expected_value=verdict.expected, as_of=day,
                                          reason=verdict.reason[:300])
        Kpi.objects.filter(pk=kpi.pk).update(health=verdict.status, health_at=timezone.now())
        kpi.health = verdict.status
        workspace_id = kpi.product.workspace_id
        activity_record(workspace_id=workspace_id, actor=None, verb="KPI health changed", target=kpi,
                        data={"from": previous, "to": verdict.status})
        webhook_emit(workspace_id=workspace_id, event="kpi.health_changed",
                     payload={"kpi": kpi.id, "name": kpi.name, "product": kpi.product_id, "from": previous,
                              "to": verdict.status, "value": str(kpi.current_value),
                              "as_of": day.isoformat() if day else None, "reason": verdict.reason})
        if verdict.status == Health.OFF_TRACK:
            _plan_open_for(kpi, record)
        elif verdict.status == Health.ON_TRACK:
            ActionPlan.objects.filter(kpi=kpi).exclude(status=ActionPlan.Status.CLOSED).update(
                status=ActionPlan.Status.CLOSED, closed_at=timezone.now(), closed_reason="recovered",
                updated_at=timezone.now())
        return record


def _lock_kpi(kpi_id: int) -> None:
    """The one lock order of every write that opens or reopens a KPI's plan: the KPI row first."""
    Kpi.objects.select_for_update(of=("self",)).filter(pk=kpi_id).values_list("pk", flat=True).first()


def _plan_open_for(kpi: Kpi, record: KpiHealth) -> ActionPlan | None:
    if ActionPlan.objects.filter(kpi=kpi).exclude(status=ActionPlan.Status.CLOSED).exists():
        return None
    plan = ActionPlan.objects.create(
        kpi=kpi, owner=kpi.owner, title=f"Bring “{kpi.name}” back on track", opened_by_health=record,
        steps="- Find the cause\n- Agree on the fix\n- Check the next measurement",
        due_date=today_in(kpi.product.workspace.time_zone) + timedelta(days=14))
    if kpi.owner_id:
        ws = kpi.product.workspace
        notify(recipient=kpi.owner, kind="kpi_off_track", title=f"KPI “{kpi.name}” is off track",
               url=reverse("metrics_plan_detail", kwargs={"ws": ws.slug, "plan_id": plan.id}),
               workspace_id=ws.id, data={"kpi": kpi.id, "plan": plan.id})
    return plan


# --- action plans --------------------------------------------------------------------------------
PLAN_FIELDS = ["title", "steps", "due_date", "status", "owner"]


def _check_plan_owner(owner, workspace_id: int) -> None:
    """The API takes any user id: only a member of the plan's workspace may own it (and be notified)."""
    if owner is not None and not Membership.objects.filter(user=owner, workspace_id=workspace_id).exists():
        raise ValidationError({"owner": "The owner must be a member of this workspace."})


@transaction.atomic
def action_plan_create(*, user, kpi: Kpi, data: dict) -> ActionPlan:
    """Open a plan by hand. The KPI row is locked first, in the same order as the worker's health
    evaluation (kpi_health_evaluate locks the KPI, then may open a plan): inserting the plan first
    took a key-share lock on the KPI that waited for the worker while the worker waited for this
    plan's unique-index entry, a deadlock (500). Now the second one waits, then sees the first's
    plan: the single duplicate's 400."""
    require_role(user=user, workspace_id=kpi.product.workspace_id, role=Role.EDITOR)
    _lock_kpi(kpi.pk)
    _check_plan_owner(data.get("owner"), kpi.product.workspace_id)
    if ActionPlan.objects.filter(kpi=kpi).exclude(status=ActionPlan.Status.CLOSED).exists():
        raise ValidationError({"kpi": "This KPI already has an open action plan."})
    fields = {f: data[f] for f in PLAN_FIELDS if f in data and f != "status"}
    if not (fields.get("title") or "").strip():
        raise ValidationError({"title": "An action plan needs a title."})
    plan = ActionPlan(kpi=kpi, **fields)
    plan.full_clean(exclude=["kpi", "opened_by_health"])
    with duplicate_as({"kpi": "This KPI already has an open action plan."}):
        plan.save()
    activity_record(workspace_id=kpi.product.workspace_id, actor=user, verb="opened action plan", target=plan)
    return plan


@transaction.atomic
def action_plan_update(*, user, plan: ActionPlan, data: dict, version: int | None = None) -> ActionPlan:
    workspace_id = plan.kpi.product.workspace_id
    require_role(user=user, workspace_id=workspace_id, role=Role.EDITOR)
    _lock_kpi(plan.kpi_id)  # same lock order as action_plan_create and the health evaluation
    version_claim(instance=plan, expected_version=version)
    _check_plan_owner(data.get("owner"), workspace_id)
    if "title" in data and not (data["title"] or "").strip():
        raise ValidationError({"title": "An action plan needs a title."})
    closing = data.get("status") == ActionPlan.Status.CLOSED and plan.status != ActionPlan.Status.CLOSED
    reopening = (data.get("status") not in (None, ActionPlan.Status.CLOSED) and plan.status == ActionPlan.Status.CLOSED)
    if reopening and ActionPlan.objects.filter(kpi_id=plan.kpi_id).exclude(status=ActionPlan.Status.CLOSED).exists():
        raise ValidationError({"status": "This KPI already has another open action plan."})
    model_update(instance=plan, data=data, fields=PLAN_FIELDS)
    if closing:
        plan.closed_at, plan.closed_reason = timezone.now(), "manual"
        plan.save(update_fields=["closed_at", "closed_reason"])
    elif reopening:
        plan.closed_at, plan.closed_reason = None, ""
        plan.save(update_fields=["closed_at", "closed_reason"])
    activity_record(workspace_id=workspace_id, actor=user,
                    verb="closed action plan" if closing else "updated action plan", target=plan)
    return plan


def action_plan_close(*, user, plan: ActionPlan) -> ActionPlan:
    return action_plan_update(user=user, plan=plan, data={"status": ActionPlan.Status.CLOSED})
