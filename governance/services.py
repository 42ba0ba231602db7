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


# --- business impact statements -------------------------------------------------------------------
REVISION_FIELDS = ["benefit", "cost", "processes", "people", "risk", "assumptions"]


def statement_payload(statement) -> dict:
    return {"id": statement.id, "product": statement.product_id, "initiative": statement.initiative_id,
            "change_request": statement.change_request_id, "status": statement.status,
            "revision": statement.revision, "version": statement.version}


def _check_approvers(approvers, workspace_id: int) -> None:
    """Named approvers must be editors or admins of the workspace (the decision is a write)."""
    ids = {u.id for u in approvers or ()}
    if not ids:
        return
    allowed = set(Membership.objects.filter(workspace_id=workspace_id, user_id__in=ids, role__gte=Role.EDITOR)
                  .values_list("user_id", flat=True))
    if ids - allowed:
        raise ValidationError({"approvers": "Approvers must be editors or admins of this workspace."})


def _revision_data(data: dict) -> dict:
    values = {f: data.get(f) for f in REVISION_FIELDS}
    values = {k: ("" if v is None and k != "cost" else v) for k, v in values.items()}
    if not (values.get("benefit") or "").strip():
        raise ValidationError({"benefit": "Say what benefit is expected."})
    if values.get("cost") is not None and values["cost"] < 0:
        raise ValidationError({"cost": "A cost is zero or more."})
    return values


@transaction.atomic
def statement_save(*, user, product, data: dict, initiative=None, change_request=None, statement=None,
                   version: int | None = None):
    """Write a statement's next revision (the first one creates the statement). Every revision is
    kept; a statement that was awaiting approval, approved or rejected goes back to draft, since
    what was decided on is no longer the current text. Approver settings may change with it."""
    from .models import ImpactRevision, ImpactStatement

    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    values = _revision_data(data)
    _check_approvers(data.get("approvers"), product.workspace_id)
    if statement is None:
        subject = initiative or change_request
        if subject is None:
            raise ValidationError({"initiative": "Name the initiative or change request."})
        subject_product = initiative.product_id if initiative else change_request.release.product_id
        if subject_product != product.id:
            raise ValidationError({"initiative": "Choose an initiative or change request of this product."})
        if ImpactStatement.objects.filter(initiative=initiative, change_request=change_request).exists():
            raise ValidationError({"initiative": "It has a statement already: write its next revision."})
        statement = ImpactStatement(product=product, initiative=initiative, change_request=change_request, revision=1)
        if data.get("approver_role") is not None:
            statement.approver_role = data["approver_role"]
        statement.full_clean(exclude=["product", "initiative", "change_request", "approvers", "requested_by"])
        from pmhub.integrity import duplicate_as

        # Two first statements at once: the later one is answered like any second one.
        with duplicate_as({"initiative": "It has a statement already: write its next revision."}):
            statement.save()
        verb = "wrote the business impact statement of"
    else:
        version_claim(instance=statement, expected_version=version)
        statement.revision += 1
        statement.status = ImpactStatement.Status.DRAFT
        if data.get("approver_role") is not None:
            statement.approver_role = data["approver_role"]
        statement.full_clean(exclude=["product", "initiative", "change_request", "approvers", "requested_by"])
        statement.save(update_fields=["revision", "status", "approver_role", "updated_at"])
        verb = "revised the business impact statement of"
    if data.get("approvers") is not None:
        statement.approvers.set(data["approvers"])
    revision = ImpactRevision(statement=statement, number=statement.revision, author=user, **values)
    revision.full_clean(exclude=["statement", "author"])
    revision.save()
    subject = statement.initiative or statement.change_request
    activity_record(workspace_id=product.workspace_id, actor=user, verb=verb, target=subject,
                    data={"statement": statement.id, "revision": statement.revision})
    webhook_emit(workspace_id=product.workspace_id, event="governance.statement.revised",
                 payload=statement_payload(statement))
    return statement


