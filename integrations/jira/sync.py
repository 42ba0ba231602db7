"""The Jira sync engine, run by the worker (docs/decisions/1711-1715).

One routine, `merge_and_apply`, decides every field of one mapped issue, whatever woke it (a PMHub
change from the outbox, a Jira webhook, the periodic reconcile): per field it compares both sides'
current values with the fingerprints kept at the last sync, then pushes (PMHub changed), pulls
(Jira changed) or lets the field's rule decide (both changed: PMHub wins, Jira wins or the later
change wins) and logs the conflict with both values. New fingerprints are stored in the same
transaction as the pulled values, so what the sync wrote is never seen again as a change.

Writes into PMHub go through backlog's services (story_update: the one status service path, with
activity, burn events and webhooks), acting as the admin who made the connection, inside
`sync_writing()` so that they put nothing in the outbox (no echo).
"""

from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from pmhub.subscribers import subscribers_cached

from . import provider
from .client import JiraClient, JiraError
from .mapping import (
    epic_local_repr,
    equivalent,
    fingerprint,
    jira_fields_for,
    local_repr,
    remote_after_push,
    remote_repr,
    rules_of,
)
from .models import (
    EPIC_SYNC_FIELDS,
    SYNC_FIELDS,
    JiraConnection,
    JiraDelivery,
    JiraIssueMap,
    JiraOutbox,
    JiraProjectLink,
    JiraSyncLog,
)

STORY, EPIC = JiraOutbox.Kind.STORY, JiraOutbox.Kind.EPIC

logger = logging.getLogger(__name__)
_SYNC_WRITING = contextvars.ContextVar("jira_sync_writing", default=False)
NOTIFY_AFTER = 5  # failures in a row before the workspace admins are told
MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120


@contextmanager
def sync_writing():
    """PMHub writes made by the sync itself: they must not go back to Jira (no echo)."""
    token = _SYNC_WRITING.set(True)
    try:
        yield
    finally:
        _SYNC_WRITING.reset(token)


# --- providers: one engine, a client per provider (docs/decisions/1720-one-sync-engine-per-provider-client.md)
# A provider's client speaks the engine's terms: issues shaped as Jira's REST answers them ({id, key,
# fields: summary, description, status.id, assignee.emailAddress, labels, updated, issuetype, parent}),
# errors as JiraError (kind auth/rate/transient/client; status 404 = the issue is gone), and these
# operations: myself, projects, project, project_statuses, fields, users_by_email, issue, issue_create,
# issue_update, issue_delete, transitions, transition, search_link(link, fields) (what an import
# reads) and updated_since(link, since, fields) (what a reconcile reads).
CLIENTS: dict = {}  # connection kind -> factory(connection); Jira's kinds use JiraClient
PROJECT_KEYS: dict = {}  # connection kind -> clean(key) -> (key, problem or ""); Jira's: its project key
USER_MAPS: dict = {}  # connection kind -> clean(map) -> (map, problem or ""): an editable e-mail -> login map


def client_for(connection):
    factory = CLIENTS.get(connection.kind)
    return factory(connection) if factory else JiraClient.for_connection(connection)


def issue_fields(link) -> list[str]:
    fields = ["summary", "description", "status", "assignee", "labels", "issuetype", "updated", "project", "parent",
              "fixVersions"]
    return fields + ([link.points_field] if link.points_field else [])


def parse_jira_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None


def _emails(workspace_id: int) -> tuple[dict, dict]:
    """{user id: e-mail} and {e-mail (lower): user id} of the workspace's members."""
    from pmhub.models import Membership

    rows = Membership.objects.filter(workspace_id=workspace_id).values_list("user_id", "user__email")
    return dict(rows), {email.lower(): uid for uid, email in rows if email}


# --- outbox (in the transaction of the PMHub change) ------------------------------------------------
def linked_products(workspace_id: int) -> frozenset[int]:
    """The products of the workspace with an active Jira project link (cached by the caller)."""
    rows = JiraProjectLink.objects.filter(active=True, connection__workspace_id=workspace_id)
    return frozenset(rows.values_list("product_id", flat=True))


