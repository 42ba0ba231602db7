"""Writes of the Jira integration: connections, project links, import, push, retry, inbound
webhooks. Pages and the API call these; slow work (anything that talks to Jira) is queued for the
worker. See docs/decisions/1710-1716."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import partial
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from pmhub.access import require_role
from pmhub.integrity import is_unique_violation
from pmhub.models import Role
from pmhub.outbound import OutboundRefused, outbound_check_url
from pmhub.secretbox import seal, unseal
from pmhub.services import activity_record
from pmhub.utils import version_claim

from . import provider, sync
from .client import JiraError
from .mapping import DIRECTIONS, RULES, propose_status_maps, rules_of
from .models import SYNC_FIELDS, JiraConnection, JiraDelivery, JiraIssueMap, JiraOutbox, JiraProjectLink

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")
IMPORT_BATCH = 500
PREVIEW_ROWS = 100


def _queue(task, *args) -> None:
    from pmhub.celery import queue_or_leave

    transaction.on_commit(partial(queue_or_leave, task, *args))


# --- connections ------------------------------------------------------------------------------------
def _clean_connection(*, kind: str, name: str, base_url: str, email: str, token: str | None,
                      current=None) -> dict:
    errors = {}
    if kind not in JiraConnection.Kind.values:
        errors["kind"] = "Choose Jira Cloud or Jira Data Center."
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the connection a name (for example: Acme Jira)."
    base_url = (base_url or "").strip().rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        errors["base_url"] = "Enter the site's address, for example https://acme.atlassian.net."
    elif parts.query or parts.fragment or parts.username:
        errors["base_url"] = "Enter only the site's address, without a query, fragment or credentials."
    elif len(base_url) > 300:
        errors["base_url"] = "This address is too long."
    else:
        try:
            outbound_check_url(base_url)
        except OutboundRefused as exc:
            errors["base_url"] = f"PMHub may not connect to this address: {exc.reason}."
        if parts.scheme == "http" and "base_url" not in errors:
            from django.conf import settings

            allowed = {h.strip().lower() for h in getattr(settings, "OUTBOUND_ALLOWED_HOSTS", []) or []}
            if parts.hostname.lower() not in allowed:
                errors["base_url"] = "Use https:// (plain http only for hosts the operator allowed)."
    email = (email or "").strip()
    if kind == JiraConnection.Kind.CLOUD:
        if not email or "@" not in email or len(email) > 254:
            errors["email"] = "Jira Cloud needs the e-mail of the account the API token belongs to."
    else:
        email = ""
    if token is not None:
        token = token.strip()
        if not token:
            errors["token"] = "Paste the API token (Cloud) or personal access token (Data Center)."
        elif len(token) > 2000:
            errors["token"] = "This token is too long."
    elif current is None:
        errors["token"] = "Paste the API token (Cloud) or personal access token (Data Center)."
    if errors:
        raise ValidationError(errors)
    cleaned = {"kind": kind, "name": name[:120], "base_url": base_url, "email": email}
    if token:
        cleaned["token_sealed"] = seal(token)
    return cleaned


@transaction.atomic
def connection_create(*, user, workspace, kind: str, name: str, base_url: str, email: str = "",
                      token: str) -> tuple[JiraConnection, str]:
    """Add a Jira connection (workspace admins). Returns (connection, webhook secret): the secret
    is generated here, sealed, and shown this once to paste into Jira's webhook settings."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    fields = _clean_connection(kind=kind, name=name, base_url=base_url, email=email, token=token)
    secret = secrets.token_urlsafe(32)
    connection = JiraConnection.objects.create(workspace=workspace, created_by=user,
                                               hook_token=secrets.token_urlsafe(24), secret_sealed=seal(secret),
                                               **fields)
    activity_record(workspace_id=workspace.id, actor=user, verb="added Jira connection", target=connection,
                    data={"name": connection.name})
    _queue(_task("jira_connection_test"), connection.id)
    return connection, secret