@transaction.atomic
def statement_submit(*, user, statement, version: int | None):
    """Ask for approval of the current revision; the approvers are told by the worker."""
    from .models import ImpactStatement

    workspace_id = statement.product.workspace_id
    require_role(user=user, workspace_id=workspace_id, role=Role.EDITOR)
    # The stored status, checked before the claim: a change of status since the version read bumps
    # the version, so the claim below refuses it (409) rather than acting on a stale check.
    statement.refresh_from_db(fields=["status"])
    if statement.status == ImpactStatement.Status.AWAITING:
        raise ValidationError({"status": "It is awaiting approval already."})
    if statement.status == ImpactStatement.Status.APPROVED:
        raise ValidationError({"status": "This revision is approved already."})
    if statement.status == ImpactStatement.Status.REJECTED:
        raise ValidationError({"status": "This revision was rejected: write a new revision, then submit it."})
    version_claim(instance=statement, expected_version=version)
    statement.status = ImpactStatement.Status.AWAITING
    statement.requested_by = user
    from django.utils import timezone

    statement.submitted_at = timezone.now()
    statement.save(update_fields=["status", "requested_by", "submitted_at", "updated_at"])
    subject = statement.initiative or statement.change_request
    activity_record(workspace_id=workspace_id, actor=user, verb="asked for approval of the impact statement of",
                    target=subject, data={"statement": statement.id, "revision": statement.revision})
    webhook_emit(workspace_id=workspace_id, event="governance.statement.submitted",
                 payload=statement_payload(statement))
    from .tasks import statement_approvers_notify

    statement_approvers_notify.delay_on_commit(statement.id)
    return statement


def statement_can_decide(*, user, statement) -> bool:
    """Named approvers when there are any; otherwise anyone with at least the approver role."""
    from pmhub.access import role_in

    named = list(statement.approvers.values_list("id", flat=True))
    if named:
        return user.id in named and (role_in(user, statement.product.workspace_id) or 0) >= Role.EDITOR
    return (role_in(user, statement.product.workspace_id) or 0) >= statement.approver_role


@transaction.atomic
def statement_decide(*, user, statement, decision: str, comment: str = "", version: int | None = None):
    """An approver approves or rejects the revision awaiting approval, with a comment (required to
    reject). The decision is kept with the revision it was about; the requester is told by the worker."""
    from django.core.exceptions import PermissionDenied

    from .models import ImpactDecision, ImpactStatement

    workspace_id = statement.product.workspace_id
    require_role(user=user, workspace_id=workspace_id, role=Role.EDITOR)
    if not statement_can_decide(user=user, statement=statement):
        raise PermissionDenied("Only the statement's approvers may decide on it.")
    if decision not in ImpactDecision.Decision.values:
        raise ValidationError({"decision": "Approve or reject."})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": "At most 2,000 characters."})
    if decision == ImpactDecision.Decision.REJECTED and not comment:
        raise ValidationError({"comment": "Say why it is rejected."})
    statement.refresh_from_db(fields=["status"])  # checked before the claim, as in statement_submit
    if statement.status != ImpactStatement.Status.AWAITING:
        raise ValidationError({"decision": "Only a statement awaiting approval can be decided."})
    version_claim(instance=statement, expected_version=version)
    record = ImpactDecision.objects.create(statement=statement, revision=statement.revision, approver=user,
                                           decision=decision, comment=comment)
    statement.status = decision
    statement.save(update_fields=["status", "updated_at"])
    subject = statement.initiative or statement.change_request
    activity_record(workspace_id=workspace_id, actor=user,
                    verb=f"{'approved' if decision == 'approved' else 'rejected'} the impact statement of",
                    target=subject, data={"statement": statement.id, "revision": statement.revision,
                                          "comment": comment[:200]})
    webhook_emit(workspace_id=workspace_id, event="governance.statement.decided",
                 payload=statement_payload(statement) | {"decision": decision, "comment": comment})
    from .tasks import statement_decision_notify

    statement_decision_notify.delay_on_commit(record.id)
    return record