def outbox_on_event(*, workspace_id: int, event: str, payloads: list[dict]) -> None:
    """webhook_emitted receiver: story.created / story.updated of a linked product write one outbox
    row per story and link, in the emitting transaction; sent by the worker after commit."""
    if _SYNC_WRITING.get() or event not in ("story.created", "story.updated", "epic.created", "epic.updated"):
        return
    linked = subscribers_cached("jira", workspace_id, linked_products)
    if not linked:
        return  # no active project link in the workspace: no query (pmhub/subscribers.py)
    kind = STORY if event.startswith("story.") else EPIC
    if kind == EPIC:  # epic payloads carry no product: read it
        from backlog.models import Epic

        products = dict(Epic.objects.filter(id__in=[p["id"] for p in payloads]).values_list("id", "product_id"))
        payloads = [{**p, "product_id": products.get(p["id"])} for p in payloads]
    product_ids = {p.get("product_id") for p in payloads}
    if not product_ids & linked:
        return
    links = list(JiraProjectLink.objects.filter(product_id__in=product_ids, active=True,
                                                connection__workspace_id=workspace_id))
    if not links:
        return
    pending = set(JiraOutbox.objects.filter(link__in=links, status=JiraOutbox.Status.PENDING, attempts=0, kind=kind,
                                            story_id__in=[p["id"] for p in payloads],
                                            action=JiraOutbox.Action.UPSERT).values_list("link_id", "story_id"))
    rows = [JiraOutbox(link=link, kind=kind, story_id=p["id"]) for p in payloads for link in links
            if link.product_id == p.get("product_id") and (link.id, p["id"]) not in pending]
    created = JiraOutbox.objects.bulk_create(rows, batch_size=1000)
    transaction.on_commit(partial(enqueue, [row.id for row in created]))


def orphans_process(limit: int = 1000) -> int:
    """Mapping rows whose story or epic was deleted in PMHub (the foreign key set them empty):
    unlinked, the issue kept in Jira — or its deletion queued when the admin chose "delete on the
    other side too". Run by the minute's sweep; returns how many."""
    with transaction.atomic():
        maps = list(JiraIssueMap.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(story__isnull=True, epic__isnull=True, unlinked_at__isnull=True)
                    .select_related("link__connection")[:limit])
        if not maps:
            return 0
        JiraIssueMap.objects.filter(id__in=[m.id for m in maps]).update(unlinked_at=timezone.now())
        deletes = []
        for mapping in maps:
            link = mapping.link
            if link.on_delete == JiraProjectLink.OnDelete.DELETE:
                deletes.append(JiraOutbox(link=link, story_id=0, remote_id=mapping.remote_key,
                                          action=JiraOutbox.Action.DELETE))
            else:
                _log(link.connection, link=link, direction="out", label=mapping.remote_key,
                     remote_key=mapping.remote_key, result="ok",
                     detail={"note": f"Deleted in PMHub: unlinked, the issue stays in {link.provider_label}."})
        created = JiraOutbox.objects.bulk_create(deletes)
        transaction.on_commit(partial(enqueue, [row.id for row in created]))
    return len(maps)


def enqueue(outbox_ids: list[int]) -> None:
    from pmhub.celery import queue_or_leave

    from .tasks import jira_outbox_send

    for outbox_id in outbox_ids:
        if not queue_or_leave(jira_outbox_send, outbox_id):
            return  # the sweep queues the rest


# --- health and log -------------------------------------------------------------------------------
def _log(connection, *, link=None, direction: str, label: str = "", remote_key: str = "", story=None,
         story_id: int | None = None, fields=(), result: str, error: str = "", detail: dict | None = None,
         outbox=None) -> JiraSyncLog:
    if story is None and story_id is not None:
        from backlog.models import Story

        story = Story.objects.filter(id=story_id).first()
    if error and link is not None and link.points_field:  # Jira names fields by id: say which one it is
        error = error.replace(link.points_field, "story points")
    return JiraSyncLog.objects.create(
        connection=connection, link=link, direction=direction, object_label=(label or "")[:240],
        remote_key=(remote_key or "")[:40], story=story, fields=sorted(fields), result=result,
        error=(error or "")[:500], detail=detail or {}, outbox=outbox)


SUCCESS_REFRESH = timedelta(seconds=30)


def record_success(connection) -> None:
    """Healthy again (or still): one UPDATE of the connection's row, skipped while the connection
    as this task read it is healthy and its last success is recent (every sync would otherwise
    write the same row: one more query, and a lock all the worker processes queue on)."""
    if connection.health == JiraConnection.Health.OK and not connection.failures_in_row and \
            connection.last_success_at and timezone.now() - connection.last_success_at < SUCCESS_REFRESH:
        return
    JiraConnection.objects.filter(id=connection.id).update(
        health=JiraConnection.Health.OK, failures_in_row=0, last_success_at=timezone.now(), last_error="",
        notified_at=None)