@transaction.atomic
def connection_update(*, user, connection: JiraConnection, data: dict, version: int | None = None) -> JiraConnection:
    """Rename, move to another address, or give a new token (only when one is given: an expired
    token is replaced here). Changing the token or address tests the connection again."""
    require_role(user=user, workspace_id=connection.workspace_id, role=Role.ADMIN)
    version_claim(instance=connection, expected_version=version)
    token = (data.get("token") or "").strip() or None
    fields = _clean_connection(kind=connection.kind, name=data.get("name", connection.name),
                               base_url=data.get("base_url", connection.base_url),
                               email=data.get("email", connection.email), token=token, current=connection)
    retest = token is not None or fields["base_url"] != connection.base_url or fields["email"] != connection.email
    for key, value in fields.items():
        setattr(connection, key, value)
    connection.save(update_fields=list(fields))
    activity_record(workspace_id=connection.workspace_id, actor=user, verb="updated Jira connection",
                    target=connection, data={"name": connection.name})
    if retest:
        _queue(_task("jira_connection_test"), connection.id)
    connection.refresh_from_db(fields=["version"])
    return connection


@transaction.atomic
def connection_delete(*, user, connection: JiraConnection) -> None:
    """Remove the connection, its links and mapping table and its log. Stories and issues stay."""
    require_role(user=user, workspace_id=connection.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=connection.workspace_id, actor=user, verb="deleted Jira connection",
                    data={"name": connection.name})
    connection.delete()


@transaction.atomic
def connection_test_queue(*, user, connection: JiraConnection) -> None:
    """"Test connection": the worker asks Jira who we are and which projects we see."""
    require_role(user=user, workspace_id=connection.workspace_id, role=Role.ADMIN)
    _queue(_task("jira_connection_test"), connection.id)


def connection_check(connection_id: int) -> str:
    """Worker: /myself and the projects; the answer goes to the connection and its log."""
    connection = JiraConnection.objects.get(id=connection_id)
    try:
        client = sync.client_for(connection)
        me = client.myself()
        projects = client.projects()
    except JiraError as exc:
        sync.record_failure(connection, exc)
        sync._log(connection, direction="check", label="Connection test", result="failed", error=exc.message)
        return f"failed: {exc.message}"
    name = str(me.get("displayName") or me.get("emailAddress") or me.get("name") or "")[:200]
    keys = [str(p.get("key")) for p in projects][:50]
    JiraConnection.objects.filter(id=connection.id).update(account_name=name)
    sync.record_success(connection)
    sync._log(connection, direction="check", label="Connection test", result="ok",
              detail={"user": name, "projects": keys})
    return f"connected as {name}: {len(keys)} projects"


def _task(name: str):
    from . import tasks

    return getattr(tasks, name)


# --- project links ----------------------------------------------------------------------------------
def _clean_rules(rules) -> dict:
    if not isinstance(rules, dict):
        raise ValidationError({"field_rules": "Send an object of field to {direction, rule}."})
    cleaned = {}
    for field, rule in rules.items():
        if field not in SYNC_FIELDS or not isinstance(rule, dict):
            raise ValidationError({"field_rules": f"Unknown field {str(field)[:40]}."})
        direction = rule.get("direction", "both")
        decide = rule.get("rule", "later")
        if direction not in DIRECTIONS or decide not in RULES:
            raise ValidationError({"field_rules": f"{field}: direction is one of {', '.join(DIRECTIONS)}; "
                                                  f"rule one of {', '.join(RULES)}."})
        cleaned[field] = {"direction": direction, "rule": decide}
    return cleaned


