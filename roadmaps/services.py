"""Writes of the roadmaps app. Every write checks the actor's role, records activity and, for
initiatives, emits the `initiative.changed` webhook."""

import hashlib
import secrets
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from pmhub.access import require_role
from pmhub.integrity import duplicate_as
from pmhub.models import Membership, Role
from pmhub.services import activity_record
from pmhub.utils import ids_text, model_update, version_claim, versioned_update
from pmhub.webhooks import webhook_emit

from . import graph
from .guards import initiative_status_check, release_ship_check
from .models import (
    SHARE_FILTER_KEYS,
    BusinessCase,
    Capability,
    CapabilityRating,
    Competitor,
    Dependency,
    Initiative,
    KeyResult,
    Level,
    Objective,
    Product,
    Release,
    RoadmapSnapshot,
    Segment,
    ShareLink,
)
from .signals import release_shipped


def _ws(obj) -> int:
    """Workspace id of any roadmaps object."""
    if isinstance(obj, Product):
        return obj.workspace_id
    if isinstance(obj, KeyResult):
        return obj.objective.product.workspace_id
    if isinstance(obj, Dependency):
        return obj.blocker.product.workspace_id
    if isinstance(obj, CapabilityRating):
        return obj.competitor.product.workspace_id
    return obj.product.workspace_id


def _check(actor, obj, role=Role.EDITOR) -> int:
    ws = _ws(obj)
    require_role(user=actor, workspace_id=ws, role=role)
    return ws


# --- products --------------------------------------------------------------------------------
@transaction.atomic
def product_create(*, actor, workspace, name: str, vision: str = "") -> Product:
    require_role(user=actor, workspace_id=workspace.id, role=Role.EDITOR)
    product = Product(workspace=workspace, name=(name or "").strip(), vision=vision or "")
    product.full_clean()
    product.save()
    activity_record(workspace_id=workspace.id, actor=actor, verb="created product", target=product)
    return product


@transaction.atomic
def product_update(*, actor, product: Product, data: dict, version: int | None = None) -> Product:
    ws = _check(actor, product)
    version_claim(instance=product, expected_version=version)
    if "name" in data:
        data = dict(data, name=(data["name"] or "").strip())
    if model_update(instance=product, data=data, fields=["name", "vision"]):
        activity_record(workspace_id=ws, actor=actor, verb="updated product", target=product)
    return product


@transaction.atomic
def business_case_update(*, actor, product: Product, data: dict) -> BusinessCase:
    ws = _check(actor, product)
    case, _ = BusinessCase.objects.get_or_create(product=product)
    if model_update(instance=case, data=data, fields=["problem", "expected_value", "cost", "risks"]):
        activity_record(workspace_id=ws, actor=actor, verb="updated business case", target=product)
    return case


@transaction.atomic
def product_delete(*, actor, product: Product) -> None:
    """Soft delete: the product disappears from lists and pages and can be restored."""
    ws = _check(actor, product, Role.ADMIN)
    if product.deleted_at is None:
        product.deleted_at = timezone.now()
        product.save(update_fields=["deleted_at", "updated_at"])
        activity_record(workspace_id=ws, actor=actor, verb="deleted product", target=product)


@transaction.atomic
def product_restore(*, actor, product: Product) -> Product:
    ws = _check(actor, product, Role.ADMIN)
    if product.deleted_at is not None:
        product.deleted_at = None
        product.save(update_fields=["deleted_at", "updated_at"])
        activity_record(workspace_id=ws, actor=actor, verb="restored product", target=product)
    return product


# --- simple children of a product --------------------------------------------------------------
EDITABLE = {
    Segment: ["name", "needs", "size"],
    Competitor: ["name", "strengths", "weaknesses"],
    Capability: ["name", "ours"],
    Release: ["name", "description", "release_date", "kind"],
    KeyResult: ["title", "start_value", "target_value", "current_value", "unit", "owner", "kpi"],
}


def _label(obj) -> str:
    return type(obj)._meta.verbose_name


def _validate_refs(product: Product, data: dict) -> None:
    """Owners must be members of the product's workspace; KPIs must belong to the product."""
    owner = data.get("owner")
    if owner is not None and not Membership.objects.filter(user=owner, workspace_id=product.workspace_id).exists():
        raise ValidationError({"owner": "The owner must be a member of this workspace."})
    kpi = data.get("kpi")
    if kpi is not None and kpi.product_id != product.id:
        raise ValidationError({"kpi": "Choose a KPI of this product."})