def record_failure(connection, error: JiraError) -> None:
    """A failure in a row; the workspace admins are notified once when it keeps failing."""
    from pmhub.models import Notification, Role, User
    from pmhub.services import notify

    with transaction.atomic():
        conn = JiraConnection.objects.select_for_update().get(id=connection.id)
        conn.failures_in_row += 1
        conn.last_failure_at = timezone.now()
        conn.last_error = error.message[:300]
        conn.health = JiraConnection.Health.AUTH if error.kind == "auth" else JiraConnection.Health.FAILING
        tell = conn.notified_at is None and (conn.failures_in_row >= NOTIFY_AFTER or error.kind == "auth")
        if tell:
            conn.notified_at = timezone.now()
        conn.save(update_fields=["failures_in_row", "last_failure_at", "last_error", "health", "notified_at"])
        if tell:
            from django.urls import reverse

            url = reverse("integrations:jira_connection", kwargs={"ws": conn.workspace.slug, "connection_id": conn.id})
            for admin in User.objects.filter(memberships__workspace_id=conn.workspace_id,
                                             memberships__role__gte=Role.ADMIN):
                notify(recipient=admin, kind=Notification.Kind.OTHER, workspace_id=conn.workspace_id, url=url,
                       title=f"{provider.provider_label(conn.kind)} connection "
                             f"{conn.name} is failing: {conn.last_error}")


def _deleted_there(link) -> str:
    """The log's reason when the issue is gone on the other side: "Issue deleted in GitHub"."""
    return f"Issue deleted in {link.provider_label}"


# --- one issue, both sides -------------------------------------------------------------------------
def _later(story, remote_updated: str) -> str:
    remote_at = parse_jira_time(remote_updated)
    if remote_at is None:
        return "pmhub"
    return "jira" if remote_at > story.updated_at else "pmhub"


def _account_of(link, client):
    cache = dict(link.user_map or {})

    def find(email: str):
        if email in cache:
            return cache[email]
        users = [u for u in client.users_by_email(email)
                 if str(u.get("emailAddress") or "").lower() == email.lower()]
        # Cloud names people by accountId, Data Center by username (`name`).
        cache[email] = (users[0].get("accountId") or users[0].get("name")) if len(users) == 1 else None
        JiraProjectLink.objects.filter(id=link.id).update(user_map=cache)
        return cache[email]

    return find


def _version_of(link, client):
    """name -> id of the project's Jira version of that name (case-insensitive), created when
    missing: the versions are read once per sync of an object, not per field."""
    known: dict | None = None

    def find(name: str):
        nonlocal known
        if known is None:
            known = {str(v.get("name") or "").lower(): str(v["id"]) for v in client.project_versions(link.project_key)}
        if name.lower() not in known:
            project_id = link.project_id or str(client.project(link.project_key).get("id") or "")
            known[name.lower()] = str(client.version_create(name[:255], project_id).get("id") or "") or None
        return known[name.lower()]

    return find


def _release_for(link, name: str) -> int:
    """The product's release of that name (case-insensitive), created when missing (matched by
    name, docs/decisions/1717)."""
    from roadmaps.models import Release

    release = Release.objects.filter(product_id=link.product_id, name__iexact=name).order_by("id").first()
    if release is None:
        release = Release.objects.create(product_id=link.product_id, name=name[:120])
    return release.id


def _pull_value(field: str, value, *, link, users_by_email: dict, kind: str = "story"):
    """A Jira value as a story_update value, or (None, reason) when it has no PMHub counterpart."""
    if field == "release":
        if kind != EPIC:
            return None, "a story's release is its epic's: set the fix version on the epic"
        return (_release_for(link, value) if value else None), None
    if field == "title":
        return (value[:200], None) if value.strip() else (None, "empty summary not taken")
    if field == "status":
        key = (link.status_in or {}).get(value)
        return (key, None) if key else (None, f"{link.provider_label} status {value} has no PMHub status")
    if field == "points":
        return (value, None) if value is None or 0 <= value <= 1000 else (None, f"{value} points out of range")
    if field == "epic":
        if not value:
            return None, None  # no parent: epic_id None
        epic_id = JiraIssueMap.objects.filter(link=link, remote_id=value, epic__isnull=False, unlinked_at=None) \
            .values_list("epic_id", flat=True).first()
        return (epic_id, None) if epic_id else (None, f"{link.provider_label} parent {value} is not a linked epic")
    if field == "assignee":
        if not value:
            return None, None  # cleared: assignee_id None
        uid = users_by_email.get(value)
        return (uid, None) if uid else \
            (None, f"{link.provider_label} assignee {value} has no PMHub account here (not guessed)")
    return value, None


LOCAL_ATTR = {"assignee": "assignee_id", "epic": "epic_id", "release": "release_id"}


def _epic_remote(link, epic_id) -> str:
    """The Jira id of the issue linked to this epic ("" when none)."""
    if not epic_id:
        return ""
    return JiraIssueMap.objects.filter(link=link, epic_id=epic_id, unlinked_at=None) \
        .values_list("remote_id", flat=True).first() or ""