def _clean_link(*, connection, product, data: dict, link=None) -> dict:
    from backlog.services import workflow_of

    errors, cleaned = {}, {}
    if product.workspace_id != connection.workspace_id:
        errors["product"] = "Choose a product of this workspace."
    if "project_key" in data:
        key = str(data.get("project_key") or "").strip()
        if connection.kind in sync.PROJECT_KEYS:  # another provider's project: a GitHub repository
            key, problem = sync.PROJECT_KEYS[connection.kind](key)
            if problem:
                errors["project_key"] = problem
        elif not PROJECT_KEY.match(key.upper()):
            errors["project_key"] = "Enter the Jira project's key, for example ENG."
        key = key if connection.kind in sync.PROJECT_KEYS else key.upper()
        cleaned["project_key"] = key
    for name in ("story_issue_type", "epic_issue_type"):
        if name in data:
            value = str(data.get(name) or "").strip()
            if not value or len(value) > 60:
                errors[name] = "Enter an issue type of the project, for example Story."
            cleaned[name] = value[:60]
    if "jql" in data:
        jql = str(data.get("jql") or "").strip()
        if len(jql) > 1000:
            errors["jql"] = "At most 1,000 characters."
        cleaned["jql"] = jql
    if "user_map" in data:  # GitHub: e-mail -> login, edited by the admin (Jira's accountIds are looked up)
        if connection.kind not in sync.USER_MAPS:
            errors["user_map"] = "Jira finds people by e-mail: there is no map to edit."
        else:
            cleaned["user_map"], problem = sync.USER_MAPS[connection.kind](data["user_map"])
            if problem:
                errors["user_map"] = problem
    if "on_delete" in data:
        if data["on_delete"] not in JiraProjectLink.OnDelete.values:
            errors["on_delete"] = "Choose unlink or delete."
        cleaned["on_delete"] = data["on_delete"]
    if "active" in data:
        cleaned["active"] = bool(data["active"])
    if "field_rules" in data:
        try:
            cleaned["field_rules"] = _clean_rules(data["field_rules"])
        except ValidationError as e:
            errors.update(e.message_dict)
    keys = {s["key"] for s in workflow_of(product)}
    remote_ids = {str(s["id"]) for s in (link.remote_statuses if link else [])}
    if "status_in" in data:
        value = data["status_in"]
        if not isinstance(value, dict) or any(str(k) not in remote_ids or v not in keys for k, v in value.items()):
            errors["status_in"] = (f"Map each {provider.provider_label(connection.kind)} status to a status "
                                   "of the product's workflow.")
        else:
            cleaned["status_in"] = {str(k): v for k, v in value.items()}
    if "status_out" in data:
        value = data["status_out"]
        if not isinstance(value, dict) or any(k not in keys or str(v) not in remote_ids for k, v in value.items()):
            errors["status_out"] = ("Map each workflow status to a status of the "
                                    f"{provider.terms(connection.kind)['project']}.")
        else:
            cleaned["status_out"] = {k: str(v) for k, v in value.items()}
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def link_create(*, user, connection: JiraConnection, product, project_key: str, story_issue_type: str = "Story",
                epic_issue_type: str = "Epic", jql: str = "", field_rules: dict | None = None,
                on_delete: str = JiraProjectLink.OnDelete.UNLINK) -> JiraProjectLink:
    """Link a product to a Jira project. The worker then reads the project's statuses and fields
    and proposes the status map (by category) and the story points field."""
    require_role(user=user, workspace_id=connection.workspace_id, role=Role.ADMIN)
    fields = _clean_link(connection=connection, product=product, data={
        "project_key": project_key, "story_issue_type": story_issue_type, "epic_issue_type": epic_issue_type,
        "jql": jql, "field_rules": field_rules or {}, "on_delete": on_delete})

    def taken():
        # One statement, one snapshot: two checks could see a racing link commit between them and
        # answer differently from a single duplicate.
        clashes = list(JiraProjectLink.objects.filter(connection=connection)
                       .filter(Q(product=product) | Q(project_key=fields["project_key"]))
                       .values_list("product_id", flat=True))
        if product.pk in clashes:
            raise ValidationError({"product": "This product is already linked on this connection."})
        if clashes:
            raise ValidationError({"project_key": "This project is already linked on this connection."})

    taken()
    try:
        with transaction.atomic():
            link = JiraProjectLink.objects.create(connection=connection, product=product, **fields)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        taken()  # the same answer as a single duplicate (the winner has committed by now)
        raise
    activity_record(workspace_id=connection.workspace_id, actor=user, verb="linked product to Jira project",
                    target=product, data={"project": link.project_key, "connection": connection.name})
    _queue(_task("jira_link_discover"), link.id)
    return link