@transaction.atomic
def statement_requirement_set(*, user, product, required: bool, version: int | None) -> ProductGovernance:
    """Whether initiatives of the product need an approved statement before they are planned (admin)."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    row, created = ProductGovernance.objects.get_or_create(product=product)
    if not created:
        version_claim(instance=row, expected_version=version)
    model_update(instance=row, data={"require_impact_statement": bool(required)}, fields=["require_impact_statement"])
    activity_record(workspace_id=product.workspace_id, actor=user,
                    verb="required impact statements on" if required else "stopped requiring impact statements on",
                    target=product)
    return row


def _approvers_of(statement) -> list:
    from pmhub.models import User

    named = list(statement.approvers.all())
    if named:
        return named
    return list(User.objects.filter(memberships__workspace_id=statement.product.workspace_id,
                                    memberships__role__gte=statement.approver_role).order_by("id"))


def _statement_url(statement) -> str:
    from django.urls import reverse

    ws = statement.product.workspace.slug
    if statement.initiative_id:
        return reverse("governance:statement", kwargs={"ws": ws, "product_id": statement.product_id,
                                                       "initiative_id": statement.initiative_id})
    return reverse("governance:cr_statement", kwargs={"ws": ws, "product_id": statement.product_id,
                                                      "release_id": statement.change_request.release_id,
                                                      "cr_id": statement.change_request_id})


@transaction.atomic
def statement_approvers_notify_once(*, statement_id: int) -> int:
    """Tell the approvers (not the requester) that a revision awaits them, once per revision."""
    from pmhub.models import Notification
    from pmhub.services import notify

    from .models import ImpactStatement

    statement = (ImpactStatement.objects.select_for_update(of=("self",))
                 .select_related("product__workspace", "initiative", "change_request").filter(pk=statement_id).first())
    if (statement is None or statement.status != ImpactStatement.Status.AWAITING
            or statement.notified_revision >= statement.revision):
        return 0
    ImpactStatement.objects.filter(pk=statement.pk).update(notified_revision=statement.revision)
    subject = statement.initiative or statement.change_request
    sent = 0
    for approver in _approvers_of(statement):
        if approver.id == statement.requested_by_id:
            continue
        notify(recipient=approver, kind=Notification.Kind.APPROVAL,
               title=f"Approve the business impact statement of “{subject}” ({statement.product.name})",
               url=_statement_url(statement), workspace_id=statement.product.workspace_id,
               data={"statement": statement.id, "revision": statement.revision})
        sent += 1
    return sent


@transaction.atomic
def statement_requester_notify_once(*, decision_id: int) -> bool:
    """Tell the requester what was decided, once per decision."""
    from pmhub.models import Notification
    from pmhub.services import notify

    from .models import ImpactDecision

    record = (ImpactDecision.objects.select_for_update(of=("self",))
              .select_related("statement__product__workspace", "statement__initiative", "statement__change_request",
                              "statement__requested_by", "approver").filter(pk=decision_id).first())
    if record is None or record.requester_notified:
        return False
    ImpactDecision.objects.filter(pk=record.pk).update(requester_notified=True)
    statement = record.statement
    if statement.requested_by_id is None:
        return False
    subject = statement.initiative or statement.change_request
    notify(recipient=statement.requested_by, kind=Notification.Kind.APPROVAL,
           title=f"{record.approver or 'An approver'} {record.get_decision_display().lower()} the impact statement "
                 f"of “{subject}”" + (f": {record.comment}" if record.comment else ""),
           url=_statement_url(statement), workspace_id=statement.product.workspace_id,
           data={"statement": statement.id, "decision": record.decision})
    return True


# --- launch readiness ----------------------------------------------------------------------------------
LAUNCH_FIELDS = ["category", "title", "required", "owner", "due_date", "position"]


def _release_ws(release) -> int:
    return release.product.workspace_id


@transaction.atomic
def template_create(*, user, workspace, name: str, items: list[dict]):
    """A workspace's launch checklist template (admin): items of {category, title, required, days_before}."""
    from pmhub.integrity import duplicate_as

    from .models import ChecklistTemplate, ChecklistTemplateItem

    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the template."})
    if not items:
        raise ValidationError({"items": "A template needs at least one item."})
    if len(items) > 100:
        raise ValidationError({"items": "At most 100 items."})
    template = ChecklistTemplate(workspace=workspace, name=name[:120])
    template.full_clean(exclude=["workspace"], validate_unique=False)
    with duplicate_as({"name": "A template of this name exists."}):
        template.save()
    rows = []
    for position, item in enumerate(items):
        row = ChecklistTemplateItem(template=template, position=position, title=(item.get("title") or "").strip(),
                                    category=item.get("category") or "other", required=bool(item.get("required", True)),
                                    days_before=item.get("days_before", 7))
        try:
            row.full_clean(exclude=["template"])
        except ValidationError as e:
            raise ValidationError({"items": f"Item {position + 1}: " + " ".join(e.messages)}) from None
        rows.append(row)
    ChecklistTemplateItem.objects.bulk_create(rows)
    activity_record(workspace_id=workspace.id, actor=user, verb="created launch checklist template", target=template)
    return template


@transaction.atomic
def template_delete(*, user, template) -> None:
    require_role(user=user, workspace_id=template.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=template.workspace_id, actor=user, verb="deleted launch checklist template",
                    target=template)
    template.delete()