def _release_name(epic_id) -> str:
    from backlog.models import Epic

    if not epic_id:
        return ""
    return Epic.objects.filter(id=epic_id).values_list("release__name", flat=True).first() or ""


def _local(kind, obj, *, link, emails) -> dict:
    if kind == EPIC:
        return epic_local_repr(obj, release=_release_name(obj.id))
    return local_repr(obj, emails=emails, epic_remote=_epic_remote(link, obj.epic_id),
                      release=_release_name(obj.epic_id))


def _fields_of(kind) -> tuple:
    return EPIC_SYNC_FIELDS if kind == EPIC else SYNC_FIELDS


def _unsynced(field: str, link, client) -> bool:
    """Fields a provider cannot hold: fix versions without project versions (GitHub issues); the
    epic link on a Jira Data Center site without the Epic Link field (no Jira Software; the client
    translates the field to the parent otherwise: docs/decisions/1718)."""
    if field == "release":
        return not hasattr(client, "project_versions")
    return field == "epic" and not getattr(client, "holds_epic", lambda: True)()


def merge_and_apply(*, link, mapping, story, issue: dict, client: JiraClient, direction: str,
                    outbox=None, kind: str = STORY) -> str:
    """Three-way merge of one story (or epic: `kind`) and its issue by the fingerprints of the last
    sync; pushes and pulls what changed, decides conflicts by rule, stores new fingerprints, logs.
    Caller holds the object's row lock."""
    from backlog.services import epic_update, story_update

    connection = link.connection
    emails, users_by_email = _emails(connection.workspace_id)
    local = _local(kind, story, link=link, emails=emails)
    remote = remote_repr(issue.get("fields") or {}, points_field=link.points_field)
    rules = rules_of(link)
    fps = dict(mapping.fingerprints or {})
    pushes, pulls, conflicts, notes = {}, {}, {}, []
    for field in _fields_of(kind):
        rule = rules[field]
        if rule["direction"] == "once" or (field == "status" and not link.status_out) or _unsynced(field, link, client):
            continue
        base = fps.get(field)
        local_changed = base is None or fingerprint(local[field]) != base[0]
        remote_changed = base is None or fingerprint(remote[field]) != base[1]
        if rule["direction"] == "to_jira":
            remote_changed = False
        elif rule["direction"] == "to_pmhub":
            local_changed = False
        if not (local_changed or remote_changed):
            continue
        if equivalent(field, local[field], remote[field], link=link):
            fps[field] = [fingerprint(local[field]), fingerprint(remote[field])]
            continue
        if local_changed and remote_changed:
            winner = {"pmhub": "pmhub", "jira": "jira"}.get(rule["rule"]) or _later(
                story, (issue.get("fields") or {}).get("updated"))
            conflicts[field] = {"pmhub": local[field], "jira": remote[field], "winner": winner,
                                "rule": rule["rule"]}
            (pushes if winner == "pmhub" else pulls)[field] = local[field] if winner == "pmhub" else remote[field]
        elif local_changed:
            pushes[field] = local[field]
        else:
            pulls[field] = remote[field]

    key = mapping.remote_key
    # 1. Jira first: a refused write leaves PMHub and the fingerprints as they were (retried).
    payload, sent = {}, set()
    account_of, version_of = _account_of(link, client), _version_of(link, client)
    for field, value in pushes.items():
        if field == "status":
            continue
        fields, reason = jira_fields_for(field, value, link=link, account_of=account_of, version_of=version_of)
        if reason:
            notes.append(f"{field}: {reason}")
        else:
            payload.update(fields)
            sent.add(field)
    if payload:
        client.issue_update(key, payload)
    if "status" in pushes:
        target = (link.status_out or {}).get(pushes["status"])
        transition = next((t for t in client.transitions(key) if str((t.get("to") or {}).get("id")) == target), None) \
            if target else None
        if transition is None:
            notes.append(f"status: no {link.provider_label} transition to the status of {pushes['status']}")
        else:
            client.transition(key, str(transition["id"]))
            sent.add("status")
    # 2. PMHub, with the new fingerprints, in one transaction.
    data, pulled = {}, set()
    for field, value in pulls.items():
        converted, reason = _pull_value(field, value, link=link, users_by_email=users_by_email, kind=kind)
        if reason:
            notes.append(f"{field}: {reason}")
            continue
        data[LOCAL_ATTR.get(field, field)] = converted
        pulled.add(field)
    with transaction.atomic():
        if data and connection.created_by is not None:
            with sync_writing():
                if kind == EPIC:
                    story = epic_update(actor=connection.created_by, epic=story, data=data, version=None)
                else:
                    story = story_update(actor=connection.created_by, story=story, data=data, version=None)
        elif data:
            notes.append("no admin stands behind this connection any more: "
                         f"{link.provider_label}'s changes not applied")
            pulled.clear()
        after = _local(kind, story, link=link, emails=emails)
        for field in _fields_of(kind):
            if field in sent:
                fps[field] = [fingerprint(after[field]), fingerprint(remote_after_push(field, local[field], link=link))]
            elif field in pulled or field in pushes or field in pulls:
                fps[field] = [fingerprint(after[field]), fingerprint(remote[field])]
        JiraIssueMap.objects.filter(id=mapping.id).update(
            fingerprints=fps, remote_updated=str((issue.get("fields") or {}).get("updated") or "")[:40],
            synced_at=timezone.now())
        changed = sent | pulled
        if kind == EPIC and "release" in changed:  # its stories' fix versions follow the epic's release
            _queue_stories_of(link, story.id)
        if changed or conflicts or notes:
            _log(connection, link=link, direction="out" if sent and not pulled else "in" if pulled else direction,
                 label=story.title, remote_key=key, story=story if kind == STORY else None, fields=changed,
                 result="conflict" if conflicts else "ok" if changed else "skipped", error="; ".join(notes),
                 detail={"conflicts": conflicts} if conflicts else {}, outbox=outbox)
    if not changed:
        return "no change"
    return f"{key}: sent {', '.join(sorted(sent)) or 'nothing'}; took {', '.join(sorted(pulled)) or 'nothing'}"