@transaction.atomic
def link_update(*, user, link: JiraProjectLink, data: dict, version: int | None = None) -> JiraProjectLink:
    """Field rules (direction + conflict rule per field), status overrides, issue types, JQL,
    what a deletion does, pause/resume. `rediscover` proposes the status map again."""
    require_role(user=user, workspace_id=link.connection.workspace_id, role=Role.ADMIN)
    version_claim(instance=link, expected_version=version)
    fields = _clean_link(connection=link.connection, product=link.product,
                         data={k: v for k, v in data.items() if k != "project_key"}, link=link)
    if "field_rules" in fields:
        fields["field_rules"] = {**(link.field_rules or {}), **fields["field_rules"]}
    for key in ("status_in", "status_out"):
        if key in fields:
            fields[key] = {**(getattr(link, key) or {}), **fields[key]}
    for key, value in fields.items():
        setattr(link, key, value)
    if fields:
        link.save(update_fields=list(fields))
    if data.get("rediscover"):
        JiraProjectLink.objects.filter(id=link.id).update(status_in={}, status_out={})
        _queue(_task("jira_link_discover"), link.id)
    activity_record(workspace_id=link.connection.workspace_id, actor=user, verb="updated Jira project link",
                    target=link.product, data={"project": link.project_key})
    link.refresh_from_db()
    return link


@transaction.atomic
def link_delete(*, user, link: JiraProjectLink) -> None:
    """Stop syncing: the mapping table goes, stories and issues both stay (unlinking, not deleting)."""
    require_role(user=user, workspace_id=link.connection.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=link.connection.workspace_id, actor=user, verb="unlinked product from Jira",
                    target=link.product, data={"project": link.project_key})
    link.delete()


def _points_field(fields: list[dict]) -> str:
    """The story points custom field, found in Jira's field list (team- and company-managed names)."""
    by_type = [f for f in fields if str((f.get("schema") or {}).get("custom") or "").endswith(
        ("jsw-story-points", "story-points"))]
    named = [f for f in fields if str(f.get("name") or "").lower() in ("story point estimate", "story points")]
    pick = (by_type or named or [None])[0]
    return str(pick["id"]) if pick else ""


def link_discover(link_id: int) -> str:
    """Worker: the project's id, the statuses of the story issue type, the story points field;
    status maps proposed from both workflows (kept where the admin already chose)."""
    from backlog.services import workflow_of

    link = JiraProjectLink.objects.select_related("connection", "product").get(id=link_id)
    client = sync.client_for(link.connection)
    try:
        project = client.project(link.project_key)
        types = client.project_statuses(link.project_key)
        fields = client.fields()
    except JiraError as exc:
        sync.record_failure(link.connection, exc)
        sync._log(link.connection, link=link, direction="check", label=f"Project {link.project_key}",
                  result="failed", error=exc.message)
        return f"failed: {exc.message}"
    chosen = next((t for t in types if t.get("name") == link.story_issue_type), types[0] if types else {})
    remote = [{"id": str(s["id"]), "name": str(s.get("name") or ""),
               "category": str((s.get("statusCategory") or {}).get("key") or "indeterminate")}
              for s in chosen.get("statuses") or []]
    proposed_in, proposed_out = propose_status_maps(workflow=workflow_of(link.product), remote_statuses=remote)
    points = _points_field(fields)
    JiraProjectLink.objects.filter(id=link.id).update(
        project_id=str(project.get("id") or ""), remote_statuses=remote, points_field=points,
        status_in={**proposed_in, **(link.status_in or {})}, status_out={**proposed_out, **(link.status_out or {})})
    sync.record_success(link.connection)
    notes = [] if points else [provider.points_missing(link.connection.kind)]
    sync._log(link.connection, link=link, direction="check", label=f"Project {link.project_key}", result="ok",
              error="; ".join(notes), detail={"statuses": [s["name"] for s in remote], "points_field": points})
    return f"{len(remote)} statuses, points field {points or 'none'}"


