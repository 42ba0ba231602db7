"""Writes of the delivery app. Every write checks the actor's role, runs in a transaction,
records activity and (for release scope) emits a webhook."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from backlog import selectors as backlog_selectors
from backlog import services as backlog_services
from backlog.models import Epic, Story
from backlog.progress import EMPTY
from pmhub.access import require_role
from pmhub.models import Membership, Role
from pmhub.services import activity_record, job_create, job_finish, job_progress, notify
from pmhub.textfiles import FileRefused
from pmhub.utils import model_update, version_claim
from pmhub.webhooks import webhook_emit

from . import burn, importer, selectors
from .models import (
    ChangeRequest,
    ImportJob,
    Iteration,
    IterationItem,
    ReleaseScopeItem,
    ScopeApproval,
    StoryImportRef,
)


def _ws(product) -> int:
    return product.workspace_id


# --- iterations ------------------------------------------------------------------------------
def _validate_iteration(data: dict) -> None:
    errors = {}
    if not (data.get("name") or "").strip():
        errors["name"] = "Name the iteration."
    start, end = data.get("start_date"), data.get("end_date")
    if start is None:
        errors["start_date"] = "A start date is needed."
    if end is None:
        errors["end_date"] = "An end date is needed."
    if start and end and end < start:
        errors["end_date"] = "The end date is before the start date."
    capacity = data.get("capacity_points", 0)
    if capacity is None or capacity < 0:
        errors["capacity_points"] = "Capacity is a number of points, 0 or more."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def iteration_create(*, actor, product, name: str, start_date, end_date, capacity_points: int = 0,
                     goal: str = "") -> Iteration:
    require_role(user=actor, workspace_id=_ws(product), role=Role.EDITOR)
    _validate_iteration({"name": name, "start_date": start_date, "end_date": end_date,
                         "capacity_points": capacity_points})
    iteration = Iteration.objects.create(product=product, name=name.strip(), start_date=start_date,
                                         end_date=end_date, capacity_points=capacity_points, goal=goal or "")
    activity_record(workspace_id=_ws(product), actor=actor, verb="created iteration", target=iteration)
    return iteration


def _iteration_emit(iteration: Iteration, action: str, story_id: int | None = None) -> None:
    webhook_emit(workspace_id=_ws(iteration.product), event="iteration.changed", payload={
        "action": action, "id": iteration.id, "product_id": iteration.product_id, "story_id": story_id,
        "version": iteration.version})


@transaction.atomic
def iteration_update(*, actor, iteration: Iteration, data: dict, version: int | None = None) -> Iteration:
    require_role(user=actor, workspace_id=_ws(iteration.product), role=Role.EDITOR)
    version_claim(instance=iteration, expected_version=version)
    fields = ["name", "goal", "start_date", "end_date", "capacity_points"]
    merged = {f: data.get(f, getattr(iteration, f)) for f in fields}
    _validate_iteration(merged)
    if model_update(instance=iteration, data=merged, fields=fields):
        activity_record(workspace_id=_ws(iteration.product), actor=actor, verb="updated iteration", target=iteration)
        _iteration_emit(iteration, "updated")
    return iteration


@transaction.atomic
def iteration_delete(*, actor, iteration: Iteration) -> None:
    require_role(user=actor, workspace_id=_ws(iteration.product), role=Role.EDITOR)
    activity_record(workspace_id=_ws(iteration.product), actor=actor, verb="deleted iteration", target=iteration)
    iteration.delete()


def _story_of_product(*, product, story_id) -> Story:
    story = Story.objects.select_for_update().filter(product=product, pk=story_id).first()
    if story is None:
        raise ValidationError({"story": "No such story in this product."})
    return story


@transaction.atomic
def iteration_add_story(*, actor, iteration: Iteration, story_id: int) -> IterationItem:
    """Put a story in the iteration. A story is in one iteration at a time: its open stay
    elsewhere is closed (moved), and re-adding it where it already is changes nothing."""
    require_role(user=actor, workspace_id=_ws(iteration.product), role=Role.EDITOR)
    story = _story_of_product(product=iteration.product, story_id=story_id)
    current = IterationItem.objects.filter(story=story, removed_at__isnull=True).first()
    if current is not None and current.iteration_id == iteration.id:
        return current
    now = timezone.now()
    if current is not None:
        current.removed_at = now
        current.save(update_fields=["removed_at"])
    try:
        with transaction.atomic():
            item = IterationItem.objects.create(iteration=iteration, story=story, added_at=now, added_by=actor)
    except IntegrityError:
        raise ValidationError({"story": "This story was just planned elsewhere; reload and try again."})
    activity_record(workspace_id=_ws(iteration.product), actor=actor, verb="planned story", target=story,
                    data={"iteration": iteration.name, "iteration_id": iteration.id})
    _iteration_emit(iteration, "planned", story.id)
    return item


@transaction.atomic
def iteration_remove_story(*, actor, iteration: Iteration, story_id: int) -> None:
    require_role(user=actor, workspace_id=_ws(iteration.product), role=Role.EDITOR)
    story = _story_of_product(product=iteration.product, story_id=story_id)
    updated = IterationItem.objects.filter(iteration=iteration, story=story, removed_at__isnull=True).update(
        removed_at=timezone.now())
    if not updated:
        raise ValidationError({"story": "This story is not in the iteration."})
    activity_record(workspace_id=_ws(iteration.product), actor=actor, verb="unplanned story", target=story,
                    data={"iteration": iteration.name, "iteration_id": iteration.id})
    _iteration_emit(iteration, "unplanned", story.id)


def iteration_capacity(*, iteration: Iteration) -> dict:
    """Committed points (selectors._with_points' definition) against the capacity."""
    committed = getattr(iteration, "committed_points", None)
    if committed is None:
        committed = selectors.iterations_of_product(product=iteration.product).get(pk=iteration.pk).committed_points
    return burn.capacity_state(committed=committed, capacity=iteration.capacity_points)


# --- release scope -----------------------------------------------------------------------------
def _release_ws(release) -> int:
    return release.product.workspace_id


def _is_approved(release) -> bool:
    return release.scope_approvals.exists()


def _emit_scope_changed(*, release, actor, change: dict) -> None:
    total = selectors.release_progress(release_ids=[release.id]).get(release.id, EMPTY).total_points
    webhook_emit(workspace_id=_release_ws(release), event="release.scope_changed",
                 payload={"release_id": release.id, "product_id": release.product_id, "change": change,
                          "total_points": total, "actor_id": getattr(actor, "id", None)})


def _scope_add(*, release, story, actor) -> ReleaseScopeItem:
    item, created = ReleaseScopeItem.objects.get_or_create(release=release, story=story,
                                                           defaults={"added_by": actor})
    if not created:
        raise ValidationError({"story": "This story is already in the release scope."})
    return item


def _scope_remove(*, release, story) -> None:
    deleted, _ = ReleaseScopeItem.objects.filter(release=release, story=story).delete()
    if not deleted:
        raise ValidationError({"story": "This story is not in the release scope."})


@transaction.atomic
def scope_change(*, actor, release, story_id: int, kind: str, reason: str = ""):
    """Add a story to, or remove one from, a release's scope.

    Before the scope is approved, an editor changes it directly (returns the story). After
    approval the change becomes a pending ChangeRequest with its point and date impact, the
    admins are notified, and the scope stays as it is until an admin approves it."""
    require_role(user=actor, workspace_id=_release_ws(release), role=Role.EDITOR)
    if kind not in ChangeRequest.Kind.values:
        raise ValidationError({"kind": "Choose add or remove."})
    story = _story_of_product(product=release.product, story_id=story_id)
    via = selectors.release_scope_story_ids(release=release).get(story.id)
    if via == "epic":
        # Its epic puts it in the release: the epic (release page) is where to change that.
        raise ValidationError({"story": "This story is in the release through its epic; move the epic instead."})
    in_scope = via == "direct"
    if kind == ChangeRequest.Kind.ADD and in_scope:
        raise ValidationError({"story": "This story is already in the release scope."})
    if kind == ChangeRequest.Kind.REMOVE and not in_scope:
        raise ValidationError({"story": "This story is not in the release scope."})
    if not _is_approved(release):
        if kind == ChangeRequest.Kind.ADD:
            _scope_add(release=release, story=story, actor=actor)
        else:
            _scope_remove(release=release, story=story)
        activity_record(workspace_id=_release_ws(release), actor=actor,
                        verb="added story to release" if kind == "add" else "removed story from release",
                        target=story, data={"release_id": release.id, "release": release.name})
        _emit_scope_changed(release=release, actor=actor, change={"kind": kind, "story_id": story.id})
        return story
    return change_request_create(actor=actor, release=release, story=story, kind=kind, reason=reason)


def change_request_create(*, actor, release, story, kind: str, reason: str) -> ChangeRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the approved scope should change."})
    if ChangeRequest.objects.filter(release=release, story=story, kind=kind, status="pending").exists():
        raise ValidationError({"story": "A change request for this story is already pending."})
    sign = 1 if kind == ChangeRequest.Kind.ADD else -1
    points_delta = sign * (story.points or 0)
    velocity = selectors.velocity_summary(product=release.product)
    cr = ChangeRequest.objects.create(
        release=release, story=story, kind=kind, reason=reason, points_delta=points_delta,
        velocity=velocity["average"], iteration_days=velocity["iteration_days"],
        date_impact_days=burn.date_impact_days(points_delta=points_delta, velocity=velocity["average"],
                                               iteration_days=velocity["iteration_days"]),
        proposed_by=actor)
    activity_record(workspace_id=_release_ws(release), actor=actor, verb="proposed scope change", target=cr,
                    data={"release_id": release.id, "kind": kind, "story_id": story.id, "points_delta": points_delta})
    url = reverse("delivery:release_scope", kwargs={"ws": release.product.workspace.slug,
                                                    "product_id": release.product_id, "release_id": release.id})
    admins = Membership.objects.filter(workspace_id=_release_ws(release), role=Role.ADMIN).select_related("user")
    for membership in admins:
        notify(recipient=membership.user, kind="change_request", workspace_id=_release_ws(release), url=url,
               title=f"Change request for {release.name}: {cr.get_kind_display().lower()} “{story.title}”",
               data={"change_request_id": cr.id, "release_id": release.id})
    return cr


@transaction.atomic
def change_request_decide(*, actor, change_request: ChangeRequest, approve: bool, note: str = "") -> ChangeRequest:
    """Admins only. Approve applies the change to the scope; reject leaves the scope as it is.
    Either way the request stays, with who decided and when (the history)."""
    release = change_request.release
    require_role(user=actor, workspace_id=_release_ws(release), role=Role.ADMIN)
    cr = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if cr.status != ChangeRequest.Status.PENDING:
        raise ValidationError({"status": f"This change request was already {cr.status}."})
    if approve:
        if cr.kind == ChangeRequest.Kind.ADD:
            _scope_add(release=release, story=cr.story, actor=actor)
        else:
            _scope_remove(release=release, story=cr.story)
    cr.status = ChangeRequest.Status.APPROVED if approve else ChangeRequest.Status.REJECTED
    cr.decided_by, cr.decided_at, cr.decision_note = actor, timezone.now(), (note or "")[:300]
    cr.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    activity_record(workspace_id=_release_ws(release), actor=actor,
                    verb="approved scope change" if approve else "rejected scope change", target=cr,
                    data={"release_id": release.id, "story_id": cr.story_id, "kind": cr.kind})
    if approve:
        _emit_scope_changed(release=release, actor=actor,
                            change={"kind": cr.kind, "story_id": cr.story_id, "change_request_id": cr.id})
    change_request.__dict__.update(cr.__dict__)
    return cr


@transaction.atomic
def scope_approve(*, actor, release, note: str = "") -> ScopeApproval:
    """Admins only: snapshot the current scope as the approved baseline."""
    require_role(user=actor, workspace_id=_release_ws(release), role=Role.ADMIN)
    ids = sorted(selectors.release_scope_story_ids(release=release))
    total = selectors.release_progress(release_ids=[release.id]).get(release.id, EMPTY).total_points
    approval = ScopeApproval.objects.create(release=release, story_ids=ids, total_points=total, approved_by=actor,
                                            note=(note or "")[:300])
    activity_record(workspace_id=_release_ws(release), actor=actor, verb="approved release scope", target=release,
                    data={"stories": len(ids), "points": total})
    return approval


# --- import ------------------------------------------------------------------------------------
MAX_IMPORT_BYTES = 20 * 1024 * 1024
BATCH_SIZE = 500


def _members_lookup(workspace_id: int) -> dict:
    lookup = {}
    for user_id, email, name in Membership.objects.filter(workspace_id=workspace_id).values_list(
            "user_id", "user__email", "user__name"):
        lookup[email.lower()] = user_id
        if name:
            lookup.setdefault(name.lower(), user_id)
    return lookup


def _statuses(product) -> dict[str, str]:
    """{status key: category} of the product's workflow, in order."""
    return {s["key"]: s["category"] for s in backlog_selectors.settings_of(product).workflow}


@transaction.atomic
def import_upload(*, actor, product, filename: str, data: bytes) -> ImportJob:
    """Store an uploaded CSV as a `parsing` job and queue its parse (import_parse) on commit.

    Only the cheap checks run here (role, empty, size): decoding and parsing a 19 MB file takes
    longer than a web worker may hold a request, so the worker does it (docs/decisions/1213).
    Nothing is written to the backlog."""
    require_role(user=actor, workspace_id=_ws(product), role=Role.EDITOR)
    if not data:
        raise ValidationError({"file": "The file is empty."})
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError({"file": "The file is larger than 20 MB."})
    job = ImportJob.objects.create(product=product, created_by=actor, filename=(filename or "")[:255],
                                   raw=data, status=ImportJob.Status.PARSING)
    activity_record(workspace_id=_ws(product), actor=actor, verb="uploaded import", target=job,
                    data={"bytes": len(data)})
    from .tasks import import_parse

    import_parse.delay_on_commit(job.id)
    return job


def import_parse(*, import_job_id: int) -> str:
    """Worker side of the upload: decode and parse the stored file into staged rows with the
    detected mapping (status `uploaded`), or fail the job with the reason people can act on
    (pmhub.textfiles: UTF-16 without a mark, NUL bytes, binary files, fields over 128 KB).

    Idempotent: the row is locked and only a `parsing` job is parsed, so a retry or a second
    message does nothing; the raw file is dropped once parsed (the rows are what later steps read)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=import_job_id).first()
        if job is None or job.status != ImportJob.Status.PARSING:
            return "skipped"
        error = ""
        try:
            text, encoding = importer.decode(bytes(job.raw))
            headers, rows = importer.parse(text)
        except FileRefused as exc:
            error = str(exc)
        else:
            if not headers or not rows:
                error = "No header row and data rows were found in this CSV."
        if error:
            job.status, job.error, job.raw, job.finished_at = ImportJob.Status.FAILED, error[:500], b"", timezone.now()
            job.save(update_fields=["status", "error", "raw", "finished_at"])
            return "failed"
        job.encoding, job.headers, job.rows = encoding, headers, rows
        job.mapping = importer.default_mapping(headers)
        job.status, job.raw = ImportJob.Status.UPLOADED, b""
        job.save(update_fields=["encoding", "headers", "rows", "mapping", "status", "raw"])
    return "parsed"


def import_parse_give_up(*, import_job_id: int) -> None:
    """The parse task failed for a reason other than the file (retries spent, a crash)."""
    ImportJob.objects.filter(pk=import_job_id, status=ImportJob.Status.PARSING).update(
        status=ImportJob.Status.FAILED, raw=b"", finished_at=timezone.now(),
        error="The file could not be read because of an error on our side. Upload it again.")


def _not_ready(job: ImportJob) -> str:
    if job.status == ImportJob.Status.PARSING:
        return "The file is still being read; try again in a moment."
    if job.status == ImportJob.Status.FAILED and job.error:
        return f"This file could not be read: {job.error}"
    return "This import was already confirmed."


def _normalise(job: ImportJob, mapping: dict, status_map: dict) -> dict:
    existing = set(StoryImportRef.objects.filter(product=job.product).exclude(key="")
                   .exclude(import_job=job).values_list("key", flat=True))
    return importer.normalise(headers=job.headers, rows=job.rows, mapping=mapping,
                              members=_members_lookup(job.product.workspace_id), statuses=_statuses(job.product),
                              status_map=status_map, existing_keys=existing)


@transaction.atomic
def import_preview(*, actor, job: ImportJob, mapping: dict | None = None, status_map: dict | None = None) -> dict:
    """Validate every row with the mapping; store the outcome. Still nothing is imported."""
    require_role(user=actor, workspace_id=_ws(job.product), role=Role.EDITOR)
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.PREVIEWED):
        raise ValidationError({"status": _not_ready(job)})
    mapping = importer.clean_mapping(mapping if mapping is not None else job.mapping, len(job.headers))
    if "title" not in mapping:
        raise ValidationError({"mapping": "Map a column to the story title (Summary)."})
    result = _normalise(job, mapping, status_map or {})
    job.mapping = dict(mapping, _status_map=status_map or {})
    job.preview = {
        "total_rows": len(job.rows),
        "valid_rows": len(result["stories"]),
        "epics": len(result["epics"]),
        "error_rows": len(result["errors"]),
        "errors": result["errors"][:500],
        "unknown_statuses": result["unknown_statuses"],
        "sample": result["stories"][:20],
    }
    job.status = ImportJob.Status.PREVIEWED
    job.save(update_fields=["mapping", "preview", "status"])
    return job.preview


@transaction.atomic
def import_confirm(*, actor, job: ImportJob) -> ImportJob:
    """Queue the import of the previewed rows (rows with errors are skipped, as the preview said)."""
    require_role(user=actor, workspace_id=_ws(job.product), role=Role.EDITOR)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.PREVIEWED:
        raise ValidationError({"status": "Preview the import before confirming it."
                               if job.status == ImportJob.Status.UPLOADED else _not_ready(job)})
    if not job.preview.get("valid_rows"):
        raise ValidationError({"status": "No valid rows to import."})
    background = job_create(workspace_id=_ws(job.product), kind="import", user=actor,
                            total=job.preview.get("valid_rows", 0), params={"import_job_id": job.id})
    job.status, job.job = ImportJob.Status.QUEUED, background
    job.save(update_fields=["status", "job"])
    activity_record(workspace_id=_ws(job.product), actor=actor, verb="confirmed import", target=job,
                    data={"rows": job.preview.get("valid_rows", 0)})
    from .tasks import import_run

    import_run.delay_on_commit(job.id)
    return job


def _epic_ids(*, product, result: dict) -> dict:
    """{epic reference in the file: epic id}. A reference is an epic row's issue key, or an
    existing epic's title; anything else becomes a new epic with that title."""
    by_title = {t.lower(): i for i, t in Epic.objects.filter(product=product).values_list("id", "title")}
    wanted = {s["epic"] for s in result["stories"] if s["epic"]}
    ids = {}
    for ref in sorted(wanted):
        title = result["epics"].get(ref, ref)[:200]
        epic_id = by_title.get(title.lower())
        if epic_id is None:
            epic_id = Epic.objects.create(product=product, title=title).id
            by_title[title.lower()] = epic_id
        ids[ref] = epic_id
    return ids


def import_run(*, import_job_id: int) -> dict:
    """Worker side: create the stories in batches of BATCH_SIZE (one INSERT per batch for the
    stories and one for their refs), reporting progress. Idempotent: rows already imported by
    this job (a retry after a crash) are skipped; a finished job is not run again."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("product", "created_by").filter(
            pk=import_job_id).first()
        if job is None or job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
            return {"skipped": True}
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status"])
    product, actor = job.product, job.created_by
    mapping = {k: v for k, v in job.mapping.items() if not k.startswith("_")}
    result = _normalise(job, mapping, job.mapping.get("_status_map") or {})
    done_rows = set(StoryImportRef.objects.filter(import_job=job).values_list("row_number", flat=True))
    todo = [s for s in result["stories"] if s["row"] not in done_rows]
    total = len(result["stories"])
    try:
        with transaction.atomic():
            epic_ids = _epic_ids(product=product, result=result)
        created = len(done_rows)
        for start in range(0, len(todo), BATCH_SIZE):
            batch = todo[start:start + BATCH_SIZE]
            with transaction.atomic():
                stories = backlog_services.stories_bulk_create(actor=actor, product=product, stories=[{
                    "title": s["title"], "description": s["description"], "status": s["status"],
                    "points": s["points"], "epic_id": epic_ids.get(s["epic"]), "assignee_id": s["assignee_id"],
                    "labels": s["labels"], "acceptance_criteria": [],
                } for s in batch])
                StoryImportRef.objects.bulk_create([
                    StoryImportRef(product=product, story_id=story.id, import_job=job, row_number=s["row"],
                                   key=s["key"][:60], description=s["description"], labels=s["labels"])
                    for story, s in zip(stories, batch, strict=True)])
            created += len(batch)
            if job.job_id:
                job_progress(job_id=job.job_id, progress=created, total=total,
                             message=f"{created} of {total} stories imported")
    except Exception as exc:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, finished_at=timezone.now())
        if job.job_id:
            job_finish(job_id=job.job_id, failed=True, message=f"Import failed: {exc}"[:500])
        raise
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, created_count=created,
                                                   finished_at=timezone.now())
        summary = {"created": created, "skipped_rows": len(result["errors"]), "epics": len(epic_ids)}
        if job.job_id:
            job_finish(job_id=job.job_id, result=summary, message=f"{created} stories imported")
        activity_record(workspace_id=_ws(product), actor=actor, verb="imported stories", target=job, data=summary)
    return summary


def export_csv(*, actor, product, filters: dict) -> str:
    require_role(user=actor, workspace_id=_ws(product), role=Role.VIEWER)
    stories = selectors.stories_for_export(product=product, **filters)
    return importer.export_rows([{
        "key": _key_of(s), "title": s.title, "description": s.description,
        "status": s.status, "points": s.points, "assignee": s.assignee.email if s.assignee else "",
        "labels": list(s.labels or []), "epic": s.epic.title if s.epic else "",
    } for s in stories])


def _key_of(story) -> str:
    """The issue key a story was imported with, else S-<id>."""
    try:
        ref = story.import_ref
    except StoryImportRef.DoesNotExist:
        ref = None
    return (ref.key if ref is not None and ref.key else "") or f"S-{story.pk}"