def _create_remote(*, link, story, client, outbox=None, kind: str = STORY) -> str:
    """A PMHub story (or epic) without an issue: create it in Jira (fields whose direction sends to
    Jira, or set once), move it to the mapped status, and remember both sides' fingerprints."""
    emails, _ = _emails(link.connection.workspace_id)
    local = _local(kind, story, link=link, emails=emails)
    rules = rules_of(link)
    issue_type = link.epic_issue_type if kind == EPIC else link.story_issue_type
    fields = {"project": {"key": link.project_key}, "issuetype": {"name": issue_type}}
    notes = []
    account_of, version_of = _account_of(link, client), _version_of(link, client)
    for field in [f for f in _fields_of(kind) if f != "status"]:
        if rules[field]["direction"] == "to_pmhub" or (field != "title" and not local[field]) or \
                _unsynced(field, link, client):
            continue
        payload, reason = jira_fields_for(field, local[field], link=link, account_of=account_of,
                                          version_of=version_of)
        if reason:
            notes.append(f"{field}: {reason}")
        fields.update(payload)
    fields.setdefault("summary", story.title)
    created = client.issue_create(fields)
    key = created.get("key") or ""
    target = (link.status_out or {}).get(story.status)
    if target and rules["status"]["direction"] != "to_pmhub":
        transition = next((t for t in client.transitions(key) if str((t.get("to") or {}).get("id")) == target), None)
        if transition:
            client.transition(key, str(transition["id"]))
    issue = client.issue(key, issue_fields(link))
    remote = remote_repr(issue.get("fields") or {}, points_field=link.points_field)
    fps = {f: [fingerprint(local[f]), fingerprint(remote[f])] for f in _fields_of(kind)}
    JiraIssueMap.objects.create(link=link, remote_id=str(created.get("id")), remote_key=key,
                                **{kind: story}, fingerprints=fps,
                                remote_updated=str(issue["fields"].get("updated") or ""))
    _log(link.connection, link=link, direction="out", label=story.title, remote_key=key,
         story=story if kind == STORY else None, fields=["created"], result="ok", error="; ".join(notes),
         outbox=outbox)
    if kind == EPIC:  # its linked stories can now name it as their parent
        _queue_stories_of(link, story.id)
    return f"created {key}"


def _queue_stories_of(link, epic_id: int) -> None:
    """Outbox rows for the linked stories of an epic (their parent or fix version follows it)."""
    from backlog.models import Story

    ids = list(Story.objects.filter(epic_id=epic_id, jira_issues__link=link, jira_issues__unlinked_at=None)
               .values_list("id", flat=True))
    rows = JiraOutbox.objects.bulk_create([JiraOutbox(link=link, story_id=i) for i in ids])
    transaction.on_commit(partial(enqueue, [r.id for r in rows]))


