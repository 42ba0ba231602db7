"""What the sync pages and messages call the other side (docs/decisions/1722).

One sync engine serves Jira and GitHub issues (1720); its stored codes stay provider-neutral or
Jira-named (`to_jira`, rule `jira`, direction `in`), and every label people read is derived here,
from the connection's kind: forms, pages, log lines and notifications ask this module, never an
`if kind == "github"` of their own.
"""

from __future__ import annotations

GITHUB_KINDS = frozenset({"github"})


def provider_label(kind: str) -> str:
    """ "GitHub" or "Jira": the name of the provider of a connection of that kind."""
    return "GitHub" if kind in GITHUB_KINDS else "Jira"


def is_github(kind: str) -> bool:
    return kind in GITHUB_KINDS


def direction_choices(kind: str) -> list[tuple[str, str]]:
    """The field directions (stored codes unchanged) as people of this provider read them."""
    p = provider_label(kind)
    return [("both", "Both ways"), ("to_jira", f"PMHub to {p}"), ("to_pmhub", f"{p} to PMHub"), ("once", "Set once")]


def rule_choices(kind: str) -> list[tuple[str, str]]:
    return [("later", "Later change wins"), ("pmhub", "PMHub wins"), ("jira", f"{provider_label(kind)} wins")]


def log_direction_label(direction: str, kind: str) -> str:
    """A sync log row's direction: "GitHub to PMHub", "PMHub to Jira", "Import", "Connection test"."""
    p = provider_label(kind)
    return {"out": f"PMHub to {p}", "in": f"{p} to PMHub", "import": "Import", "check": "Connection test"}.get(
        direction, str(direction).replace("_", " ").capitalize()
    )


def synced_fields(kind: str) -> tuple[str, ...]:
    """The fields a link of this provider can sync. GitHub issues have no story points, no epic link,
    and no epics (a release syncs as an epic's fix version only), so not those three."""
    from .models import SYNC_FIELDS

    if is_github(kind):
        return tuple(f for f in SYNC_FIELDS if f not in ("points", "epic", "release"))
    return SYNC_FIELDS


def terms(kind: str) -> dict:
    """The words of the pages for this provider (templates read them as `terms.x`)."""
    github = is_github(kind)
    p = provider_label(kind)
    return {
        "provider": p,
        "github": github,
        "project": "repository" if github else "Jira project",
        "project_title": "Repository" if github else "Jira project",
        "project_key_label": "Repository (owner/name)" if github else "Jira project key",
        "project_key_help": "For example acme/web: the repository whose issues sync." if github else "For example ENG.",
        "connections_title": f"{p} connections",
        "webhook_title": f"Add the webhook in {p}",
        "statuses_empty": f"{p}'s statuses appear here once they have been read.",
    }


def points_missing(kind: str) -> str:
    """Why points are not synced: Jira has no story points field on the project; GitHub has none at all."""
    if is_github(kind):
        return "GitHub issues have no story points: points are not synced"
    return "no story points field found in Jira: points are not synced"


def default_issue_types(kind: str) -> tuple[str, str]:
    """(story type, epic type) of a new link when the page does not ask (GitHub has one kind: Issue)."""
    return ("Issue", "Epic") if is_github(kind) else ("Story", "Epic")