@transaction.atomic
def child_create(*, actor, model, product: Product, data: dict):
    """Create a Segment, Competitor, Capability or Release of a product."""
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)
    obj = model(product=product, **{k: v for k, v in data.items() if k in EDITABLE[model]})
    # Unique names are left to the insert below (`product` excluded skips the (product, name)
    # rule here), so a duplicate gets the same answer whether it came alone or in a race.
    obj.full_clean(exclude=["product"])
    with duplicate_as({"name": "This name is already used in this product."}):
        obj.save()
    activity_record(workspace_id=product.workspace_id, actor=actor, verb=f"created {_label(obj)}", target=obj)
    return obj


@transaction.atomic
def child_update(*, actor, obj, data: dict, version: int | None = None):
    ws = _check(actor, obj)
    version_claim(instance=obj, expected_version=version)
    if isinstance(obj, KeyResult):
        _validate_refs(obj.objective.product, data)
    try:
        with transaction.atomic():
            changed = model_update(instance=obj, data=data, fields=EDITABLE[type(obj)])
    except IntegrityError:
        raise ValidationError({"name": "This name is already used in this product."})
    if changed:
        activity_record(workspace_id=ws, actor=actor, verb=f"updated {_label(obj)}", target=obj)
    return obj


@transaction.atomic
def child_delete(*, actor, obj) -> None:
    ws = _check(actor, obj)
    activity_record(workspace_id=ws, actor=actor, verb=f"deleted {_label(obj)}", target=obj)
    obj.delete()


@transaction.atomic
def capability_rate(*, actor, competitor: Competitor, capability: Capability, level: str) -> CapabilityRating:
    ws = _check(actor, competitor)
    if capability.product_id != competitor.product_id:
        raise ValidationError({"capability": "Choose a capability of this product."})
    if level not in Level.values:
        raise ValidationError({"level": "Choose yes, partial or no."})
    rating, _ = CapabilityRating.objects.update_or_create(competitor=competitor, capability=capability,
                                                          defaults={"level": level})
    activity_record(workspace_id=ws, actor=actor, verb="rated capability", target=competitor,
                    data={"capability": capability.name, "level": level})
    return rating


# --- objectives and key results ------------------------------------------------------------------
def quarter_dates(quarter: str) -> tuple[date, date]:
    """'2026-Q3' -> (2026-07-01, 2026-09-30)."""
    try:
        year, q = quarter.upper().split("-Q")
        year, q = int(year), int(q)
        if not 1 <= q <= 4 or not 1900 < year < 3000:
            raise ValueError
    except ValueError:
        raise ValidationError({"quarter": "Write a quarter as YYYY-Qn, e.g. 2026-Q3."})
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), (3 * q) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def _objective_period(data: dict) -> dict:
    data = dict(data)
    if data.get("quarter"):
        data["quarter"] = data["quarter"].upper()
        data["start_date"], data["end_date"] = quarter_dates(data["quarter"])
    elif "quarter" in data or "start_date" in data or "end_date" in data:
        data["quarter"] = ""
    return data


def _check_dates(start, end, field="end_date"):
    if start and end and end < start:
        raise ValidationError({field: "The end date must not be before the start date."})


@transaction.atomic
def objective_create(*, actor, product: Product, data: dict) -> Objective:
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)
    data = _objective_period(data)
    if not data.get("start_date") or not data.get("end_date"):
        raise ValidationError({"quarter": "Give a quarter or start and end dates."})
    _check_dates(data["start_date"], data["end_date"])
    objective = Objective(product=product, **{k: data.get(k, "") for k in ("title", "description", "quarter")},
                          start_date=data["start_date"], end_date=data["end_date"])
    objective.full_clean()
    objective.save()
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="created objective", target=objective)
    return objective


@transaction.atomic
def objective_update(*, actor, objective: Objective, data: dict, version: int | None = None) -> Objective:
    ws = _check(actor, objective)
    version_claim(instance=objective, expected_version=version)
    data = _objective_period(data)
    _check_dates(data.get("start_date", objective.start_date), data.get("end_date", objective.end_date))
    if model_update(instance=objective, data=data,
                    fields=["title", "description", "quarter", "start_date", "end_date"]):
        activity_record(workspace_id=ws, actor=actor, verb="updated objective", target=objective)
    return objective