def _unlink(*, link, mapping, reason: str, direction: str) -> str:
    """The issue is gone from Jira: unlink (the story stays), or delete the story when the admin chose."""
    from backlog.services import epic_delete, story_delete

    story = mapping.story or mapping.epic
    JiraIssueMap.objects.filter(id=mapping.id).update(unlinked_at=timezone.now())
    deleted = False
    if story is not None and link.on_delete == JiraProjectLink.OnDelete.DELETE and link.connection.created_by:
        with sync_writing():
            if mapping.epic_id:
                epic_delete(actor=link.connection.created_by, epic=story)
            else:
                story_delete(actor=link.connection.created_by, story=story)
        deleted = True
    _log(link.connection, link=link, direction=direction, label=story.title if story else mapping.remote_key,
         remote_key=mapping.remote_key, story=None if deleted or mapping.epic_id else story, result="ok", fields=[],
         detail={"note": f"{reason}: {'story deleted' if deleted else 'unlinked, the story stays in PMHub'}."})
    return "deleted" if deleted else "unlinked"


def sync_story(*, link, story_id: int, client: JiraClient, outbox=None, kind: str = STORY) -> str:
    from backlog.models import Epic, Story

    model = Epic if kind == EPIC else Story
    with transaction.atomic():
        story = model.objects.select_for_update().filter(id=story_id, product_id=link.product_id).first()
        if story is None:
            return f"{kind} gone"
        mapping = JiraIssueMap.objects.filter(link=link, unlinked_at=None, **{kind: story}).first()
        if mapping is None:
            if JiraIssueMap.objects.filter(link=link, **{kind: story}).exists():
                return "unlinked"
            return _create_remote(link=link, story=story, client=client, outbox=outbox, kind=kind)
        try:
            issue = client.issue(mapping.remote_key, issue_fields(link))
        except JiraError as exc:
            if exc.status == 404:
                return _unlink(link=link, mapping=mapping, reason=_deleted_there(link), direction="in")
            raise
        return merge_and_apply(link=link, mapping=mapping, story=story, issue=issue, client=client,
                               direction="out", outbox=outbox, kind=kind)


def _story_row(issue: dict, *, link, users_by_email: dict, kind: str = STORY) -> tuple[dict, list[str]]:
    remote = remote_repr(issue.get("fields") or {}, points_field=link.points_field)
    rules = rules_of(link)
    row, notes = {"title": remote["title"][:200] or issue.get("key") or "Untitled"}, []
    for field in [f for f in _fields_of(kind) if f != "title"]:
        if rules[field]["direction"] == "to_jira" or (field == "release" and kind == STORY):
            continue  # a story's release is its epic's (decision 1717): nothing to take on import
        value, reason = _pull_value(field, remote[field], link=link, users_by_email=users_by_email, kind=kind)
        if reason:
            notes.append(f"{field}: {reason}")
        elif value is not None:
            row[LOCAL_ATTR.get(field, field)] = value
    return row, notes


def is_epic(issue: dict, link) -> bool:
    return ((issue.get("fields") or {}).get("issuetype") or {}).get("name") == link.epic_issue_type


def import_issues(*, link, issues: list[dict], links: dict | None = None) -> list[JiraIssueMap]:
    """Create epics (the link's epic issue type) and stories (one bulk insert) for `issues`, and
    their mapping rows with fingerprints; `links` ({issue id: story or epic id}) are existing ones
    to link instead. Epics first, so a story whose parent is among them gets its epic. Idempotent:
    an issue already mapped is skipped (the unique (link, remote_id) index is the last word)."""
    from backlog.models import Epic, Story
    from backlog.services import epic_create, stories_bulk_create

    connection = link.connection
    emails, users_by_email = _emails(connection.workspace_id)
    links = links or {}
    known = set(JiraIssueMap.objects.filter(link=link, remote_id__in=[i["id"] for i in issues])
                .values_list("remote_id", flat=True))
    fresh = [i for i in issues if i["id"] not in known]
    all_notes: dict = {}
    maps: list[JiraIssueMap] = []

    def mapping_of(issue, obj, kind):
        local = _local(kind, obj, link=link, emails=emails)
        remote = remote_repr(issue.get("fields") or {}, points_field=link.points_field)
        # A linked pair has no common past: no fingerprints, the first sync decides field by field.
        fps = {} if issue["id"] in links else {f: [fingerprint(local[f]), fingerprint(remote[f])]
                                               for f in _fields_of(kind)}
        return JiraIssueMap(link=link, remote_id=issue["id"], remote_key=issue["key"], **{kind: obj},
                            remote_updated=str(issue["fields"].get("updated") or "")[:40], fingerprints=fps)

    with transaction.atomic(), sync_writing():
        epics = [i for i in fresh if is_epic(i, link)]
        for issue in epics:
            if issue["id"] in links:
                epic = Epic.objects.get(id=links[issue["id"]], product_id=link.product_id)
            else:
                row, notes = _story_row(issue, link=link, users_by_email=users_by_email, kind=EPIC)
                epic = epic_create(actor=connection.created_by, product=link.product, **row)
                if notes:
                    all_notes[issue["key"]] = notes
            maps.append(mapping_of(issue, epic, EPIC))
        JiraIssueMap.objects.bulk_create(maps, batch_size=1000)  # before the stories: their parents
        stories = [i for i in fresh if not is_epic(i, link)]
        to_create = [i for i in stories if i["id"] not in links]
        rows = []
        for issue in to_create:
            row, notes = _story_row(issue, link=link, users_by_email=users_by_email)
            rows.append(row)
            if notes:
                all_notes[issue["key"]] = notes
        created = stories_bulk_create(actor=connection.created_by, product=link.product, stories=rows) if rows else []
        story_maps = [mapping_of(i, s, STORY) for i, s in zip(to_create, created, strict=True)]
        story_maps += [mapping_of(i, Story.objects.get(id=links[i["id"]]), STORY) for i in stories if i["id"] in links]
        JiraIssueMap.objects.bulk_create(story_maps, batch_size=1000)
        for key, notes in list(all_notes.items())[:200]:
            _log(connection, link=link, direction="import", label=key, remote_key=key, result="ok",
                 error="; ".join(notes))
    return maps + story_maps


