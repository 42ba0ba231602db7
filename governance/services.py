"""Writes of the governance app: register items, their mediation log, the product's appetite.
Each checks the role, keeps the version (409 on stale), records activity and emits webhooks; the
owner's notifications are sent by the worker (tasks.py), never inline."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from pmhub.access import require_role
from pmhub.models import Membership, Role
from pmhub.services import activity_record
from pmhub.utils import model_update, version_claim
from pmhub.webhooks import webhook_emit

from .models import IssueNote, ProductGovernance, Risk

RISK_FIELDS = ["kind", "title", "description", "likelihood", "impact", "owner", "mitigation", "due_date",
               "review_date", "status", "trend"]
LINKS = {"initiatives": "initiatives", "releases": "releases", "epics": "epics", "kpis": "kpis"}


def risk_payload(risk: Risk) -> dict:
    return {"id": risk.id, "product": risk.product_id, "kind": risk.kind, "title": risk.title,
            "likelihood": risk.likelihood, "impact": risk.impact, "score": risk.score, "status": risk.status,
            "owner": risk.owner_id, "version": risk.version}


def _check_owner(owner, workspace_id: int) -> None:
    if owner is not None and not Membership.objects.filter(user=owner, workspace_id=workspace_id).exists():
        raise ValidationError({"owner": "The owner must be a member of this workspace."})


def _check_links(product, data: dict) -> None:
    """Every linked item must belong to the register's own product."""
    for field in LINKS:
        for obj in data.get(field) or ():
            if obj.product_id != product.id:
                raise ValidationError({field: "Link only items of this product."})


def _set_links(risk: Risk, data: dict) -> None:
    for field in LINKS:
        if field in data and data[field] is not None:
            getattr(risk, field).set(data[field])


def _appetite_check_on_commit(risk: Risk) -> None:
    from .tasks import risk_appetite_check

    risk_appetite_check.delay_on_commit(risk.id)


@transaction.atomic
def risk_create(*, user, product, data: dict) -> Risk:
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    _check_owner(data.get("owner"), product.workspace_id)
    _check_links(product, data)
    fields = {f: data[f] for f in RISK_FIELDS if f in data and data[f] is not None}
    if not (fields.get("title") or "").strip():
        raise ValidationError({"title": "Give the risk a title."})
    risk = Risk(product=product, created_by=user, **fields)
    if risk.kind == Risk.Kind.ISSUE:
        risk.likelihood = 5
    risk.full_clean(exclude=["product", "owner", "created_by", "initiatives", "releases", "epics", "kpis"])
    risk.save()
    _set_links(risk, data)
    activity_record(workspace_id=product.workspace_id, actor=user, verb=f"logged {risk.get_kind_display().lower()}",
                    target=risk, data={"score": risk.score})
    webhook_emit(workspace_id=product.workspace_id, event="governance.risk.created", payload=risk_payload(risk))
    _appetite_check_on_commit(risk)
    return risk


@transaction.atomic
def risk_update(*, user, risk: Risk, data: dict, version: int | None) -> Risk:
    """Change a register item (the version read is required: 409 when stale). A change of score
    or status is named in the activity log, so the item's history shows how it moved."""
    workspace_id = risk.product.workspace_id
    require_role(user=user, workspace_id=workspace_id, role=Role.EDITOR)
    version_claim(instance=risk, expected_version=version)
    _check_owner(data.get("owner"), workspace_id)
    _check_links(risk.product, data)
    if "title" in data and not (data["title"] or "").strip():
        raise ValidationError({"title": "Give the risk a title."})
    before = {"score": risk.score, "status": risk.status}
    values = {f: data[f] for f in RISK_FIELDS if f in data}
    if values.get("kind", risk.kind) == Risk.Kind.ISSUE:
        values["likelihood"] = 5
    for f in ("likelihood", "impact", "kind", "status", "trend"):
        if f in values and values[f] is None:
            values.pop(f)
    model_update(instance=risk, data=values, fields=RISK_FIELDS)
    risk.refresh_from_db(fields=["score", "likelihood"])
    _set_links(risk, data)
    changes = {k: [before[k], getattr(risk, k)] for k in before if before[k] != getattr(risk, k)}
    verb = "closed" if changes.get("status", [None, None])[1] == Risk.Status.CLOSED else "updated"
    activity_record(workspace_id=workspace_id, actor=user, verb=f"{verb} {risk.get_kind_display().lower()}",
                    target=risk, data=changes)
    webhook_emit(workspace_id=workspace_id, event="governance.risk.updated", payload=risk_payload(risk) | {
        "changes": changes})
    _appetite_check_on_commit(risk)
    return risk


@transaction.atomic
def risk_delete(*, user, risk: Risk) -> None:
    workspace_id = risk.product.workspace_id
    require_role(user=user, workspace_id=workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=workspace_id, actor=user, verb=f"deleted {risk.get_kind_display().lower()}",
                    target=risk)
    risk.delete()


