"""The GitHub issues client of the one sync engine (docs/decisions/1720): GitHub's REST API over
pmhub.outbound, answering in the engine's terms (issues shaped as Jira's REST answers them, errors as
JiraError). One connection syncs one repository: the connection's link names it (`owner/name`).

GitHub in the engine's terms: remote id = the issue number, key `#<number>`; status = `open`,
`closed`, or `label:<name>` (an open issue carrying a label named like a workflow status); labels =
the other labels; body = Markdown; assignee = the first assignee, as the e-mail the link's map gives
its login (`login@users.noreply.github.com` when unmapped: reported, never guessed).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import quote, urlencode

from pmhub.outbound import OutboundFailed, OutboundRefused, outbound_request

from ..jira.adf import adf_to_md
from ..jira.client import JiraError
from .auth import API_VERSION, TIMEOUT, USER_AGENT, installation_token, installation_token_forget

NOREPLY = "@users.noreply.github.com"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
PAGE = 100


def _message(body: bytes) -> str:
    try:
        data = json.loads(body.decode("utf-8", "replace") or "{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            parts.append(" ".join(str(error.get(k)) for k in ("field", "code", "message") if error.get(k)))
    return "; ".join(p for p in parts if p)[:240]


@dataclass
class GitHubIssuesClient:
    api_url: str
    repo: str  # owner/name ("" before the connection is linked)
    token: str = ""
    installation: object = None
    link: object = None
    _labels: dict = field(default_factory=dict)

    @classmethod
    def for_connection(cls, connection) -> GitHubIssuesClient:
        from pmhub.secretbox import unseal

        from .models import GitHubSyncAuth

        link = connection.links.order_by("id").first()
        auth = GitHubSyncAuth.objects.select_related("installation__app").filter(connection=connection).first()
        return cls(
            api_url=connection.base_url.rstrip("/"),
            repo=link.project_key if link else "",
            token="" if auth else unseal(connection.token_sealed),
            installation=auth.installation if auth else None,
            link=link,
        )

    # --- HTTP ---------------------------------------------------------------------------------
    def _bearer(self) -> str:
        return installation_token(self.installation) if self.installation is not None else self.token

    def _send(self, method: str, url: str, body=None):
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Authorization": f"Bearer {self._bearer()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            return outbound_request(method, url, headers=headers, body=data, timeout=TIMEOUT)
        except OutboundRefused as exc:
            raise JiraError(f"GitHub's address is not allowed: {exc.reason}.", kind="client") from None
        except OutboundFailed as exc:
            raise JiraError(f"GitHub did not answer ({exc.reason}).", kind="transient") from None

    def request(self, method: str, path: str, *, params: dict | None = None, body=None, url: str | None = None):
        """(JSON, next page URL or None). Errors in the engine's kinds; 301/404/410 (transferred,
        missing, deleted) are status 404: the engine unlinks."""
        if url is None:
            url = self.api_url + path
            if params:
                url += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        reply = self._send(method, url, body)
        if reply.status == 401 and self.installation is not None:  # a revoked installation token: a new one
            installation_token_forget(self.installation)
            reply = self._send(method, url, body)
        status = reply.status
        if status in (200, 201, 204):
            found = _NEXT.search(reply.headers.get("link") or "")
            payload = json.loads(reply.body.decode("utf-8")) if reply.body.strip() else None
            return payload, (found.group(1) if found else None)
        detail = _message(reply.body)
        if status == 401:
            raise JiraError(
                "GitHub refused the credentials: the token has expired or was revoked.", kind="auth", status=status
            )
        # Primary and secondary rate limits: 429, or 403 with Retry-After / no requests left.
        if status == 429 or (
            status == 403 and (reply.retry_after is not None or reply.headers.get("x-ratelimit-remaining") == "0")
        ):
            reset = reply.retry_after
            if reset is None and (reply.headers.get("x-ratelimit-reset") or "").isdigit():
                import time

                reset = max(int(reply.headers["x-ratelimit-reset"]) - time.time(), 1)
            raise JiraError(
                f"GitHub asked us to slow down ({status}, rate limit).", kind="rate", status=status, retry_after=reset
            )
        if status >= 500:
            raise JiraError(
                f"GitHub had an error ({status}).", kind="transient", status=status, retry_after=reply.retry_after
            )
        if status in (301, 404, 410):
            what = {301: "moved to another repository", 410: "deleted"}.get(status, "not found")
            raise JiraError(f"Not on GitHub any more ({status}: {what}).", kind="client", status=404)
        if status == 403:
            raise JiraError(
                "The GitHub token may not do this (403)" + (f": {detail}" if detail else "."),
                kind="client",
                status=status,
            )
        raise JiraError(
            f"GitHub refused the request ({status})" + (f": {detail}" if detail else "."), kind="client", status=status
        )

    def _get(self, path: str, **params):
        return self.request("GET", path, params=params or None)[0]

    def _pages(self, path: str, params: dict):
        payload, next_url = self.request("GET", path, params=params)
        while True:
            yield from payload or []
            if not next_url:
                return
            payload, next_url = self.request("GET", "", url=next_url)

    def _repo_path(self, repo: str | None = None) -> str:
        owner, _, name = (repo or self.repo).partition("/")
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    # --- the engine's terms -----------------------------------------------------------------------
    def _status_labels(self) -> dict:
        """{label name (lower): status id} of the link's status labels (after discovery)."""
        if not self._labels and self.link is not None:
            self._labels = {
                s["name"].lower(): s["id"] for s in self.link.remote_statuses or [] if str(s["id"]).startswith("label:")
            }
        return self._labels

    def _emails(self) -> dict:
        """{login (lower): e-mail} from the link's map (e-mail -> login, kept by the admin)."""
        mapping = (self.link.user_map if self.link is not None else None) or {}
        return {str(login).lower(): email for email, login in mapping.items() if login}

    def engine_issue(self, issue: dict) -> dict:
        names = [str(x.get("name") if isinstance(x, dict) else x) for x in issue.get("labels") or []]
        status_labels = self._status_labels()
        status = str(issue.get("state") or "open")
        others = []
        for name in names:
            if name.lower() in status_labels:
                if status == "open":
                    status = status_labels[name.lower()]
            else:
                others.append(name)
        assignees = issue.get("assignees") or ([issue["assignee"]] if issue.get("assignee") else [])
        assignee = None
        if assignees:
            login = str(assignees[0].get("login") or "")
            assignee = {"emailAddress": self._emails().get(login.lower()) or f"{login}{NOREPLY}", "accountId": login}
        number = int(issue["number"])
        return {
            "id": str(number),
            "key": f"#{number}",
            "fields": {
                "summary": issue.get("title") or "",
                "description": issue.get("body") or None,
                "status": {"id": status},
                "assignee": assignee,
                "labels": sorted(others),
                "updated": issue.get("updated_at"),
                "issuetype": {"name": "Issue"},
                "project": {"key": self.repo},
                "parent": None,
                "html_url": issue.get("html_url"),
            },
        }

    @staticmethod
    def number(key: str) -> int:
        return int(str(key).lstrip("#"))

    # --- operations the engine calls --------------------------------------------------------------
    def myself(self) -> dict:
        if self.installation is not None:
            installation_token(self.installation)  # the exchange is the test
            return {"displayName": f"{self.installation} (GitHub App installation)"}
        me = self._get("/user") or {}
        return {"displayName": str(me.get("login") or "")}

    def projects(self, *, max_results: int = 50) -> list[dict]:
        if self.installation is not None:
            page = self._get("/installation/repositories", per_page=min(max_results, 100)) or {}
            return [{"key": r.get("full_name")} for r in page.get("repositories") or []]
        if self.repo:
            return [{"key": (self._get(self._repo_path()) or {}).get("full_name") or self.repo}]
        return []

    def project(self, key: str) -> dict:
        repo = self._get(self._repo_path(key)) or {}
        return {"id": str(repo.get("id") or ""), "key": repo.get("full_name") or key}

    def project_statuses(self, key: str) -> list[dict]:
        """open and closed, and a status per label named like a status of the product's workflow."""
        from backlog.services import workflow_of

        names = set()
        if self.link is not None:
            for s in workflow_of(self.link.product):
                names |= {s["label"].strip().lower(), s["key"].replace("_", " ").lower()}
        statuses = [{"id": "open", "name": "Open", "statusCategory": {"key": "new"}}]
        for label in self._pages(self._repo_path(key) + "/labels", {"per_page": PAGE}):
            name = str(label.get("name") or "")
            if name.strip().lower() in names:
                statuses.append({"id": f"label:{name}", "name": name, "statusCategory": {"key": "indeterminate"}})
        statuses.append({"id": "closed", "name": "Closed", "statusCategory": {"key": "done"}})
        return [{"name": (self.link.story_issue_type if self.link else "Issue"), "statuses": statuses}]

    def fields(self) -> list[dict]:
        return []  # no story points field on GitHub issues

    def users_by_email(self, email: str) -> list[dict]:
        return []  # GitHub finds no one by e-mail: the link's map (e-mail -> login) says who is who

    def issue(self, key: str, fields=None) -> dict:
        raw = self._get(f"{self._repo_path()}/issues/{self.number(key)}") or {}
        if raw.get("pull_request"):
            raise JiraError("This number is a pull request, not an issue.", kind="client", status=404)
        return self.engine_issue(raw)

    def _body(self, fields: dict, *, current_labels: list[str] | None = None) -> dict:
        body = {}
        if "summary" in fields:
            body["title"] = str(fields["summary"] or "")[:256]
        if "description" in fields:
            body["body"] = adf_to_md(fields["description"]) if fields["description"] else ""
        if "labels" in fields:
            keep = [n for n in current_labels or [] if n.lower() in self._status_labels()]
            body["labels"] = keep + [n for n in fields["labels"] if n not in keep]
        if "assignee" in fields:
            account = (fields["assignee"] or {}).get("accountId")
            body["assignees"] = [account] if account else []
        return body

    def issue_create(self, fields: dict) -> dict:
        created, _ = self.request("POST", f"{self._repo_path()}/issues", body=self._body(fields))
        return {"id": str(created["number"]), "key": f"#{created['number']}"}

    def _labels_now(self, number: int) -> tuple[list[str], str]:
        raw = self._get(f"{self._repo_path()}/issues/{number}") or {}
        return [str(x.get("name") if isinstance(x, dict) else x) for x in raw.get("labels") or []], raw.get("state")

    def issue_update(self, key: str, fields: dict) -> None:
        number = self.number(key)
        current = self._labels_now(number)[0] if "labels" in fields else None
        body = self._body(fields, current_labels=current)
        if body:
            self.request("PATCH", f"{self._repo_path()}/issues/{number}", body=body)

    def issue_delete(self, key: str) -> None:
        """GitHub's REST API deletes no issue: "delete on the other side" closes it as not planned."""
        self.request(
            "PATCH",
            f"{self._repo_path()}/issues/{self.number(key)}",
            body={"state": "closed", "state_reason": "not_planned"},
        )

    def transitions(self, key: str) -> list[dict]:
        ids = ["open", "closed", *self._status_labels().values()]
        return [{"id": i, "to": {"id": i}} for i in ids]

    def transition(self, key: str, transition_id: str) -> None:
        number = self.number(key)
        labels, state = self._labels_now(number)
        status_labels = self._status_labels()
        others = [n for n in labels if n.lower() not in status_labels]
        if transition_id == "closed":
            body = {"state": "closed", "state_reason": "completed"}
        elif transition_id == "open":
            body = {"state": "open", "labels": others}
        else:
            body = {"state": "open", "labels": others + [transition_id[len("label:") :]]}
        if body["state"] == state and body.get("labels", labels) == labels:
            return  # already there (a new issue is open): no write
        self.request("PATCH", f"{self._repo_path()}/issues/{number}", body=body)

    def _issues(self, params: dict):
        for raw in self._pages(f"{self._repo_path()}/issues", {"state": "all", "per_page": PAGE, **params}):
            if not raw.get("pull_request"):
                yield self.engine_issue(raw)

    def search_link(self, link, fields=None):
        """An import: every issue of the repository (open and closed), oldest first, page by page
        (the Link header's rel="next"); pull requests are left out."""
        yield from self._issues({"sort": "created", "direction": "asc"})

    def updated_since(self, link, since, fields=None):
        yield from self._issues(
            {"sort": "updated", "direction": "asc", "since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