def sync_issue_in(*, link, issue: dict, client: JiraClient, direction: str = "in", mapping=None) -> str:
    """An issue Jira told us about (webhook, reconcile): create its story or epic, or merge.
    `mapping`: its mapping row when the caller has read it already."""
    from backlog.models import Epic, Story

    if mapping is None:
        mapping = JiraIssueMap.objects.filter(link=link, remote_id=str(issue.get("id"))).first()
    if mapping is None:
        try:
            import_issues(link=link, issues=[issue])
        except IntegrityError:
            return "already linked"
        return "created epic" if is_epic(issue, link) else "created story"
    kind = EPIC if mapping.epic_id else STORY
    if mapping.unlinked_at or (mapping.story_id or mapping.epic_id) is None:
        return "unlinked"
    with transaction.atomic():
        model = Epic if kind == EPIC else Story
        obj = model.objects.select_for_update().filter(id=mapping.epic_id or mapping.story_id).first()
        if obj is None:
            return f"{kind} gone"
        return merge_and_apply(link=link, mapping=mapping, story=obj, issue=issue, client=client,
                               direction=direction, kind=kind)


# --- worker entry points ---------------------------------------------------------------------------
class Retry(Exception):
    def __init__(self, countdown: float):
        super().__init__(f"retry in {countdown:.0f}s")
        self.countdown = countdown


def backoff(attempts: int) -> float:
    return min(5.0 * (2 ** max(attempts - 1, 0)), 900.0)


def outbox_attempt(outbox_id: int) -> str:
    """Send one outbox row. Raises Retry(countdown) for a 429 (never sooner than Retry-After), a
    5xx or a timeout while attempts remain; anything else fails the row with its reason in the log."""
    now = timezone.now()
    with transaction.atomic():
        # of=self: only the outbox row; FOR UPDATE on the join would lock the link and the connection
        # too, and every other row of the connection would be skipped meanwhile.
        row = (JiraOutbox.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("link__connection", "link__product")
               .filter(id=outbox_id, status=JiraOutbox.Status.PENDING).first())
        if row is None:
            return "not pending"
        if row.claimed_until and row.claimed_until > now:
            return "claimed"
        row.attempts += 1
        row.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
        row.save(update_fields=["attempts", "claimed_until"])
    link = row.link
    connection = link.connection
    try:
        client = client_for(connection)
        if row.action == JiraOutbox.Action.DELETE:
            try:
                client.issue_delete(row.remote_id)
            except JiraError as exc:
                if exc.status != 404:
                    raise
            _log(connection, link=link, direction="out", label=row.remote_id, remote_key=row.remote_id,
                 result="ok", outbox=row,
                 detail={"note": f"Deleted in PMHub: the issue is deleted in {link.provider_label} too."})
            outcome = "deleted"
        else:
            outcome = sync_story(link=link, story_id=row.story_id, client=client, outbox=row, kind=row.kind)
    except JiraError as exc:
        record_failure(connection, exc)
        retry = exc.kind in ("rate", "transient") and row.attempts < MAX_ATTEMPTS
        countdown = max(backoff(row.attempts), exc.retry_after or 0) if retry else 0
        JiraOutbox.objects.filter(id=row.id).update(
            status=JiraOutbox.Status.PENDING if retry else JiraOutbox.Status.FAILED, claimed_until=None,
            last_error=exc.message[:300], next_attempt_at=timezone.now() + timedelta(seconds=countdown))
        _log(connection, link=link, direction="out", label=_story_label(row), story_id=row.story_id
             if row.kind == STORY else None,
             result="retrying" if retry else "failed", error=exc.message, outbox=row)
        if retry:
            raise Retry(countdown) from None
        return "failed"
    except Exception as exc:  # a bug or bad data: visible in the log, the row failed (retry from the page)
        logger.exception("Jira outbox %s failed", row.id)
        JiraOutbox.objects.filter(id=row.id).update(status=JiraOutbox.Status.FAILED, claimed_until=None,
                                                    last_error=f"Internal error: {type(exc).__name__}"[:300])
        _log(connection, link=link, direction="out", label=_story_label(row), result="failed",
             error=f"Internal error ({type(exc).__name__}); see the server log.", outbox=row)
        return "failed"
    JiraOutbox.objects.filter(id=row.id).update(status=JiraOutbox.Status.SENT, claimed_until=None, last_error="")
    record_success(connection)
    return outcome