@transaction.atomic
def checklist_apply_template(*, user, release, template) -> int:
    """Copy a template's items into the release's checklist, due `days_before` its date; an item
    of the same title already there is kept (applying twice adds nothing)."""
    from datetime import timedelta

    from .models import LaunchItem

    require_role(user=user, workspace_id=_release_ws(release), role=Role.EDITOR)
    if template.workspace_id != _release_ws(release):
        raise ValidationError({"template": "Choose a template of this workspace."})
    have = set(LaunchItem.objects.filter(release=release).values_list("title", flat=True))
    start = LaunchItem.objects.filter(release=release).count()
    rows = [LaunchItem(release=release, category=t.category, title=t.title, required=t.required,
                       position=start + i,
                       due_date=release.release_date - timedelta(days=t.days_before) if release.release_date else None)
            for i, t in enumerate(template.items.all()) if t.title not in have]
    LaunchItem.objects.bulk_create(rows)
    activity_record(workspace_id=_release_ws(release), actor=user, verb="applied a launch checklist to",
                    target=release, data={"template": template.name, "items": len(rows)})
    webhook_emit(workspace_id=_release_ws(release), event="governance.launch.changed",
                 payload={"release": release.id, "added": len(rows)})
    return len(rows)


@transaction.atomic
def launch_item_create(*, user, release, data: dict):
    from .models import LaunchItem

    require_role(user=user, workspace_id=_release_ws(release), role=Role.EDITOR)
    _check_owner(data.get("owner"), _release_ws(release))
    fields = {f: data[f] for f in LAUNCH_FIELDS if f in data and data[f] is not None}
    if not (fields.get("title") or "").strip():
        raise ValidationError({"title": "Say what must be ready."})
    item = LaunchItem(release=release, **fields)
    item.full_clean(exclude=["release", "owner", "done_by"])
    item.save()
    activity_record(workspace_id=_release_ws(release), actor=user, verb="added launch item", target=item,
                    data={"release": release.id})
    webhook_emit(workspace_id=_release_ws(release), event="governance.launch.changed",
                 payload={"release": release.id, "item": item.id, "action": "added"})
    return item


@transaction.atomic
def launch_item_update(*, user, item, data: dict, version: int | None):
    """Change an item; `done` true/false ticks it (who and when are kept) or opens it again."""
    from django.utils import timezone

    ws = _release_ws(item.release)
    require_role(user=user, workspace_id=ws, role=Role.EDITOR)
    version_claim(instance=item, expected_version=version)
    _check_owner(data.get("owner"), ws)
    if "title" in data and not (data["title"] or "").strip():
        raise ValidationError({"title": "Say what must be ready."})
    model_update(instance=item, data=data, fields=LAUNCH_FIELDS)
    verb = "updated launch item"
    if "done" in data and bool(data["done"]) != item.done:
        item.done_at, item.done_by = (timezone.now(), user) if data["done"] else (None, None)
        item.save(update_fields=["done_at", "done_by", "updated_at"])
        verb = "ticked launch item" if data["done"] else "reopened launch item"
    activity_record(workspace_id=ws, actor=user, verb=verb, target=item, data={"release": item.release_id})
    webhook_emit(workspace_id=ws, event="governance.launch.changed",
                 payload={"release": item.release_id, "item": item.id, "done": item.done})
    return item


@transaction.atomic
def launch_item_delete(*, user, item) -> None:
    ws = _release_ws(item.release)
    require_role(user=user, workspace_id=ws, role=Role.EDITOR)
    activity_record(workspace_id=ws, actor=user, verb="removed launch item", target=item,
                    data={"release": item.release_id})
    item.delete()


def ship_override_record(*, release, actor, reason: str, open_items: list[str]):
    """Called by the ship guard inside the ship's transaction: the override, its activity and webhook."""
    from .models import ShipOverride

    override = ShipOverride.objects.create(release=release, actor=actor, reason=reason[:500],
                                           open_items=open_items[:100])
    activity_record(workspace_id=_release_ws(release), actor=actor, verb="shipped with open launch items",
                    target=release, data={"reason": reason[:200], "open": len(open_items)})
    webhook_emit(workspace_id=_release_ws(release), event="governance.launch.override",
                 payload={"release": release.id, "reason": reason[:500], "open_items": open_items[:100]})
    return override


# --- portfolio -----------------------------------------------------------------------------------------
ENTRY_FIELDS = ["value", "time_criticality", "risk_reduction", "cost"]