# --- import and push --------------------------------------------------------------------------------
def _search_all(link, client):
    """Epics first, then the rest (the provider's client knows how to ask: JQL, or GitHub's list)."""
    yield from client.search_link(link, sync.issue_fields(link))


def _classify(link, issues: list[dict]) -> list[dict]:
    """create / link / skip for each issue, without writing anything. Epics (the link's epic issue
    type) become epics, the other issues stories; an unlinked one with the same title is linked."""
    from backlog.models import Epic, Story

    mapped = set(JiraIssueMap.objects.filter(link=link, remote_id__in=[i["id"] for i in issues])
                 .values_list("remote_id", flat=True))
    titles = {}
    for kind, model in (("story", Story), ("epic", Epic)):
        linked = JiraIssueMap.objects.filter(link=link, **{f"{kind}__isnull": False}).values(f"{kind}_id")
        titles[kind] = {}
        for oid, title in model.objects.filter(product_id=link.product_id).exclude(id__in=linked) \
                .values_list("id", "title"):
            titles[kind].setdefault(title.strip().lower(), oid)
    rows = []
    for issue in issues:
        fields = issue.get("fields") or {}
        kind = "epic" if sync.is_epic(issue, link) else "story"
        row = {"id": issue["id"], "key": issue["key"], "summary": str(fields.get("summary") or "")[:200], "kind": kind}
        if issue["id"] in mapped:
            row.update(action="skip", reason="already linked")
        elif row["summary"].strip().lower() in titles[kind]:
            row.update(action="link", reason=f"an {kind} with the same title" if kind == "epic"
                       else "a story with the same title", target=titles[kind].pop(row["summary"].strip().lower()))
        else:
            row.update(action="create", reason="epic" if kind == "epic" else "")
        rows.append(row)
    return rows


@transaction.atomic
def import_preview_queue(*, user, link: JiraProjectLink, jql: str | None = None) -> None:
    require_role(user=user, workspace_id=link.connection.workspace_id, role=Role.ADMIN)
    if jql is not None:
        link.jql = _clean_link(connection=link.connection, product=link.product, data={"jql": jql})["jql"]
    link.preview = {"state": "running", "jql": link.jql}
    link.save(update_fields=["jql", "preview"])
    _queue(_task("jira_import_preview"), link.id)


def import_preview(link_id: int) -> str:
    """Worker: what an import by the link's JQL would create, link and skip (nothing written)."""
    link = JiraProjectLink.objects.select_related("connection", "product").get(id=link_id)
    client = sync.client_for(link.connection)
    rows, counts = [], {"create": 0, "link": 0, "skip": 0}
    try:
        batch = []
        for issue in _search_all(link, client):
            batch.append(issue)
            if len(batch) >= IMPORT_BATCH:
                rows += _summarise(_classify(link, batch), counts, rows)
                batch = []
        rows += _summarise(_classify(link, batch), counts, rows)
    except JiraError as exc:
        sync.record_failure(link.connection, exc)
        JiraProjectLink.objects.filter(id=link.id).update(preview={"state": "failed", "jql": link.jql,
                                                                   "error": exc.message})
        return f"failed: {exc.message}"
    JiraProjectLink.objects.filter(id=link.id).update(preview={
        "state": "ready", "jql": link.jql, "counts": counts, "rows": rows, "at": timezone.now().isoformat()})
    sync.record_success(link.connection)
    return f"{counts}"


def _summarise(classified: list[dict], counts: dict, so_far: list) -> list[dict]:
    for row in classified:
        counts[row["action"]] += 1
    room = max(PREVIEW_ROWS - len(so_far), 0)
    return [{k: r[k] for k in ("key", "summary", "action", "reason")} for r in classified[:room]]


@transaction.atomic
def import_run_queue(*, user, link: JiraProjectLink) -> None:
    """Import what the preview showed (the worker classifies again: nothing is created twice)."""
    require_role(user=user, workspace_id=link.connection.workspace_id, role=Role.ADMIN)
    if (link.preview or {}).get("state") != "ready" or link.preview.get("jql") != link.jql:
        raise ValidationError({"jql": "Preview the import first: it shows what will be created, linked and skipped."})
    link.preview = {**link.preview, "state": "importing"}
    link.save(update_fields=["preview"])
    _queue(_task("jira_import_run"), link.id)