def _story_label(row) -> str:
    from backlog.models import Epic, Story

    if row.action == JiraOutbox.Action.DELETE:
        return row.remote_id
    model, what = (Epic, "Epic") if row.kind == EPIC else (Story, "Story")
    return model.objects.filter(id=row.story_id).values_list("title", flat=True).first() or f"{what} {row.story_id}"


def delivery_process(delivery_id: int) -> str:
    """An inbound webhook (already verified and remembered): read the issue fresh and sync it, or
    unlink a deleted one. Processed once: `processed_at` is set in the same transaction."""
    with transaction.atomic():
        delivery = (JiraDelivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("connection")
                    .filter(id=delivery_id, processed_at=None).first())
        if delivery is None:
            return "already processed"
        connection = delivery.connection
        outcome = _delivery_apply(connection, delivery)
        JiraDelivery.objects.filter(id=delivery.id).update(processed_at=timezone.now(), outcome=outcome[:200])
    return outcome


def _delivery_apply(connection, delivery) -> str:
    maps = list(JiraIssueMap.objects.filter(link__connection=connection, remote_id=delivery.issue_id)
                .select_related("link__connection", "link__product", "story", "epic"))
    if delivery.event.endswith(":issue_deleted"):  # jira:issue_deleted, github:issue_deleted
        if not maps:
            return "deleted issue was not linked"
        return ", ".join(_unlink(link=m.link, mapping=m, reason=_deleted_there(m.link), direction="in")
                         for m in maps if not m.unlinked_at) or "already unlinked"
    links = [m.link for m in maps] or list(JiraProjectLink.objects.filter(
        connection=connection, project_key=delivery.project_key, active=True).select_related("connection", "product"))
    if not links:
        return "no linked project"
    client = client_for(connection)
    try:
        issue = client.issue(delivery.issue_id, issue_fields(links[0]))
    except JiraError as exc:
        if exc.status == 404 and maps:
            return ", ".join(_unlink(link=m.link, mapping=m, reason=_deleted_there(m.link), direction="in")
                             for m in maps if not m.unlinked_at) or "already unlinked"
        record_failure(connection, exc)
        _log(connection, link=links[0], direction="in", label=delivery.issue_id, result="failed", error=exc.message)
        return f"failed: {exc.message}"
    mapped = {m.link_id: m for m in maps}
    outcomes = [sync_issue_in(link=link, issue=issue, client=client, mapping=mapped.get(link.id)) for link in links]
    record_success(connection)
    return "; ".join(outcomes)


def reconcile(link_id: int) -> str:
    """Heal what a lost webhook missed: every issue of the project updated since the last reconcile
    (a two-minute overlap for clock skew) is merged; unchanged ones cost a comparison, no write."""
    link = JiraProjectLink.objects.select_related("connection", "product").get(id=link_id)
    started = timezone.now()
    since = (link.reconciled_at or link.created_at) - timedelta(minutes=2)
    client = client_for(link.connection)
    seen = changed = 0
    try:
        for issue in client.updated_since(link, since, issue_fields(link)):
            seen += 1
            outcome = sync_issue_in(link=link, issue=issue, client=client)
            changed += outcome not in ("no change", "unlinked", "already linked")
    except JiraError as exc:
        record_failure(link.connection, exc)
        _log(link.connection, link=link, direction="in", label="Reconcile", result="failed", error=exc.message)
        return f"failed: {exc.message}"
    JiraProjectLink.objects.filter(id=link.id).update(reconciled_at=started)
    record_success(link.connection)
    return f"{seen} issues read, {changed} changed"
