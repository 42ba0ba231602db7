"""A small Jira REST client over pmhub.outbound (the one outbound policy: public addresses only,
vetted at send time, no redirects; operators allow an internal Data Center host with
OUTBOUND_ALLOWED_HOSTS). Jira Cloud: REST v3, basic auth with e-mail + API token, ADF descriptions,
`search/jql` with nextPageToken paging. Data Center: REST v2 with a personal access token (Bearer),
wiki-markup descriptions, people by username (no accountId), `search` with startAt paging. The Data
Center client speaks the engine's (Cloud's) terms at its boundary (docs/decisions/1718): descriptions
are read as ADF (wiki_to_adf) and written as wiki markup (adf_to_wiki); an assignee written as
{"accountId": x} goes as {"name": x} (the engine's account lookup gives usernames there); the epic
link, Cloud's `parent: {id}`, is Data Center's *Epic Link* custom field holding the epic's key (the
field found once per client in GET /field by its schema): `parent` is written as it and read from it.

Every failure is a JiraError with a sentence people can act on; `kind` says what the sync does
with it: "auth" (token expired or revoked: stop and show), "rate" (429: wait Retry-After),
"transient" (5xx, timeout: retry with backoff), "client" (400/403/404: log, do not retry).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from pmhub.outbound import OutboundFailed, OutboundRefused, OutboundSession, outbound_request

from .wiki import adf_to_wiki, wiki_to_adf

EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"  # Data Center's Epic Link custom field
TIMEOUT = 20.0
USER_AGENT = "PMHub-Jira/1"


class JiraError(Exception):
    def __init__(self, message: str, *, kind: str = "client", status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.message, self.kind, self.status, self.retry_after = message, kind, status, retry_after


def _jira_messages(body: bytes) -> str:
    try:
        data = json.loads(body.decode("utf-8", "replace") or "{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(m) for m in data.get("errorMessages") or [] if m]
    errors = data.get("errors")
    parts += [f"{k}: {v}" for k, v in errors.items()] if isinstance(errors, dict) else []
    return "; ".join(parts)[:240]


_CLIENTS: dict[tuple, JiraClient] = {}  # per worker process: JiraClient.for_connection


@dataclass
class JiraClient:
    base_url: str
    kind: str  # "cloud" | "dc"
    token: str
    email: str = ""

    session: OutboundSession | None = None  # connections kept alive between requests (the worker's clients)
    connection_id: int | None = None  # its keys and ids are looked up in the mapping table first
    _epic_field: str | None = field(default=None, init=False, repr=False)  # None: not looked up yet
    _keys: dict = field(default_factory=dict, init=False, repr=False)  # Data Center: issue key <-> id seen

    @classmethod
    def for_connection(cls, connection) -> JiraClient:
        """The worker process's client of this connection: kept between tasks (its HTTP connections
        stay alive, the token is unsealed once); a changed URL, kind, e-mail or token makes a new one."""
        from pmhub.secretbox import unseal

        key = (connection.id, connection.base_url, connection.kind, connection.email, connection.token_sealed)
        client = _CLIENTS.get(key)
        if client is None:
            if len(_CLIENTS) >= 64:
                for old in _CLIENTS.values():
                    old.session.close()
                _CLIENTS.clear()
            client = _CLIENTS[key] = cls(base_url=connection.base_url.rstrip("/"), kind=connection.kind,
                                         token=unseal(connection.token_sealed), email=connection.email,
                                         session=OutboundSession(), connection_id=connection.id)
        return client

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.kind == "cloud" else "/rest/api/2"

    def _auth(self) -> str:
        if self.kind == "cloud":
            raw = f"{self.email}:{self.token}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        return f"Bearer {self.token}"

    def request(self, method: str, path: str, *, params: dict | None = None, body=None):
        url = self.base_url + path
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Authorization": self._auth(), "Accept": "application/json", "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            send = self.session.request if self.session is not None else outbound_request
            reply = send(method, url, headers=headers, body=data, timeout=TIMEOUT)
        except OutboundRefused as exc:
            raise JiraError(f"Jira's address is not allowed: {exc.reason}.", kind="client") from None
        except OutboundFailed as exc:
            raise JiraError(f"Jira did not answer ({exc.reason}).", kind="transient") from None
        status = reply.status
        if status in (200, 201, 204):
            if not reply.body.strip():
                return None
            try:
                return json.loads(reply.body.decode("utf-8"))
            except ValueError:
                raise JiraError("Jira answered with something that is not JSON.", kind="transient",
                                status=status) from None
        detail = _jira_messages(reply.body)
        if status == 401:
            raise JiraError("Jira refused the credentials: the token has expired or was revoked, or the e-mail "
                            "does not match it.", kind="auth", status=status)
        if status == 429:
            raise JiraError("Jira asked us to slow down (429).", kind="rate", status=status,
                            retry_after=reply.retry_after)
        if status >= 500:
            raise JiraError(f"Jira had an error ({status}).", kind="transient", status=status,
                            retry_after=reply.retry_after)
        if status == 403:
            raise JiraError("The Jira account may not do this (403)" + (f": {detail}" if detail else "."),
                            kind="client", status=status)
        if status == 404:
            raise JiraError("Not found in Jira (404)" + (f": {detail}" if detail else "."), kind="client",
                            status=status)
        if 300 <= status < 400:
            raise JiraError(f"Jira redirected ({status}): check the site URL.", kind="client", status=status)
        raise JiraError(f"Jira refused the request ({status})" + (f": {detail}" if detail else "."),
                        kind="client", status=status)

    # --- operations (each one is in Jira's published OpenAPI description; tests check that) ---
    def myself(self) -> dict:
        return self.request("GET", f"{self.api}/myself") or {}

    def projects(self, *, max_results: int = 50) -> list[dict]:
        if self.kind == "cloud":
            page = self.request("GET", f"{self.api}/project/search", params={"maxResults": max_results}) or {}
            return list(page.get("values") or [])
        return list(self.request("GET", f"{self.api}/project") or [])[:max_results]

    def project(self, key: str) -> dict:
        return self.request("GET", f"{self.api}/project/{quote(key, safe='')}") or {}

    def project_statuses(self, key: str) -> list[dict]:
        return list(self.request("GET", f"{self.api}/project/{quote(key, safe='')}/statuses") or [])

    def project_versions(self, key: str) -> list[dict]:
        return list(self.request("GET", f"{self.api}/project/{quote(key, safe='')}/versions") or [])

    def version_create(self, name: str, project_id: str) -> dict:
        return self.request("POST", f"{self.api}/version", body={"name": name, "projectId": int(project_id)}) or {}

    def fields(self) -> list[dict]:
        return list(self.request("GET", f"{self.api}/field") or [])

    def users_by_email(self, email: str) -> list[dict]:
        """Cloud: `query` matches the e-mail; Data Center: `username` matches username, name or
        e-mail (people have a username and key there, no accountId)."""
        param = "query" if self.kind == "cloud" else "username"
        return list(self.request("GET", f"{self.api}/user/search", params={param: email}) or [])

    # --- Data Center's epic link: the Epic Link custom field, the epic's key ---
    def epic_link_field(self) -> str:
        """The id of Data Center's Epic Link field, found once per client in GET /field by its
        schema (ids differ between sites); "" when the site has none (no Jira Software)."""
        if self._epic_field is None:
            self._epic_field = next((str(f["id"]) for f in self.fields() if isinstance(f, dict) and f.get("id")
                                     and (f.get("schema") or {}).get("custom") == EPIC_LINK_SCHEMA), "")
        return self._epic_field

    def holds_epic(self) -> bool:
        """Whether the engine's epic link (an issue's parent) can be synced with this site."""
        return self.kind != "dc" or bool(self.epic_link_field())

    def _other(self, *, remote_id: str = "", remote_key: str = "") -> str:
        """An issue's key from its id (or its id from its key): the mapping table first, else Jira."""
        from .models import JiraIssueMap

        if self._keys.get(remote_id or remote_key):
            return self._keys[remote_id or remote_key]
        if self.connection_id is not None:
            rows = JiraIssueMap.objects.filter(link__connection_id=self.connection_id, unlinked_at=None)
            rows = rows.filter(remote_id=remote_id) if remote_id else rows.filter(remote_key=remote_key)
            found = rows.values_list("remote_key" if remote_id else "remote_id", flat=True).first()
            if found:
                return found
        issue = self.request("GET", f"{self.api}/issue/{quote(remote_id or remote_key, safe='')}",
                             params={"fields": "summary"}) or {}
        found = str(issue.get("key" if remote_id else "id") or "")
        if not found:
            raise JiraError(f"Jira did not name issue {remote_id or remote_key}.", kind="transient")
        self._remember(issue)
        return found

    def _remember(self, issue: dict) -> None:
        """An issue's key and id as read (an import reads the epics first: their stories' Epic Links
        are found here, not one GET each). Ids never change; a moved issue's old key stays its alias."""
        if issue.get("id") and issue.get("key"):
            if len(self._keys) >= 20000:
                self._keys.clear()
            self._keys[str(issue["id"])], self._keys[str(issue["key"])] = str(issue["key"]), str(issue["id"])

    def _asked(self, fields: list[str]) -> list[str]:
        """Data Center: the Epic Link field is asked for in place of `parent`."""
        if self.kind != "dc" or "parent" not in fields:
            return fields
        epic = self.epic_link_field()
        return [f for f in fields if f != "parent"] + ([epic] if epic else [])

    def _read(self, issue: dict) -> dict:
        """Data Center's issue in the engine's terms: a wiki-markup description as ADF, the Epic
        Link (the epic's key) as `parent: {id, key}`."""
        fields = issue.get("fields") if isinstance(issue, dict) else None
        if self.kind == "dc" and isinstance(fields, dict):
            self._remember(issue)
            if isinstance(fields.get("description"), str):
                fields["description"] = wiki_to_adf(fields["description"])
            if self._epic_field and self._epic_field in fields:
                key = fields.pop(self._epic_field)
                fields["parent"] = {"id": self._other(remote_key=key), "key": key} \
                    if isinstance(key, str) and key else None
        return issue

    def _write(self, fields: dict) -> dict:
        """The engine's fields as Data Center takes them: wiki markup, people by username, the
        parent as the Epic Link field with the epic's key."""
        if self.kind != "dc":
            return fields
        out = dict(fields)
        if isinstance(out.get("description"), dict):
            out["description"] = adf_to_wiki(out["description"])
        if isinstance(out.get("assignee"), dict) and "accountId" in out["assignee"]:
            out["assignee"] = {"name": out["assignee"]["accountId"]}
        if "parent" in out:
            parent, epic = out.pop("parent"), self.epic_link_field()
            if not epic:
                raise JiraError("This Jira has no Epic Link field (Jira Software): the epic cannot be set.")
            out[epic] = self._other(remote_id=str(parent["id"])) if isinstance(parent, dict) and parent.get("id") \
                else None
        return out

    def issue(self, key: str, fields: list[str]) -> dict:
        return self._read(self.request("GET", f"{self.api}/issue/{quote(key, safe='')}",
                                       params={"fields": ",".join(self._asked(fields))}) or {})

    def issue_create(self, fields: dict) -> dict:
        return self.request("POST", f"{self.api}/issue", body={"fields": self._write(fields)}) or {}

    def issue_update(self, key: str, fields: dict) -> None:
        self.request("PUT", f"{self.api}/issue/{quote(key, safe='')}", body={"fields": self._write(fields)})

    def issue_delete(self, key: str) -> None:
        self.request("DELETE", f"{self.api}/issue/{quote(key, safe='')}")

    def transitions(self, key: str) -> list[dict]:
        return list((self.request("GET", f"{self.api}/issue/{quote(key, safe='')}/transitions") or {})
                    .get("transitions") or [])

    def transition(self, key: str, transition_id: str) -> None:
        self.request("POST", f"{self.api}/issue/{quote(key, safe='')}/transitions",
                     body={"transition": {"id": transition_id}})

    def search(self, jql: str, fields: list[str], *, page_size: int = 100):
        """Every issue the JQL finds, page after page: Cloud's search/jql follows nextPageToken
        (the old startAt search is being removed); Data Center pages with startAt."""
        if self.kind == "cloud":
            token = None
            while True:
                page = self.request("GET", f"{self.api}/search/jql", params={
                    "jql": jql, "fields": ",".join(fields), "maxResults": page_size, "nextPageToken": token}) or {}
                yield from page.get("issues") or []
                token = page.get("nextPageToken")
                if page.get("isLast") or not token:
                    return
        start, fields = 0, self._asked(fields)
        while True:
            page = self.request("GET", f"{self.api}/search", params={
                "jql": jql, "fields": ",".join(fields), "maxResults": page_size, "startAt": start}) or {}
            issues = [self._read(i) for i in page.get("issues") or []]
            yield from issues
            start += len(issues)
            if not issues or start >= int(page.get("total") or 0):
                return

    # --- the engine's provider operations (integrations/jira/sync.py: client_for) ---
    def search_link(self, link, fields: list[str]):
        """What an import of the link reads: epics first (a story's parent exists when the story is
        imported), then the rest, narrowed by the admin's JQL."""
        base = f'project = "{link.project_key}"' + (f" AND ({link.jql})" if link.jql else "")
        kind = link.epic_issue_type.replace('"', "")
        for jql in (f'{base} AND issuetype = "{kind}" ORDER BY key ASC',
                    f'{base} AND issuetype != "{kind}" ORDER BY key ASC'):
            yield from self.search(jql, fields)

    def updated_since(self, link, since: datetime, fields: list[str]):
        """What a reconcile reads: every issue of the project updated since `since`."""
        jql = (f'project = "{link.project_key}" AND updated >= "{since.astimezone(UTC):%Y-%m-%d %H:%M}" '
               "ORDER BY updated ASC")
        yield from self.search(jql, fields)