@transaction.atomic
def key_result_create(*, actor, objective: Objective, data: dict) -> KeyResult:
    product = objective.product
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)
    _validate_refs(product, data)
    kr = KeyResult(objective=objective, **{k: v for k, v in data.items() if k in EDITABLE[KeyResult]})
    kr.full_clean()
    kr.save()
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="created key result", target=kr)
    return kr


# --- initiatives -------------------------------------------------------------------------------
INITIATIVE_FIELDS = ["title", "description", "status", "owner", "start_date", "end_date", "horizon", "labels",
                     "confidence", "release", "rank"]


def labels_text(labels) -> str:
    if isinstance(labels, str):
        labels = labels.split(",")
    clean = sorted({x.strip().lower()[:40] for x in labels or [] if x and x.strip()})
    return f",{','.join(clean)}," if clean else ""


def initiative_state(initiative: Initiative) -> dict:
    """The shape sent in webhooks and 409 answers."""
    return {
        "id": initiative.id, "product": initiative.product_id, "title": initiative.title,
        "status": initiative.status, "horizon": initiative.horizon, "owner": initiative.owner_id,
        "start_date": initiative.start_date.isoformat() if initiative.start_date else None,
        "end_date": initiative.end_date.isoformat() if initiative.end_date else None,
        "labels": initiative.label_list, "confidence": initiative.confidence, "release": initiative.release_id,
        "rank": initiative.rank, "version": initiative.version,
    }


def _initiative_input(product: Product, data: dict) -> tuple[dict, list | None]:
    data = dict(data)
    objectives = data.pop("objectives", None)
    if "labels" in data:
        data["labels"] = labels_text(data["labels"])
    _validate_refs(product, data)
    release = data.get("release")
    if release is not None and release.product_id != product.id:
        raise ValidationError({"release": "Choose a release of this product."})
    foreign = {o.id for o in objectives or [] if o.product_id != product.id}
    if foreign:
        raise ValidationError({"objectives": f"Choose objectives of this product (not {ids_text(foreign)})."})
    if "confidence" in data and data["confidence"] is not None and not 0 <= data["confidence"] <= 100:
        raise ValidationError({"confidence": "Confidence is a percentage from 0 to 100."})
    return data, objectives


def _initiative_emit(initiative: Initiative, action: str, actor) -> None:
    ws = initiative.product.workspace_id
    activity_record(workspace_id=ws, actor=actor, verb=f"{action} initiative", target=initiative)
    webhook_emit(workspace_id=ws, event="initiative.changed",
                 payload={"action": action, "initiative": initiative_state(initiative)})


@transaction.atomic
def initiative_create(*, actor, product: Product, data: dict) -> Initiative:
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)
    data, objectives = _initiative_input(product, data)
    _check_dates(data.get("start_date"), data.get("end_date"))
    initiative = Initiative(product=product, **{k: v for k, v in data.items() if k in INITIATIVE_FIELDS})
    initiative.full_clean()
    initiative_status_check(initiative=initiative, old_status=None, new_status=initiative.status)
    initiative.save()
    if objectives:
        initiative.objectives.set(objectives)
    _initiative_emit(initiative, "created", actor)
    return initiative


@transaction.atomic
def initiative_update(*, actor, initiative: Initiative, data: dict, version: int | None,
                      action: str = "updated") -> Initiative:
    """Update with optimistic locking: `version` is the one the client read; a stale one is a 409."""
    require_role(user=actor, workspace_id=initiative.product.workspace_id, role=Role.EDITOR)
    data, objectives = _initiative_input(initiative.product, data)
    _check_dates(data.get("start_date", initiative.start_date), data.get("end_date", initiative.end_date))
    if data.get("status") is not None:
        initiative_status_check(initiative=initiative, old_status=initiative.status, new_status=data["status"])
    versioned_update(instance=initiative, data=data, fields=INITIATIVE_FIELDS, expected_version=version,
                     serialize=initiative_state)
    if objectives is not None:
        initiative.objectives.set(objectives)
    _initiative_emit(initiative, action, actor)
    return initiative