@transaction.atomic
def portfolio_settings_set(*, user, workspace, data: dict, version: int | None):
    """The portfolio's scoring model and weights (admin); the first setting creates the row."""
    from .models import PortfolioSettings

    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    row, created = PortfolioSettings.objects.get_or_create(workspace=workspace)
    if not created:
        version_claim(instance=row, expected_version=version)
    model_update(instance=row, data=data, fields=["model", "weight_value", "weight_fit", "weight_risk"])
    activity_record(workspace_id=workspace.id, actor=user, verb="chose the portfolio's scoring model",
                    data={"model": row.model})
    return row


@transaction.atomic
def portfolio_capacity_set(*, user, workspace, quarter: str, capacity):
    """Capacity (person-weeks) of one quarter (admin); None removes it."""
    from .models import PortfolioCapacity

    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    if capacity is None:
        PortfolioCapacity.objects.filter(workspace=workspace, quarter=quarter).delete()
        return None
    row = PortfolioCapacity(workspace=workspace, quarter=quarter, capacity=capacity)
    row.full_clean(exclude=["workspace"], validate_unique=False, validate_constraints=False)
    row, _ = PortfolioCapacity.objects.update_or_create(workspace=workspace, quarter=quarter,
                                                        defaults={"capacity": capacity})
    activity_record(workspace_id=workspace.id, actor=user, verb="set portfolio capacity",
                    data={"quarter": quarter, "capacity": str(capacity)})
    return row


def _entry_for(initiative):
    from .models import PortfolioEntry

    entry, _ = PortfolioEntry.objects.get_or_create(initiative=initiative)
    return entry


@transaction.atomic
def portfolio_entry_save(*, user, initiative, data: dict, version: int | None):
    """An initiative's portfolio inputs (editor). The first save creates the entry (no version yet)."""
    from .models import PortfolioEntry

    require_role(user=user, workspace_id=initiative.product.workspace_id, role=Role.EDITOR)
    entry = PortfolioEntry.objects.filter(initiative=initiative).first()
    if entry is None:
        entry = PortfolioEntry(initiative=initiative)
        for f in ENTRY_FIELDS:
            if data.get(f) is not None:
                setattr(entry, f, data[f])
        entry.full_clean(exclude=["initiative", "decided_by"])
        from pmhub.integrity import duplicate_as

        # Two first saves at once: the later one is answered like any create of an existing entry.
        with duplicate_as({"initiative": "It has inputs already: update them."}):
            entry.save()
    else:
        version_claim(instance=entry, expected_version=version)
        model_update(instance=entry, data={k: v for k, v in data.items() if v is not None}, fields=ENTRY_FIELDS)
    activity_record(workspace_id=initiative.product.workspace_id, actor=user, verb="scored for the portfolio",
                    target=initiative, data={f: str(getattr(entry, f)) for f in ENTRY_FIELDS})
    return entry