def import_run(link_id: int) -> str:
    link = JiraProjectLink.objects.select_related("connection", "product").get(id=link_id)
    client = sync.client_for(link.connection)
    done = {"create": 0, "link": 0, "skip": 0}

    def flush(batch):
        rows = _classify(link, batch)
        by_id = {i["id"]: i for i in batch}
        creates = [by_id[r["id"]] for r in rows if r["action"] == "create"]
        linked = [r for r in rows if r["action"] == "link"]
        links = {r["id"]: r["target"] for r in linked}
        sync.import_issues(link=link, issues=creates + [by_id[i] for i in links], links=links)
        if links:  # a linked pair has no common past yet: the worker merges it now, field by field by rule
            rows_out = JiraOutbox.objects.bulk_create([JiraOutbox(link=link, kind=r["kind"], story_id=r["target"])
                                                       for r in linked])
            transaction.on_commit(partial(sync.enqueue, [o.id for o in rows_out]))
        for r in rows:
            done[r["action"]] += 1

    try:
        batch = []
        for issue in _search_all(link, client):
            batch.append(issue)
            if len(batch) >= IMPORT_BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    except (JiraError, IntegrityError, ValidationError) as exc:
        message = exc.message if isinstance(exc, JiraError) else "the import met a concurrent change; run it again"
        if isinstance(exc, JiraError):
            sync.record_failure(link.connection, exc)
        JiraProjectLink.objects.filter(id=link.id).update(preview={**link.preview, "state": "failed",
                                                                   "error": message, "done": done})
        sync._log(link.connection, link=link, direction="import", label=f"Import {link.project_key}",
                  result="failed", error=message, detail=done)
        return f"failed: {message}"
    JiraProjectLink.objects.filter(id=link.id).update(
        preview={**link.preview, "state": "done", "done": done}, reconciled_at=timezone.now())
    sync._log(link.connection, link=link, direction="import", label=f"Import {link.project_key}", result="ok",
              fields=[], detail={"created": done["create"], "linked": done["link"], "skipped": done["skip"]})
    sync.record_success(link.connection)
    return f"{done}"


@transaction.atomic
def push_existing(*, user, link: JiraProjectLink) -> int:
    """Queue every epic and story of the product that has no issue yet: the worker creates them in
    Jira (epics first; a story's parent is set once its epic has an issue). Returns how many."""
    from backlog.models import Story

    require_role(user=user, workspace_id=link.connection.workspace_id, role=Role.ADMIN)
    from backlog.models import Epic

    mapped = JiraIssueMap.objects.filter(link=link, story__isnull=False).values("story_id")
    mapped_epics = JiraIssueMap.objects.filter(link=link, epic__isnull=False).values("epic_id")
    epic_ids = list(Epic.objects.filter(product_id=link.product_id).exclude(id__in=mapped_epics)
                    .values_list("id", flat=True))
    ids = list(Story.objects.filter(product_id=link.product_id).exclude(id__in=mapped).values_list("id", flat=True))
    rows = JiraOutbox.objects.bulk_create([JiraOutbox(link=link, kind="epic", story_id=i) for i in epic_ids]
                                          + [JiraOutbox(link=link, story_id=i) for i in ids], batch_size=1000)
    transaction.on_commit(partial(sync.enqueue, [r.id for r in rows]))
    activity_record(workspace_id=link.connection.workspace_id, actor=user, verb="pushed stories to Jira",
                    target=link.product, data={"count": len(ids), "epics": len(epic_ids), "project": link.project_key})
    return len(ids) + len(epic_ids)


