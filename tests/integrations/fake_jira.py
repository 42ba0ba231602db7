"""A stateful fake Jira Cloud site: a real HTTP server on 127.0.0.1 that keeps projects, statuses,
fields, users and issues, and checks every request it receives and every response it sends against
Atlassian's published OpenAPI description (tests/integrations/data/, openapi_check.py). A request
the description does not allow is answered 400 and recorded in `violations`; the `fake_jira`
fixture fails the test when any were recorded, so the fake cannot drift into inventing an API.

Scripts: `rate_limit(n, retry_after)` answers the next n requests 429 with Retry-After;
`expire_token()` answers 401 until `renew_token(new)`; `fail_next(n, status)` answers 5xx.
Webhooks: `webhook(event, issue_id)` builds a delivery as Jira Cloud sends it (body after
Atlassian's published example, `X-Hub-Signature: sha256=<HMAC-SHA256 of the body>`,
`X-Atlassian-Webhook-Identifier`), for the test to post to PMHub.

`FakeJira(kind="dc")` is a Jira Data Center site instead: REST v2 paths only, a personal access
token (Bearer) only, descriptions in wiki markup, people by username/key (no accountId), `search`
with startAt/maxResults/total paging, webhooks without a delivery identifier header; it checks every
exchange against the description of Data Center's REST API v2 derived from Atlassian's published
documentation (tests/integrations/data/README.md says how and why derived).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from tests.integrations.openapi_check import Violation, jira_check, jira_dc_check

CATEGORIES = {"new": (2, "To Do", "blue-gray"), "indeterminate": (4, "In Progress", "yellow"),
              "done": (3, "Done", "green")}
DEFAULT_STATUSES = [("10000", "To Do", "new"), ("3", "In Progress", "indeterminate"),
                    ("10001", "In Review", "indeterminate"), ("10002", "Done", "done")]
ISSUE_TYPES = [("10001", "Story"), ("10000", "Epic"), ("10002", "Task"), ("10003", "Bug")]
POINTS_FIELD = "customfield_10016"
EPIC_LINK_FIELD = "customfield_10014"  # Data Center's Epic Link (Jira Software): the epic's key


def jira_time(at: datetime) -> str:
    """Jira's timestamp format: 2024-05-01T10:00:00.000+0000."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