def initiative_move(*, actor, initiative: Initiative, version: int | None, horizon: str | None = None,
                    rank: float | None = None, start_date=None, end_date=None) -> Initiative:
    """Move on the board (horizon/rank) or on the timeline (dates); same locking as an update."""
    data = {}
    if horizon is not None:
        if horizon not in Initiative.Horizon.values + [""]:
            raise ValidationError({"horizon": "Choose now, next or later."})
        data["horizon"] = horizon
    if rank is not None:
        data["rank"] = rank
    if start_date is not None:
        data["start_date"] = start_date
    if end_date is not None:
        data["end_date"] = end_date
    if not data:
        raise ValidationError({"non_field_errors": ["Nothing to move."]})
    return initiative_update(actor=actor, initiative=initiative, data=data, version=version, action="moved")


@transaction.atomic
def initiative_delete(*, actor, initiative: Initiative) -> None:
    require_role(user=actor, workspace_id=initiative.product.workspace_id, role=Role.EDITOR)
    _initiative_emit(initiative, "deleted", actor)
    initiative.delete()


# --- dependencies ------------------------------------------------------------------------------
@transaction.atomic
def dependency_create(*, actor, blocker: Initiative, blocked: Initiative) -> Dependency:
    """`blocker` blocks `blocked`. Refuses other products, duplicates and cycles (400)."""
    product = blocker.product
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)
    if blocked.product_id != product.id:
        raise ValidationError({"blocked": "Both initiatives must belong to the same product."})
    if blocker.id == blocked.id:
        raise ValidationError({"blocked": "An initiative cannot block itself."})
    # Lock the product row so two concurrent inserts cannot close a cycle together.
    Product.objects.select_for_update().filter(pk=product.pk).first()
    edges = Dependency.objects.filter(blocker__product=product).values_list("blocker_id", "blocked_id")
    if (blocker.id, blocked.id) in set(edges):
        raise ValidationError({"blocked": "This dependency already exists."})
    if graph.creates_cycle(edges, blocker.id, blocked.id):
        raise ValidationError({"blocked": f"“{blocked}” already blocks “{blocker}” (directly or through "
                                          "other initiatives); this dependency would make a cycle."})
    dependency = Dependency.objects.create(blocker=blocker, blocked=blocked)
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="added dependency", target=blocked,
                    data={"blocker": blocker.id, "blocked": blocked.id})
    return dependency


@transaction.atomic
def dependency_delete(*, actor, dependency: Dependency) -> None:
    ws = _check(actor, dependency)
    activity_record(workspace_id=ws, actor=actor, verb="removed dependency", target=dependency.blocked,
                    data={"blocker": dependency.blocker_id, "blocked": dependency.blocked_id})
    dependency.delete()


# --- releases ----------------------------------------------------------------------------------
@transaction.atomic
def release_mark_released(*, actor, release: Release, override_reason: str = "") -> Release:
    """Ship a release: sets status and released_at once and sends `release_shipped`. The ship
    guards (roadmaps.guards, e.g. governance's launch readiness) may refuse it unless an
    `override_reason` is given, which they then record."""
    ws = _check(actor, release)
    release = Release.objects.select_for_update().get(pk=release.pk)
    if release.status == Release.Status.RELEASED:
        return release
    release_ship_check(release=release, actor=actor, override_reason=override_reason)
    release.status = Release.Status.RELEASED
    release.released_at = timezone.now()
    release.save(update_fields=["status", "released_at", "updated_at"])
    activity_record(workspace_id=ws, actor=actor, verb="shipped release", target=release)
    release_shipped.send(sender=Release, release=release, actor=actor)
    return release


@transaction.atomic
def release_assign(*, actor, release: Release, initiative_ids=(), unassign=False) -> None:
    """Put initiatives of the release's product into its scope (or take them out). Epics are the
    backlog's: backlog.services.epics_link (this app does not import the backlog)."""
    ws = _check(actor, release)
    target = None if unassign else release
    base = {"product_id": release.product_id}
    if unassign:
        base["release"] = release
    errors = {}
    for name, model, ids in (("initiatives", Initiative, initiative_ids),):
        missing = set(ids) - set(model.objects.filter(id__in=list(ids), **base).values_list("id", flat=True))
        if missing:
            where = "in this release's scope" if unassign else "of this product"
            errors[name] = [f"Choose {name} {where} (not {ids_text(missing)}). Nothing was changed."]
    if errors:
        raise ValidationError(errors)
    Initiative.objects.filter(id__in=list(initiative_ids), **base).update(release=target)
    activity_record(workspace_id=ws, actor=actor, verb="unassigned scope" if unassign else "assigned scope",
                    target=release, data={"initiatives": list(initiative_ids)})