@transaction.atomic
def issue_note_add(*, user, risk: Risk, text: str) -> IssueNote:
    """Append a decision or step to an issue's (or risk's) mediation log, with who and when."""
    workspace_id = risk.product.workspace_id
    require_role(user=user, workspace_id=workspace_id, role=Role.EDITOR)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the decision or step."})
    if len(text) > 2000:
        raise ValidationError({"text": "At most 2,000 characters."})
    note = IssueNote.objects.create(risk=risk, author=user, text=text)
    activity_record(workspace_id=workspace_id, actor=user, verb="recorded a decision on", target=risk,
                    data={"note": note.id})
    webhook_emit(workspace_id=workspace_id, event="governance.issue.note_added",
                 payload={"risk": risk.id, "note": note.id, "text": note.text})
    return note


@transaction.atomic
def appetite_set(*, user, product, appetite: int, version: int | None) -> ProductGovernance:
    """Set the product's risk appetite (admin: it changes what is flagged for everyone). The
    first setting creates the row (no version to send yet); later ones name the version read."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    try:
        appetite = int(appetite)
    except (TypeError, ValueError):
        raise ValidationError({"risk_appetite": "A whole number from 1 to 25."}) from None
    if not 1 <= appetite <= 25:
        raise ValidationError({"risk_appetite": "A whole number from 1 to 25."})
    row, created = ProductGovernance.objects.get_or_create(product=product)
    if not created:
        version_claim(instance=row, expected_version=version)
    old = row.risk_appetite
    model_update(instance=row, data={"risk_appetite": appetite}, fields=["risk_appetite"])
    activity_record(workspace_id=product.workspace_id, actor=user, verb="set the risk appetite of", target=product,
                    data={"from": old, "to": appetite})
    webhook_emit(workspace_id=product.workspace_id, event="governance.appetite.changed",
                 payload={"product": product.id, "risk_appetite": appetite})
    from .tasks import product_appetite_check

    product_appetite_check.delay_on_commit(product.id)
    return row


# --- notifications (called by the worker: tasks.py) ---------------------------------------------------
def _risk_url(risk: Risk) -> str:
    from django.urls import reverse

    return reverse("governance:risk", kwargs={"ws": risk.product.workspace.slug, "product_id": risk.product_id,
                                              "risk_id": risk.id})


@transaction.atomic
def risk_appetite_notify(*, risk_id: int) -> bool:
    """Notify the owner once when an open item is above its product's appetite, and again only
    when its score rises further (`notified_score` remembers the last score notified); dropping
    back within the appetite clears it. Returns whether a notification was sent."""
    from pmhub.models import Notification
    from pmhub.services import notify

    from .selectors import risks_annotated

    risk = (risks_annotated(Risk.objects.select_for_update(of=("self",)).filter(pk=risk_id))
            .select_related("product__workspace", "owner").first())
    if risk is None:
        return False
    if not risk.above:
        if risk.notified_score:
            Risk.objects.filter(pk=risk.pk).update(notified_score=0)
        return False
    if risk.score <= risk.notified_score:
        return False
    Risk.objects.filter(pk=risk.pk).update(notified_score=risk.score)
    if risk.owner_id is None:
        return False
    notify(recipient=risk.owner, kind=Notification.Kind.RISK,
           title=f"{risk.get_kind_display()} “{risk.title}” scores {risk.score}, above the appetite of "
                 f"{risk.appetite} ({risk.product.name})",
           url=_risk_url(risk), workspace_id=risk.product.workspace_id, data={"risk": risk.id, "score": risk.score})
    webhook_emit(workspace_id=risk.product.workspace_id, event="governance.risk.above_appetite",
                 payload=risk_payload(risk) | {"appetite": risk.appetite})
    return True


def risks_review_due(*, today_for) -> list[int]:
    """Ids of open items whose review date has passed (in their workspace's local day, given by
    `today_for(time_zone)`) and whose owner has not been told about that date yet."""
    from django.db.models import F, Q

    rows = (Risk.objects.exclude(status=Risk.Status.CLOSED)
            .filter(review_date__isnull=False, owner__isnull=False, product__deleted_at__isnull=True)
            .filter(Q(review_notified_for__isnull=True) | ~Q(review_notified_for=F("review_date")))
            .values_list("id", "review_date", "product__workspace__time_zone"))
    return [rid for rid, review, tz in rows if review < today_for(tz)]


@transaction.atomic
def risk_review_notify(*, risk_id: int, today) -> bool:
    """Tell the owner that the review date has passed, once per review date (a rerun does nothing)."""
    from pmhub.models import Notification
    from pmhub.services import notify

    risk = (Risk.objects.select_for_update(of=("self",)).select_related("product__workspace", "owner")
            .filter(pk=risk_id).first())
    if (risk is None or risk.status == Risk.Status.CLOSED or risk.owner_id is None or risk.review_date is None
            or risk.review_date >= today or risk.review_notified_for == risk.review_date):
        return False
    Risk.objects.filter(pk=risk.pk).update(review_notified_for=risk.review_date)
    notify(recipient=risk.owner, kind=Notification.Kind.RISK,
           title=f"Review of {risk.get_kind_display().lower()} “{risk.title}” was due "
                 f"{risk.review_date:%-d %b %Y} ({risk.product.name})",
           url=_risk_url(risk), workspace_id=risk.product.workspace_id, data={"risk": risk.id, "review": "due"})
    return True