@transaction.atomic
def portfolio_decide(*, user, initiative, decision: str, reason: str, version: int | None):
    """The governance group's decision on an initiative (admin): fund, defer or stop, with a
    reason; kept on the entry (who, when) and in the activity log of the initiative."""
    from django.utils import timezone

    from .models import PortfolioEntry

    require_role(user=user, workspace_id=initiative.product.workspace_id, role=Role.ADMIN)
    if decision not in PortfolioEntry.Decision.values:
        raise ValidationError({"decision": "Fund, defer or stop."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the decision."})
    if len(reason) > 500:
        raise ValidationError({"reason": "At most 500 characters."})
    entry = PortfolioEntry.objects.filter(initiative=initiative).first()
    if entry is None:
        entry = PortfolioEntry.objects.create(initiative=initiative)
    else:
        version_claim(instance=entry, expected_version=version)
    entry.decision, entry.reason, entry.decided_by, entry.decided_at = decision, reason, user, timezone.now()
    entry.save(update_fields=["decision", "reason", "decided_by", "decided_at", "updated_at"])
    ws = initiative.product.workspace_id
    verb = {"fund": "funded", "defer": "deferred", "stop": "stopped"}[decision]
    activity_record(workspace_id=ws, actor=user, verb=f"{verb} (portfolio)", target=initiative,
                    data={"decision": decision, "reason": reason[:200]})
    webhook_emit(workspace_id=ws, event="governance.portfolio.decided",
                 payload={"initiative": initiative.id, "decision": decision, "reason": reason})
    return entry


# --- product lifecycle ------------------------------------------------------------------------------------
@transaction.atomic
def stage_set(*, user, product, stage: str, reason: str = "", version: int | None = None, proposal=None):
    """Move a product to a lifecycle stage (admin), with the history row, activity and webhook.
    Retired keeps the product readable; its reports and event ingestion stop."""
    from .lifecycle import STAGES
    from .models import StageChange

    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    if stage not in STAGES:
        raise ValidationError({"stage": "Choose a lifecycle stage."})
    row, created = ProductGovernance.objects.get_or_create(product=product)
    if not created and version is not None:
        version_claim(instance=row, expected_version=version)
    old = row.stage
    if old == stage:
        return row
    model_update(instance=row, data={"stage": stage}, fields=["stage"])
    StageChange.objects.create(product=product, from_stage=old, to_stage=stage, actor=user, reason=(reason or "")[:500])
    activity_record(workspace_id=product.workspace_id, actor=user, verb=f"moved to the {stage} stage", target=product,
                    data={"from": old, "to": stage, "proposal": proposal.id if proposal else None})
    webhook_emit(workspace_id=product.workspace_id, event="governance.lifecycle.changed",
                 payload={"product": product.id, "from": old, "to": stage})
    return row


@transaction.atomic
def stage_set_claiming_product(*, user, product, stage: str, reason: str = "", version: int | None):
    """stage_set for the API's product-lifecycle resource, whose version is the product's: the role
    is checked, the product's version claimed (missing or stale: 409), then the stage set."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    version_claim(instance=product, expected_version=version)
    return stage_set(user=user, product=product, stage=stage, reason=reason)


MOVED = {"decline": "fell", "growth": "rose", "maturity": "stayed flat"}


@transaction.atomic
def lifecycle_evaluate(*, product_id: int, today) -> object | None:
    """The worker's check of one product: propose decline, growth or maturity when the evidence
    says so (governance.lifecycle.propose_stage; one open proposal at most; a rerun adds nothing).
    Returns the new proposal or None."""
    from django.db import IntegrityError

    from pmhub.models import Notification, User
    from pmhub.services import notify
    from roadmaps.models import Product

    from .lifecycle import propose_stage
    from .models import StageProposal
    from .selectors import lifecycle_signals

    product = Product.objects.alive().select_related("workspace").filter(pk=product_id).first()
    if product is None:
        return None
    row = ProductGovernance.objects.filter(product=product).first() or ProductGovernance(product=product)
    if StageProposal.objects.filter(product=product, status=StageProposal.Status.OPEN).exists():
        return None
    signals = lifecycle_signals(product=product, periods=row.decline_periods, today=today)
    to_stage = propose_stage(row.stage, {k: v["trend"] for k, v in signals.items()})
    if to_stage is None:
        return None
    try:
        with transaction.atomic():
            proposal = StageProposal.objects.create(product=product, to_stage=to_stage, evidence=signals)
    except IntegrityError:
        return None
    for admin in User.objects.filter(memberships__workspace=product.workspace, memberships__role=Role.ADMIN):
        from django.urls import reverse

        notify(recipient=admin, kind=Notification.Kind.OTHER,
               title=f"PMHub proposes the {to_stage} stage for {product.name}: adoption and KPIs "
                     f"{MOVED[to_stage]} {row.decline_periods} months in a row",
               url=reverse("governance:lifecycle", kwargs={"ws": product.workspace.slug, "product_id": product.id}),
               workspace_id=product.workspace_id, data={"proposal": proposal.id})
    webhook_emit(workspace_id=product.workspace_id, event="governance.lifecycle.proposed",
                 payload={"product": product.id, "to": to_stage, "proposal": proposal.id})
    return proposal


@transaction.atomic
def proposal_decide(*, user, proposal, accept: bool):
    """Accept (the product moves to the proposed stage) or dismiss a stage proposal (admin)."""
    from django.utils import timezone

    from .models import StageProposal

    product = proposal.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    locked = StageProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != StageProposal.Status.OPEN:
        raise ValidationError({"status": "This proposal was decided already."})
    locked.status = StageProposal.Status.ACCEPTED if accept else StageProposal.Status.DISMISSED
    locked.decided_by, locked.decided_at = user, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    if accept:
        stage_set(user=user, product=product, stage=locked.to_stage, reason="Accepted PMHub's proposal from the "
                  "evidence.", proposal=locked)
    else:
        activity_record(workspace_id=product.workspace_id, actor=user, verb="dismissed the lifecycle proposal for",
                        target=product, data={"proposal": locked.id})
    return locked
