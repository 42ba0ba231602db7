"""Pure field mapping between a story and a Jira issue (docs/decisions/1711, 1712).

Each synced field has two representations: PMHub's (`local_repr`) and Jira's (`remote_repr`), and
a fingerprint of each is kept per mapped issue after every sync. A side "changed" when its
fingerprint differs from the kept one, so a value the sync itself wrote (whose fingerprints it
stored) never comes back as a change: no echo. Keeping both sides' fingerprints (not one) makes
lossy mappings safe: two PMHub statuses that map to one Jira status do not flip each other.
"""

from __future__ import annotations

import hashlib
import json

from .adf import adf_to_md, md_to_adf, normalize
from .provider import points_missing

DIRECTIONS = {"both": "Both ways", "to_jira": "PMHub to Jira", "to_pmhub": "Jira to PMHub", "once": "Set once"}
RULES = {"later": "Later change wins", "pmhub": "PMHub wins", "jira": "Jira wins"}
DIRECTION_CHOICES = list(DIRECTIONS.items())
RULE_CHOICES = list(RULES.items())
DEFAULT_RULE = {"direction": "both", "rule": "later"}
# PMHub's workflow categories <-> Jira's status categories (statusCategory.key).
CATEGORY_TO_JIRA = {"todo": "new", "active": "indeterminate", "done": "done", "excluded": "done"}
JIRA_TO_CATEGORY = {"new": "todo", "indeterminate": "active", "done": "done"}


def fingerprint(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:20]


def rules_of(link) -> dict:
    from .models import SYNC_FIELDS

    stored = link.field_rules or {}
    return {f: {**DEFAULT_RULE, **(stored.get(f) or {})} for f in SYNC_FIELDS}


def labels_to_jira(labels) -> list[str]:
    """Jira labels cannot contain spaces: "needs design" goes as "needs-design"."""
    return sorted({"-".join(str(label).split())[:255] for label in labels or [] if str(label).strip()})


def local_repr(story, *, emails: dict, epic_remote: str = "", release: str = "") -> dict:
    """A story as the sync compares it; `epic_remote`: the Jira id of its epic's issue ("" when
    it has no epic, or the epic has no issue); `release`: the name of its release (a story's
    release is its epic's, docs/decisions/1717)."""
    return {
        "title": story.title,
        "description": normalize(story.description or ""),
        "status": story.status,
        "points": story.points,
        "assignee": (emails.get(story.assignee_id) or "").lower() if story.assignee_id else "",
        "labels": sorted(str(x) for x in story.labels or []),
        "epic": epic_remote,
        "release": release,
    }


def epic_local_repr(epic, *, release: str = "") -> dict:
    return {"title": epic.title, "description": normalize(epic.description or ""), "status": epic.status,
            "release": release}


def fix_version_name(fields: dict) -> str:
    """The release an issue's fixVersions name: the last one (Jira lists them oldest first); ""
    when none. One release per story or epic in PMHub, so further ones are not taken."""
    versions = [v for v in fields.get("fixVersions") or [] if isinstance(v, dict) and v.get("name")]
    return str(versions[-1]["name"]) if versions else ""


def remote_repr(fields: dict, *, points_field: str) -> dict:
    status = fields.get("status") or {}
    points = fields.get(points_field) if points_field else None
    assignee = fields.get("assignee") or {}
    return {
        "title": str(fields.get("summary") or ""),
        "description": adf_to_md(fields.get("description")),
        "status": str(status.get("id") or ""),
        "points": None if points is None else (int(round(points)) if isinstance(points, int | float) else None),
        "assignee": str(assignee.get("emailAddress") or "").lower() if isinstance(assignee, dict) else "",
        "labels": sorted(str(x) for x in fields.get("labels") or []),
        "epic": str((fields.get("parent") or {}).get("id") or "") if isinstance(fields.get("parent"), dict) else "",
        "release": fix_version_name(fields),
    }


def remote_after_push(field: str, local_value, *, link) -> object:
    """What Jira will hold (in remote_repr terms) after we send `local_value`."""
    if field == "description":
        return normalize(local_value or "")
    if field == "status":
        return str((link.status_out or {}).get(local_value) or "")
    if field == "labels":
        return labels_to_jira(local_value)
    return local_value


def equivalent(field: str, local_value, remote_value, *, link) -> bool:
    """Both sides already agree (no conflict, nothing to send): compare in Jira's terms, and for
    the status also PMHub's (a Jira status that maps to the story's status)."""
    if field == "status" and (link.status_in or {}).get(remote_value) == local_value:
        return True
    return fingerprint(remote_after_push(field, local_value, link=link)) == fingerprint(remote_value)


def jira_fields_for(field: str, value, *, link, account_of, version_of=None) -> tuple[dict, str | None]:
    """The Jira `fields` payload for one PMHub value, or ({}, reason) when it cannot be sent.
    `account_of(email)` finds a Jira accountId (None: unmatched); `version_of(name)` the id of the
    project's version of that name, created when missing. Status goes by transition."""
    if field == "title":
        return {"summary": value}, None
    if field == "description":
        return {"description": md_to_adf(value) if value else None}, None
    if field == "points":
        if not link.points_field:
            return {}, points_missing(link.connection.kind)
        return {link.points_field: value}, None
    if field == "labels":
        return {"labels": labels_to_jira(value)}, None
    if field == "epic":  # the story's epic is the parent (Jira Cloud's epic link)
        return {"parent": {"id": value} if value else None}, None
    if field == "release":
        if not value:
            return {"fixVersions": []}, None
        version_id = version_of(value) if version_of else None
        if version_id is None:
            return {}, f"no {link.provider_label} version {value} in the project and none could be created"
        return {"fixVersions": [{"id": str(version_id)}]}, None
    if field == "assignee":
        if not value:
            return {"assignee": None}, None
        account = account_of(value)
        if account is None:
            return {}, f"{value} has no {link.provider_label} account (not guessed)"
        return {"assignee": {"accountId": account}}, None
    return {}, None


def propose_status_maps(*, workflow: list[dict], remote_statuses: list[dict]) -> tuple[dict, dict]:
    """Status maps proposed from both workflows by category: each Jira status goes to the first
    PMHub status of its category (same name first), each PMHub status to the first Jira status of
    its category (same name first). The admin overrides any single status afterwards."""
    def same(a: str, b: str) -> bool:
        return a.strip().lower().replace("_", " ") == b.strip().lower().replace("_", " ")

    status_in, status_out = {}, {}
    for remote in remote_statuses:
        category = JIRA_TO_CATEGORY.get(remote["category"], "active")
        candidates = [s for s in workflow if s["category"] == category]
        named = [s for s in candidates if same(s["label"], remote["name"]) or same(s["key"], remote["name"])]
        pick = (named or candidates or [None])[0]
        if pick:
            status_in[remote["id"]] = pick["key"]
    for local in workflow:
        category = CATEGORY_TO_JIRA.get(local["category"], "indeterminate")
        candidates = [r for r in remote_statuses if r["category"] == category]
        named = [r for r in candidates if same(r["name"], local["label"]) or same(r["name"], local["key"])]
        pick = (named or candidates or [None])[0]
        if pick:
            status_out[local["key"]] = pick["id"]
    return status_in, status_out