class FakeJira:
    def __init__(self, *, email="pm@example.com", token="jira-token", project="ENG", delay: float = 0.0,
                 kind: str = "cloud"):
        self.lock = threading.RLock()
        self.kind = kind
        self.api = "/rest/api/3" if kind == "cloud" else "/rest/api/2"
        self.email, self.token = email, token
        self.violations: list[str] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.answers: list[tuple[float, str, str, int]] = []  # (monotonic time, method, path, status)
        self.writes: list[tuple[str, str, dict | None]] = []  # (method, path, body) of writes
        self.delay = delay
        self._script: list[tuple[int, dict]] = []
        self._expired = False
        self.users = [{"accountId": "5b10a2844c20165700ede21g", "emailAddress": email, "displayName": "Pat PM",
                       "name": email.split("@")[0], "key": "JIRAUSER10000"}]
        self.projects = {}
        self.connections = 0
        self.epic_link_listed = True  # False: a Data Center site without Jira Software's Epic Link field
        self.search_starts: list[str] = []  # Data Center searches: the startAt of each page asked for
        self.versions: list[dict] = []  # {id, name, project (key), released, archived}
        self.statuses = [{"id": i, "name": n, "category": c} for i, n, c in DEFAULT_STATUSES]
        self.issues: dict[str, dict] = {}
        self._next_id = 10000
        self._numbers: dict[str, int] = {}
        self.write_log: list[tuple[float, str, str, dict | None]] = []  # (monotonic time, method, path, body)
        self.clock_offset = timedelta(0)
        self.add_project(project)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections += 1  # TCP connections accepted (kept-alive ones serve many requests)

            def _serve(self):
                fake._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # --- state -------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def add_project(self, key: str, name: str | None = None) -> dict:
        project = {"id": str(10000 + len(self.projects)), "key": key, "name": name or f"{key} project"}
        self.projects[key] = project
        return project

    def add_version(self, name: str, *, project: str = "ENG", released: bool = False) -> dict:
        """A project version (a release in Jira's words) as a Jira admin would add it (no HTTP)."""
        with self.lock:
            version = {"id": str(10100 + len(self.versions)), "name": name, "project": project,
                       "released": released, "archived": False}
            self.versions.append(version)
            return version

    def version_named(self, name: str, project: str = "ENG") -> dict | None:
        return next((v for v in self.versions if v["project"] == project and v["name"] == name), None)

    def _version_json(self, version: dict) -> dict:
        return {"self": f"{self.url}{self.api}/version/{version['id']}", "id": version["id"], "name": version["name"],
                "archived": version["archived"], "released": version["released"],
                "projectId": int(self.projects[version["project"]]["id"])}

    def add_user(self, email: str, name: str) -> dict:
        user = {"accountId": uuid.uuid5(uuid.NAMESPACE_DNS, email).hex[:24], "emailAddress": email, "displayName": name,
                "name": email.split("@")[0], "key": f"JIRAUSER{10000 + len(self.users)}"}
        self.users.append(user)
        return user

    def _status(self, status_id: str) -> dict:
        s = next(s for s in self.statuses if s["id"] == status_id)
        cid, cname, colour = CATEGORIES[s["category"]]
        return {"id": s["id"], "name": s["name"], "self": f"{self.url}{self.api}/status/{s['id']}",
                "statusCategory": {"id": cid, "key": s["category"], "name": cname, "colorName": colour}}

    def _user(self, account_id: str | None) -> dict | None:
        user = next((u for u in self.users if u["accountId"] == account_id), None)
        if user is None:
            return None
        if self.kind == "dc":  # Data Center: username and key, no accountId
            return {"self": f"{self.url}{self.api}/user?username={user['name']}", "name": user["name"],
                    "key": user["key"], "emailAddress": user["emailAddress"], "displayName": user["displayName"],
                    "active": True, "timeZone": "UTC"}
        return {"accountId": user["accountId"], "emailAddress": user["emailAddress"],
                "displayName": user["displayName"], "active": True, "accountType": "atlassian"}

    def create_issue(self, *, project="ENG", summary="An issue", description=None, issue_type="Story",
                     status_id="10000", points=None, assignee=None, labels=(), parent=None,
                     fix_versions=()) -> dict:
        """Create an issue as a Jira user would (no HTTP: the test's hand in Jira)."""
        with self.lock:
            self._next_id += 1
            number = self._numbers[project] = self._numbers.get(project, 0) + 1
            issue = {"id": str(self._next_id), "key": f"{project}-{number}", "project": project,
                     "fields": {"summary": summary, "description": description, "issuetype": issue_type,
                                "status": status_id, POINTS_FIELD: points, "assignee": assignee,
                                "labels": list(labels), "parent": parent,
                                "fixVersions": [self.version_named(n, project)["id"] for n in fix_versions]},
                     "updated": self.now(), "created": self.now()}
            self.issues[issue["id"]] = issue
            return issue

    def edit_issue(self, key_or_id: str, **fields) -> dict:
        """A Jira user's edit (no HTTP): fields by their Jira ids (summary, status, labels, ...)."""
        with self.lock:
            issue = self.find(key_or_id)
            issue["fields"].update(fields)
            issue["updated"] = max(self.now(), issue["updated"] + timedelta(milliseconds=1))
            return issue

    def find(self, key_or_id: str) -> dict | None:
        return self.issues.get(key_or_id) or next((i for i in self.issues.values() if i["key"] == key_or_id), None)

    def _parent(self, issue_id: str | None) -> dict | None:
        parent = self.issues.get(issue_id) if issue_id else None
        if parent is None:
            return None
        kind = parent["fields"]["issuetype"]
        return {"id": parent["id"], "key": parent["key"], "self": f"{self.url}{self.api}/issue/{parent['id']}",
                "fields": {"summary": parent["fields"]["summary"], "status": self._status(parent["fields"]["status"]),
                           "issuetype": {"id": next(i for i, n in ISSUE_TYPES if n == kind), "name": kind}}}

    def issue_json(self, issue: dict, fields: list[str] | None = None) -> dict:
        f = issue["fields"]
        project = self.projects[issue["project"]]
        out = {
            "summary": f["summary"], "description": f["description"], "labels": list(f["labels"]),
            "issuetype": {"id": next(i for i, n in ISSUE_TYPES if n == f["issuetype"]), "name": f["issuetype"]},
            "status": self._status(f["status"]), POINTS_FIELD: f[POINTS_FIELD],
            "assignee": self._user(f["assignee"]), "updated": jira_time(issue["updated"]),
            "created": jira_time(issue["created"]),
            "project": {"id": project["id"], "key": project["key"], "name": project["name"]},
            "parent": self._parent(f.get("parent")),
            "fixVersions": [self._version_json(v) for vid in f.get("fixVersions") or []
                            for v in self.versions if v["id"] == vid],
        }
        if self.kind == "dc":  # the epic link is the Epic Link field (a key); a parent is a sub-task's
            epic = self.issues.get(f.get("parent") or "")
            out.pop("parent")
            out[EPIC_LINK_FIELD] = epic["key"] if epic else None
        if fields and "*all" not in fields and "*navigable" not in fields:
            out = {k: v for k, v in out.items() if k in fields}
        return {"id": issue["id"], "key": issue["key"], "self": f"{self.url}{self.api}/issue/{issue['id']}",
                "fields": out}

    # --- scripts -----------------------------------------------------------------------------
    def rate_limit(self, n: int = 1, retry_after: int = 2):
        self._script += [(429, {"Retry-After": str(retry_after)})] * n

    def fail_next(self, n: int = 1, status: int = 503):
        self._script += [(status, {})] * n

    def expire_token(self):
        self._expired = True

    def renew_token(self, token: str):
        self.token, self._expired = token, False

    def webhook(self, event: str, issue_id: str, *, secret: str, changed: tuple = ("summary",),
                identifier: str | None = None) -> tuple[bytes, dict]:
        """(body, headers) of a Jira Cloud webhook delivery for the issue."""
        issue = self.issues.get(issue_id)
        payload = {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": event,
            "issue_event_type_name": {"jira:issue_created": "issue_created", "jira:issue_deleted": "issue_deleted"}
            .get(event, "issue_generic"),
            "user": {"self": f"{self.url}/rest/api/2/user?accountId={self.users[0]['accountId']}",
                     "accountId": self.users[0]["accountId"], "displayName": self.users[0]["displayName"],
                     "active": True, "timeZone": "UTC", "accountType": "atlassian"} if self.kind == "cloud"
            else self._user(self.users[0]["accountId"]),
            "issue": self.issue_json(issue) if issue else {"id": issue_id, "key": "", "fields": {}},
        }
        if event == "jira:issue_updated":
            payload["changelog"] = {"id": str(int(time.time() * 1000)), "items": [
                {"field": f, "fieldtype": "jira", "fieldId": f, "from": None, "fromString": "",
                 "to": None, "toString": ""} for f in changed]}
        body = json.dumps(payload).encode()
        headers = {"X-Hub-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
                   "X-Atlassian-Webhook-Identifier": identifier or uuid.uuid4().hex,
                   "Content-Type": "application/json"}
        if self.kind == "dc":  # Data Center's webhooks carry no delivery identifier header
            del headers["X-Atlassian-Webhook-Identifier"]
        return body, headers

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # --- HTTP --------------------------------------------------------------------------------
    def _authorised(self, header: str | None) -> bool:
        if self._expired or not header:
            return False
        if header.startswith("Basic ") and self.kind == "cloud":
            try:
                email, _, token = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return hmac.compare_digest(email, self.email) and hmac.compare_digest(token, self.token)
        if header.startswith("Bearer "):
            return hmac.compare_digest(header[7:], self.token)
        return False

    def _handle(self, handler: BaseHTTPRequestHandler):
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        method = handler.command
        if self.delay:
            time.sleep(self.delay)
        status, body, headers, operation = 500, None, {}, None
        # Each kind is checked against its own description; Data Center's v2 paths are then routed
        # by the same code as Cloud's v3 ones (the differences are in the shapes, handled below).
        check = jira_check() if self.kind == "cloud" else jira_dc_check()
        checked_path = re.sub(r"^/rest/api/2/", "/rest/api/3/", path) if self.kind == "dc" else path
        try:
            body_in = json.loads(raw) if raw else None
            operation = check.request(method, path, query, body_in)
        except (Violation, ValueError) as exc:
            with self.lock:
                self.violations.append(f"{method} {path}: {exc}")
            return self._send(handler, 400, {"errorMessages": [f"fake: {exc}"], "errors": {}}, {})
        with self.lock:
            self.requests.append((method, path))
            if method != "GET":
                self.writes.append((method, path, body_in))
                self.write_log.append((time.monotonic(), method, path, body_in))
            if not self._authorised(handler.headers.get("Authorization")):
                status, body = 401, None
            elif self._script:
                status, headers = self._script.pop(0)
                body = {"errorMessages": ["Rate limit exceeded." if status == 429 else "Server error."], "errors": {}}
            else:
                status, body = self._route(method, checked_path, query, body_in)
        with self.lock:
            self.answers.append((time.monotonic(), method, path, status))
        if operation is not None:
            try:
                check.response(operation, status, body)
            except Violation as exc:
                with self.lock:
                    self.violations.append(f"{method} {path} answer: {exc}")
        self._send(handler, status, body, headers)

    def _send(self, handler, status: int, body, headers: dict):
        data = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Type", "application/json;charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        api = "/rest/api/3"
        q = {k: v[-1] for k, v in query.items()}
        if path == f"{api}/myself":
            return 200, self._user(self.users[0]["accountId"]) | {"self": f"{self.url}{self.api}/user", "timeZone": "UTC"}
        if path == f"{api}/project/search":
            values = list(self.projects.values())
            return 200, {"isLast": True, "maxResults": int(q.get("maxResults", 50)), "startAt": 0,
                         "total": len(values), "self": f"{self.url}{api}/project/search",
                         "values": [{**p, "self": f"{self.url}{api}/project/{p['id']}"} for p in values]}
        if path == f"{api}/project":
            return 200, [{**p, "self": f"{self.url}{api}/project/{p['id']}"} for p in self.projects.values()]
        m = re.fullmatch(rf"{api}/project/([^/]+)/statuses", path)
        if m:
            if m.group(1) not in self.projects:
                return 404, {"errorMessages": ["No project could be found with key."], "errors": {}}
            return 200, [{"id": tid, "name": name, "self": f"{self.url}{api}/issuetype/{tid}", "subtask": False,
                          "statuses": [self._status(s["id"]) | {"description": ""} for s in self.statuses]}
                         for tid, name in ISSUE_TYPES]
        m = re.fullmatch(rf"{api}/project/([^/]+)/versions", path)
        if m:
            if m.group(1) not in self.projects:
                return 404, {"errorMessages": ["No project could be found with key."], "errors": {}}
            return 200, [self._version_json(v) for v in self.versions if v["project"] == m.group(1)]
        if path == f"{api}/version" and method == "POST":
            return self._version_create(body or {})
        m = re.fullmatch(rf"{api}/project/([^/]+)", path)
        if m:
            p = self.projects.get(m.group(1)) or next((p for p in self.projects.values() if p["id"] == m.group(1)), None)
            if p is None:
                return 404, {"errorMessages": ["No project could be found."], "errors": {}}
            return 200, {**p, "self": f"{self.url}{api}/project/{p['id']}",
                         "issueTypes": [{"id": i, "name": n, "subtask": False} for i, n in ISSUE_TYPES]}
        if path == f"{api}/field":
            return 200, [f for f in [
                {"id": "summary", "key": "summary", "name": "Summary", "custom": False, "orderable": True,
                 "navigable": True, "searchable": True, "clauseNames": ["summary"],
                 "schema": {"type": "string", "system": "summary"}},
                {"id": "description", "key": "description", "name": "Description", "custom": False,
                 "orderable": True, "navigable": True, "searchable": True, "clauseNames": ["description"],
                 "schema": {"type": "string", "system": "description"}},
                {"id": "customfield_10014", "key": "customfield_10014", "name": "Epic Link", "custom": True,
                 "orderable": True, "navigable": True, "searchable": True, "clauseNames": ["cf[10014]", "Epic Link"],
                 "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link", "customId": 10014}},
                {"id": POINTS_FIELD, "key": POINTS_FIELD, "name": "Story point estimate", "custom": True,
                 "orderable": True, "navigable": True, "searchable": True,
                 "clauseNames": ["cf[10016]", "Story point estimate"],
                 "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points",
                            "customId": 10016}},
            ] if self.epic_link_listed or f["id"] != EPIC_LINK_FIELD]
        if path == f"{api}/user/search":
            needle = (q.get("query") or q.get("username") or "").lower()
            return 200, [self._user(u["accountId"]) for u in self.users if needle and needle == u["emailAddress"].lower()]
        if path == f"{api}/search/jql" and self.kind == "cloud":
            return self._search(q)
        if path == f"{api}/search" and self.kind == "dc":
            return self._search(q)
        if path == f"{api}/issue" and method == "POST":
            return self._create(body or {})
        m = re.fullmatch(rf"{api}/issue/([^/]+)/transitions", path)
        if m:
            issue = self.find(m.group(1))
            if issue is None:
                return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                             "errors": {}}
            if method == "GET":
                return 200, {"transitions": [{"id": str(100 + n), "name": s["name"], "to": self._status(s["id"]),
                                              "hasScreen": False, "isAvailable": True}
                                             for n, s in enumerate(self.statuses)]}
            tid = str(((body or {}).get("transition") or {}).get("id") or "")
            target = next((s for n, s in enumerate(self.statuses) if str(100 + n) == tid), None)
            if target is None:
                return 400, {"errorMessages": ["Transition id is not valid for this issue."], "errors": {}}
            issue["fields"]["status"] = target["id"]
            issue["updated"] = max(self.now(), issue["updated"] + timedelta(milliseconds=1))
            return 204, None
        m = re.fullmatch(rf"{api}/issue/([^/]+)", path)
        if m:
            issue = self.find(m.group(1))
            if issue is None:
                return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                             "errors": {}}
            if method == "GET":
                fields = [f for v in query.get("fields", []) for f in v.split(",")] or None
                return 200, self.issue_json(issue, fields)
            if method == "DELETE":
                del self.issues[issue["id"]]
                return 204, None
            if method == "PUT":
                errors = self._apply_fields(issue, (body or {}).get("fields") or {})
                if errors:
                    return 400, {"errorMessages": [], "errors": errors}
                issue["updated"] = max(self.now(), issue["updated"] + timedelta(milliseconds=1))
                return 204, None
        return 404, {"errorMessages": ["fake: not modelled"], "errors": {}}

    def _apply_fields(self, issue: dict, fields: dict) -> dict:
        errors = {}
        for name, value in fields.items():
            if name == "summary":
                if not isinstance(value, str) or not value.strip() or len(value) > 255:
                    errors[name] = "You must specify a summary of the issue."
                else:
                    issue["fields"]["summary"] = value
            elif name == "description" and self.kind == "dc":
                if value is not None and not isinstance(value, str):
                    errors[name] = "Operation value must be a string."
                else:
                    issue["fields"]["description"] = value
            elif name == "description":
                if value is not None and not (isinstance(value, dict) and value.get("type") == "doc"
                                              and value.get("version") == 1):
                    errors[name] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)."
                else:
                    issue["fields"]["description"] = value
            elif name == POINTS_FIELD:
                if value is not None and not isinstance(value, int | float):
                    errors[name] = "Operation value must be a number."
                else:
                    issue["fields"][POINTS_FIELD] = value
            elif name == "labels":
                if not isinstance(value, list) or any(not isinstance(v, str) or " " in v for v in value):
                    errors[name] = "Labels cannot contain spaces."
                else:
                    issue["fields"]["labels"] = value
            elif name == "assignee":
                account = (value or {}).get("accountId") if isinstance(value, dict) else None
                if self.kind == "dc" and isinstance(value, dict):  # Data Center: {"name": username}
                    account = next((u["accountId"] for u in self.users if u["name"] == value.get("name")), None)
                if value is not None and self._user(account) is None:
                    errors[name] = "User does not exist or you do not have permission to see it."
                else:
                    issue["fields"]["assignee"] = account
            elif name == EPIC_LINK_FIELD and self.kind == "dc":
                epic = self.find(value) if isinstance(value, str) and value else None
                if value is not None and (epic is None or epic["fields"]["issuetype"] != "Epic"
                                          or epic["project"] != issue["project"]):
                    errors[name] = f"The issue {value} is not an epic of this project."
                else:
                    issue["fields"]["parent"] = epic["id"] if epic else None
            elif name == "parent" and self.kind == "dc":  # Data Center: a parent is for sub-tasks only
                errors[name] = "Field 'parent' cannot be set. It is not on the appropriate screen, or unknown."
            elif name == "parent":
                ref = value if isinstance(value, dict) else None
                parent = self.find(str(ref.get("id") or ref.get("key") or "")) if ref else None
                if value is not None and (parent is None or parent["fields"]["issuetype"] != "Epic"):
                    errors[name] = "The parent issue must be an epic of this project."
                else:
                    issue["fields"]["parent"] = parent["id"] if parent else None
            elif name == "fixVersions":
                ids = []
                for ref in value if isinstance(value, list) else [None]:
                    ref = ref if isinstance(ref, dict) else {}
                    version = next((v for v in self.versions if v["project"] == issue["project"] and
                                    (v["id"] == str(ref.get("id") or "") or v["name"] == ref.get("name"))), None)
                    if version is None:
                        errors[name] = f"Version {ref.get('id') or ref.get('name')} is not valid for this project."
                        break
                    ids.append(version["id"])
                else:
                    issue["fields"]["fixVersions"] = ids
            elif name in ("project", "issuetype"):
                continue
            else:
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        return errors

    def _create(self, body: dict) -> tuple[int, object]:
        fields = body.get("fields") or {}
        project = ((fields.get("project") or {}).get("key")) or ""
        issue_type = (fields.get("issuetype") or {}).get("name") or ""
        if project not in self.projects:
            return 400, {"errorMessages": [], "errors": {"project": "valid project is required"}}
        if issue_type not in {n for _, n in ISSUE_TYPES}:
            return 400, {"errorMessages": [], "errors": {"issuetype": "valid issue type is required"}}
        issue = self.create_issue(project=project, summary="", issue_type=issue_type)
        errors = self._apply_fields(issue, fields)
        if errors or not issue["fields"]["summary"]:
            del self.issues[issue["id"]]
            return 400, {"errorMessages": [], "errors": errors or {"summary": "You must specify a summary."}}
        return 201, {"id": issue["id"], "key": issue["key"], "self": f"{self.url}{self.api}/issue/{issue['id']}"}

    def _version_create(self, body: dict) -> tuple[int, object]:
        project = next((k for k, p in self.projects.items() if str(p["id"]) == str(body.get("projectId") or "")
                        or k == body.get("project")), None)
        name = body.get("name")
        if project is None:
            return 404, {"errorMessages": ["Project not found."], "errors": {}}
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            return 400, {"errorMessages": [], "errors": {"name": "You must specify a valid version name"}}
        if self.version_named(name, project):
            return 400, {"errorMessages": [], "errors": {"name": "A version with this name already exists."}}
        return 201, self._version_json(self.add_version(name, project=project))

    def _search(self, q: dict) -> tuple[int, object]:
        jql = q.get("jql") or ""
        match = re.match(r'^\s*project\s*=\s*"?([A-Z][A-Z0-9_]*)"?(.*)$', jql, re.IGNORECASE)
        if not match:
            return 400, {"errorMessages": [f"fake: JQL not modelled: {jql}"], "errors": {}}
        project, rest = match.group(1), match.group(2)
        since = None
        m = re.search(r'updated\s*>=\s*"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"', rest)
        if m:
            since = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        m = re.search(r"issuetype\s+in\s*\(([^)]*)\)", rest, re.IGNORECASE)
        types = {t.strip().strip('"') for t in m.group(1).split(",")} if m else None
        m = re.search(r'issuetype\s*(!?=)\s*"([^"]*)"', rest, re.IGNORECASE)
        if m:
            types = {m.group(2)} if m.group(1) == "=" else {n for _, n in ISSUE_TYPES} - {m.group(2)}
        found = [i for i in sorted(self.issues.values(), key=lambda i: int(i["id"]))
                 if i["project"] == project and (since is None or i["updated"] >= since)
                 and (types is None or i["fields"]["issuetype"] in types)]
        size = min(int(q.get("maxResults") or 50), 100)  # Jira caps a page of issues with fields
        fields = [f for f in (q.get("fields") or "").split(",") if f] or None
        if self.kind == "dc":  # startAt / maxResults / total
            start = int(q.get("startAt") or 0)
            self.search_starts.append(f"startAt={start}")
            return 200, {"expand": "names,schema", "startAt": start, "maxResults": size, "total": len(found),
                         "issues": [self.issue_json(i, fields) for i in found[start:start + size]]}
        start = int(base64.urlsafe_b64decode(q["nextPageToken"]).decode()) if q.get("nextPageToken") else 0
        page = found[start:start + size]
        out = {"issues": [self.issue_json(i, fields) for i in page], "isLast": start + size >= len(found)}
        if not out["isLast"]:
            out["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return 200, out