@transaction.atomic
def outbox_retry(*, user, connection: JiraConnection, outbox_ids: list[int] | None = None) -> int:
    """"Retry" on the log: failed rows of this connection go back to the queue."""
    require_role(user=user, workspace_id=connection.workspace_id, role=Role.ADMIN)
    qs = JiraOutbox.objects.filter(link__connection=connection, status=JiraOutbox.Status.FAILED)
    if outbox_ids is not None:
        qs = qs.filter(id__in=outbox_ids)
    ids = list(qs.values_list("id", flat=True)[:10000])
    JiraOutbox.objects.filter(id__in=ids).update(status=JiraOutbox.Status.PENDING, attempts=0,
                                                 next_attempt_at=timezone.now(), claimed_until=None)
    transaction.on_commit(partial(sync.enqueue, ids))
    return len(ids)


def outbox_sweep(limit: int = 1000) -> int:
    """Every minute: what was deleted in PMHub is unlinked (or deleted in Jira), then the due outbox
    rows are queued (never queued, or their message lost). Returns how many rows were queued."""
    from django.db.models import Q

    sync.orphans_process()
    now = timezone.now()
    ids = list(JiraOutbox.objects.filter(status=JiraOutbox.Status.PENDING, next_attempt_at__lte=now)
               .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
               .values_list("id", flat=True)[:limit])
    sync.enqueue(ids)
    return len(ids)


def reconcile_all() -> int:
    from pmhub.celery import queue_or_leave

    ids = list(JiraProjectLink.objects.filter(active=True).exclude(connection__health=JiraConnection.Health.AUTH)
               .values_list("id", flat=True))
    for link_id in ids:
        queue_or_leave(_task("jira_reconcile"), link_id)
    return len(ids)


# --- inbound webhooks -------------------------------------------------------------------------------
def signature_valid(*, secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature: "sha256=" + hex HMAC-SHA256 of the raw body with the connection's secret
    (Jira Cloud webhooks registered with a secret), compared in constant time."""
    if not header or not secret or not header.strip().startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def delivery_receive(*, hook_token: str, signature: str | None, identifier: str | None, body: bytes) -> str:
    """An inbound Jira webhook: verified, remembered by X-Atlassian-Webhook-Identifier (a replay or
    a retry answers 200 and changes nothing), queued for the worker. Raises WebhookRefused."""
    from integrations.services import WebhookRefused, webhook_json_object

    connection = JiraConnection.objects.filter(hook_token=hook_token).first()
    if connection is None:
        raise WebhookRefused(404, "unknown webhook URL")
    if not signature_valid(secret=unseal(connection.secret_sealed), body=body, header=signature):
        raise WebhookRefused(401, "signature does not match")
    identifier = (identifier or "").strip()[:80]
    if not identifier and connection.kind == JiraConnection.Kind.DATA_CENTER:
        # Data Center sends no delivery identifier: a retried delivery repeats the same signed body
        # (its timestamp included), so the body's digest remembers it (docs/decisions/1718).
        identifier = "body-sha256:" + hashlib.sha256(body).hexdigest()[:64]
    if not identifier:
        raise WebhookRefused(400, "missing X-Atlassian-Webhook-Identifier")
    payload = webhook_json_object(body)
    event = str(payload.get("webhookEvent") or "")[:60]
    issue = payload.get("issue") if isinstance(payload.get("issue"), dict) else {}
    issue_id = str(issue.get("id") or "")[:20]
    project_key = str(((issue.get("fields") or {}).get("project") or {}).get("key") or "")[:20] \
        if isinstance(issue.get("fields"), dict) else ""
    if not issue_id.isdigit():
        return "ignored: no issue"
    if event not in ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted"):
        return f"ignored: {event or 'no'} event"
    with transaction.atomic():
        delivery, created = JiraDelivery.objects.get_or_create(
            connection=connection, delivery_id=identifier,
            defaults={"event": event, "issue_id": issue_id, "project_key": project_key})
        if not created:
            return "already processed"
        _queue(_task("jira_delivery_process"), delivery.id)
    return "queued"


def rules_table(link) -> list[dict]:
    """For pages: each field with its direction and conflict rule."""
    from .models import FIELD_LABELS

    rules = rules_of(link)
    return [{"field": f, "label": FIELD_LABELS[f], **rules[f]} for f in SYNC_FIELDS]