# --- snapshots ---------------------------------------------------------------------------------
def snapshot_payload(product: Product) -> dict:
    rows = product.initiatives.order_by("id").values("id", "title", "status", "horizon", "start_date", "end_date")
    return {"initiatives": [
        dict(r, start_date=r["start_date"].isoformat() if r["start_date"] else None,
             end_date=r["end_date"].isoformat() if r["end_date"] else None) for r in rows]}


@transaction.atomic
def snapshot_create(*, actor, product: Product, name: str) -> RoadmapSnapshot:
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the snapshot, e.g. 'Board review Q3'."})
    snapshot = RoadmapSnapshot.objects.create(product=product, name=name[:120], data=snapshot_payload(product),
                                              created_by=actor)
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="saved snapshot", target=snapshot)
    return snapshot


# --- share links -------------------------------------------------------------------------------
def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def share_filters_clean(*, product: Product, filters: dict | None) -> dict:
    """The filters a share link applies (decisions/1401): status and horizon among the initiative's
    choices, an objective or release of this product (by id), a label; empty values are dropped.
    Anything else is a field error (keyed by the filter's name), so a link never shows more than
    its sharer chose nor fails when opened."""
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise ValidationError({"filters": "Choose filters by name."})
    errors, clean = {}, {}
    unknown = sorted(str(k)[:40] for k in filters if k not in SHARE_FILTER_KEYS)
    if unknown:
        errors["filters"] = f"Unknown filter: {', '.join(unknown)}."
    for key in SHARE_FILTER_KEYS:
        value = filters.get(key)
        if value in (None, ""):
            continue
        if key == "status" and value not in Initiative.Status.values:
            errors[key] = "Choose a status of the list."
        elif key == "horizon" and value not in Initiative.Horizon.values:
            errors[key] = "Choose Now, Next or Later."
        elif key in ("objective", "release"):
            model = Objective if key == "objective" else Release
            try:
                pk = int(value)
            except (TypeError, ValueError):
                pk = 0
            if not (0 < pk < 2**31) or not model.objects.filter(product=product, pk=pk).exists():
                errors[key] = f"Choose a{'n objective' if key == 'objective' else ' release'} of this product."
            else:
                clean[key] = pk
            continue
        elif key == "label" and (not isinstance(value, str) or len(value.strip()) > 40):
            errors[key] = "A label has at most 40 characters."
        elif key == "label":
            value = value.strip().lower()
        clean[key] = value
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def share_link_create(*, actor, product: Product, days: int = 30, label: str = "", view: str = "timeline",
                      filters: dict | None = None, allow_present: bool = False) -> tuple[ShareLink, str]:
    """A read-only link to the product's roadmap in the chosen view (timeline, board or list) with
    the chosen filters, and optionally its presentation. Returns the raw token once; only its hash
    is kept."""
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= 365:
        errors["days"] = "A link lasts from 1 to 365 days."
    if view not in ShareLink.View.values:
        errors["view"] = "Choose the timeline, the board or the list."
    try:
        filters = share_filters_clean(product=product, filters=filters)
    except ValidationError as e:
        errors |= e.message_dict
    if errors:
        raise ValidationError(errors)
    raw = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(product=product, label=(label or "")[:120], token_hash=_hash(raw),
                                    prefix=raw[:8], expires_at=timezone.now() + timedelta(days=days),
                                    created_by=actor, view=view, filters=filters, allow_present=bool(allow_present))
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="created share link", target=product,
                    data={"link": link.id, "days": days, "view": view})
    return link, raw


@transaction.atomic
def share_link_revoke(*, actor, link: ShareLink) -> ShareLink:
    ws = _check(actor, link)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        activity_record(workspace_id=ws, actor=actor, verb="revoked share link", target=link.product)
    return link


def share_link_resolve(raw: str) -> ShareLink | None:
    """The active link for a raw token (None when unknown, expired, revoked or its product deleted)."""
    link = (ShareLink.objects.select_related("product").filter(token_hash=_hash(raw or ""),
                                                               product__deleted_at__isnull=True).first())
    if link is None or not link.is_active(timezone.now()):
        return None
    return link
