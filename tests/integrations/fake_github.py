"""A stateful fake GitHub REST API: a real HTTP server on 127.0.0.1 that keeps repositories, labels,
issues, fine-grained tokens, an App (its public key checks the RS256 JWT) and its installations,
and checks every request it receives and every response it sends against GitHub's published REST
description (tests/integrations/data/github-rest-subset.openapi.json.gz, openapi_check.py). A
request the description does not allow is answered 400 and recorded in `violations`; the
`fake_github` fixture fails the test when any were recorded.

Scripts: `rate_limit(n, retry_after, status=429|403)` (primary/secondary limits), `revoke(token)`,
`fail_next(n)`. `edit(number, ...)` is a person's hand on GitHub (no HTTP). Webhooks:
`webhook(action, number)` and `installation_webhook(...)` build deliveries as GitHub sends them
(bodies checked against GitHub's published webhook schemas, X-Hub-Signature-256 = HMAC-SHA256).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.integrations.openapi_check import Violation, github_check, webhook_check

WEB = "https://github.com"


def gh_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub:
    def __init__(self, *, repo="acme/mobile-app", token="github_pat_fake", login="pat-pm"):
        self.lock = threading.RLock()
        self.violations: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.writes: list[tuple[str, str, dict | None]] = []
        self.answers: list[tuple[float, str, str, int]] = []  # (monotonic time, method, path, status)
        self.tokens = {token: login}
        self.token, self.login = token, login
        self.repos: dict[str, dict] = {}
        self.issues: dict[str, dict[int, dict]] = {}
        self.gone: dict[str, dict[int, int]] = {}  # repo -> number -> 301 (transferred) / 410 (deleted)
        self.labels: dict[str, list[str]] = {}
        self._script: list[tuple[int, dict]] = []
        self.clock_offset = timedelta(0)
        self.app_id, self.app_key = None, None
        self.installations: dict[int, dict] = {}  # id -> {"account", "repos"}
        self.installation_tokens: dict[str, tuple[int, datetime]] = {}
        self.token_exchanges = 0
        self.add_repo(repo)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                fake._handle(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # --- state ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.clock_offset

    def add_repo(self, full_name: str, labels=("bug", "In review", "In progress")) -> dict:
        with self.lock:
            repo_id = 1000 + len(self.repos)
            self.repos[full_name] = {"id": repo_id, "full_name": full_name}
            self.issues[full_name] = {}
            self.gone[full_name] = {}
            self.labels[full_name] = list(labels)
            return self.repos[full_name]

    def user(self, login: str) -> dict:
        uid = int(hashlib.sha256(login.encode()).hexdigest()[:6], 16)
        base = f"{self.url}/users/{login}"
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_{uid}",
            "avatar_url": f"{WEB}/{login}.png",
            "gravatar_id": "",
            "url": base,
            "html_url": f"{WEB}/{login}",
            "followers_url": f"{base}/followers",
            "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}",
            "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions",
            "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events",
            "type": "User",
            "site_admin": False,
        }

    def _label(self, repo: str, name: str) -> dict:
        lid = int(hashlib.sha256(f"{repo}:{name}".encode()).hexdigest()[:6], 16)
        return {
            "id": lid,
            "node_id": f"LA_{lid}",
            "url": f"{self.url}/repos/{repo}/labels/{name}",
            "name": name,
            "description": None,
            "color": "ededed",
            "default": False,
        }

    def create_issue(
        self, *, repo=None, title="An issue", body=None, state="open", labels=(), assignee=None, pull_request=False
    ) -> dict:
        """An issue opened by a person on GitHub (no HTTP)."""
        repo = repo or next(iter(self.repos))
        with self.lock:
            issues = self.issues[repo]
            number = len(issues) + len(self.gone[repo]) + 1
            issue = {
                "number": number,
                "title": title,
                "body": body,
                "state": state,
                "labels": list(labels),
                "assignees": [assignee] if assignee else [],
                "created_at": self.now(),
                "updated_at": self.now(),
                "pull_request": pull_request,
            }
            for name in labels:
                if name not in self.labels[repo]:
                    self.labels[repo].append(name)
            issues[number] = issue
            return self.issue_json(repo, issue)

    def edit(self, number: int, *, repo=None, **changes) -> dict:
        """A person edits the issue on GitHub: title, body, state, labels, assignees."""
        repo = repo or next(iter(self.repos))
        with self.lock:
            issue = self.issues[repo][number]
            issue.update(changes)
            issue["updated_at"] = self.now()
            return self.issue_json(repo, issue)

    def remove(self, number: int, *, repo=None, status: int = 410) -> None:
        """Delete (410) or transfer (301) an issue on GitHub."""
        repo = repo or next(iter(self.repos))
        with self.lock:
            self.issues[repo].pop(number)
            self.gone[repo][number] = status

    def issue(self, number: int, repo=None) -> dict:
        repo = repo or next(iter(self.repos))
        return self.issue_json(repo, self.issues[repo][number])

    def issue_json(self, repo: str, issue: dict) -> dict:
        base = f"{self.url}/repos/{repo}/issues/{issue['number']}"
        number = issue["number"]
        iid = self.repos[repo]["id"] * 100000 + number
        out = {
            "id": iid,
            "node_id": f"I_{iid}",
            "url": base,
            "repository_url": f"{self.url}/repos/{repo}",
            "labels_url": f"{base}/labels{{/name}}",
            "comments_url": f"{base}/comments",
            "events_url": f"{base}/events",
            "html_url": f"{WEB}/{repo}/{'pull' if issue['pull_request'] else 'issues'}/{number}",
            "number": number,
            "state": issue["state"],
            "title": issue["title"],
            "body": issue["body"],
            "user": self.user("reporter"),
            "labels": [self._label(repo, n) for n in issue["labels"]],
            "assignee": self.user(issue["assignees"][0]) if issue["assignees"] else None,
            "assignees": [self.user(a) for a in issue["assignees"]],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": 0,
            "closed_at": gh_time(issue["updated_at"]) if issue["state"] == "closed" else None,
            "created_at": gh_time(issue["created_at"]),
            "updated_at": gh_time(issue["updated_at"]),
            "author_association": "MEMBER",
        }
        if issue.get("state_reason"):
            out["state_reason"] = issue["state_reason"]
        if issue["pull_request"]:
            out["pull_request"] = {
                "url": f"{self.url}/repos/{repo}/pulls/{number}",
                "html_url": out["html_url"],
                "diff_url": None,
                "patch_url": None,
            }
        return out

    def repo_json(self, full_name: str, *, full: bool = False) -> dict:
        check = github_check()
        schema = check.spec["components"]["schemas"]["full-repository" if full else "repository"]
        repo = self.repos[full_name]
        owner, name = full_name.split("/")
        base = f"{self.url}/repos/{full_name}"
        out = {key: f"{base}/{key[:-4]}" for key in schema["required"] if key.endswith("_url")}
        out.update(
            {
                "id": repo["id"],
                "node_id": f"R_{repo['id']}",
                "name": name,
                "full_name": full_name,
                "owner": self.user(owner),
                "private": True,
                "html_url": f"{WEB}/{full_name}",
                "url": base,
                "description": None,
                "fork": False,
                "homepage": None,
                "language": None,
                "forks": 0,
                "forks_count": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "watchers": 0,
                "size": 1,
                "default_branch": "main",
                "open_issues": len(self.issues[full_name]),
                "open_issues_count": len(self.issues[full_name]),
                "has_issues": True,
                "has_projects": False,
                "has_wiki": False,
                "has_pages": False,
                "has_downloads": False,
                "has_discussions": False,
                "archived": False,
                "disabled": False,
                "mirror_url": None,
                "license": None,
                "pushed_at": gh_time(self.now()),
                "created_at": gh_time(self.now()),
                "updated_at": gh_time(self.now()),
                "clone_url": f"{WEB}/{full_name}.git",
                "git_url": f"git://github.com/{full_name}.git",
                "ssh_url": f"git@github.com:{full_name}.git",
                "svn_url": f"{WEB}/{full_name}",
                "network_count": 0,
                "subscribers_count": 0,
            }
        )
        if not full:
            out.pop("network_count")
            out.pop("subscribers_count")
        return out

    # --- scripts -------------------------------------------------------------------------------
    def rate_limit(self, n: int = 1, retry_after: int = 1, status: int = 429):
        with self.lock:
            self._script += [(status, {"Retry-After": str(retry_after)})] * n

    def fail_next(self, n: int = 1, status: int = 502):
        with self.lock:
            self._script += [(status, {})] * n

    def revoke(self, token: str | None = None):
        with self.lock:
            self.tokens.pop(token or self.token, None)

    def grant(self, token: str, login: str | None = None):
        with self.lock:
            self.tokens[token] = login or self.login

    def app(self, app_id: int, public_key_pem: bytes) -> None:
        self.app_id, self.app_key = app_id, public_key_pem

    def install(self, installation_id: int, account: str, repos: list[str]) -> None:
        with self.lock:
            self.installations[installation_id] = {"account": account, "repos": list(repos)}

    # --- HTTP ----------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler):
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        method = handler.command
        operation = None
        try:
            body_in = json.loads(raw) if raw else None
            operation = github_check().request(method, path, query, body_in)
            if handler.headers.get("X-GitHub-Api-Version") != "2022-11-28":
                raise Violation("X-GitHub-Api-Version 2022-11-28 is the version this description describes")
        except (Violation, ValueError) as exc:
            with self.lock:
                self.violations.append(f"{method} {path}: {exc}")
            return self._send(handler, 400, {"message": f"fake: {exc}"}, {})
        headers: dict = {}
        with self.lock:
            self.requests.append((method, path))
            if method != "GET":
                self.writes.append((method, path, body_in))
            who = self._who(handler.headers.get("Authorization") or "", path)
            if who is None:
                status, body = 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            elif self._script:
                status, headers = self._script.pop(0)
                body = {
                    "message": "You have exceeded a secondary rate limit." if status in (403, 429) else "Server Error",
                    "documentation_url": "https://docs.github.com/rest",
                }
            else:
                status, body, headers = self._route(method, path, {k: v[-1] for k, v in query.items()}, body_in, who)
        with self.lock:
            self.answers.append((time.monotonic(), method, path, status))
        try:
            github_check().response(operation, status, body)
        except Violation as exc:
            with self.lock:
                self.violations.append(f"{method} {path} answer: {exc}")
        self._send(handler, status, body, headers)

    def _who(self, authorization: str, path: str):
        """The login (token), ("installation", id) or ("app",) the request authenticates as."""
        if not authorization.startswith("Bearer "):
            return None
        credential = authorization[len("Bearer ") :]
        if path.startswith("/app/"):
            from joserfc import jwt
            from joserfc.jwk import RSAKey

            try:
                token = jwt.decode(credential, RSAKey.import_key(self.app_key), algorithms=["RS256"])
            except Exception:
                return None
            claims = token.claims
            now = datetime.now(UTC).timestamp()
            if (
                str(claims.get("iss")) != str(self.app_id)
                or not claims["iat"] <= now < claims["exp"]
                or claims["exp"] - claims["iat"] > 600
            ):
                return None
            return ("app",)
        if credential in self.installation_tokens:
            iid, expires = self.installation_tokens[credential]
            return ("installation", iid) if expires > datetime.now(UTC) and iid in self.installations else None
        return self.tokens.get(credential)

    def _send(self, handler, status: int, body, headers: dict):
        data = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _may(self, who, repo: str) -> bool:
        if isinstance(who, tuple):
            return who[0] == "installation" and repo in self.installations[who[1]]["repos"]
        return True

    def _route(self, method: str, path: str, q: dict, body, who):
        segments = path.strip("/").split("/")
        not_found = (404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {})
        if segments[:2] == ["app", "installations"] and method == "POST":
            iid = int(segments[2])
            if who != ("app",) or iid not in self.installations:
                return not_found
            token = f"ghs_{uuid.uuid4().hex}"
            expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
            self.installation_tokens[token] = (iid, expires)
            self.token_exchanges += 1
            return 201, {"token": token, "expires_at": gh_time(expires)}, {}
        if path == "/installation/repositories":
            if not (isinstance(who, tuple) and who[0] == "installation"):
                return 403, {"message": "Resource not accessible by personal access token"}, {}
            repos = [self.repo_json(r) for r in self.installations[who[1]]["repos"] if r in self.repos]
            return 200, {"total_count": len(repos), "repositories": repos}, {}
        if path == "/user":
            if isinstance(who, tuple):
                return 403, {"message": "Resource not accessible by integration"}, {}
            user = self.user(who)
            return (
                200,
                {
                    **user,
                    "name": "Pat PM",
                    "company": None,
                    "blog": "",
                    "location": None,
                    "email": None,
                    "hireable": None,
                    "bio": None,
                    "public_repos": 0,
                    "public_gists": 0,
                    "followers": 0,
                    "following": 0,
                    "created_at": gh_time(self.now()),
                    "updated_at": gh_time(self.now()),
                    "private_gists": 0,
                    "total_private_repos": 1,
                    "owned_private_repos": 1,
                    "disk_usage": 1,
                    "collaborators": 0,
                    "two_factor_authentication": True,
                    "user_view_type": "private",
                },
                {},
            )
        if segments[0] != "repos" or len(segments) < 3:
            return not_found
        repo = f"{segments[1]}/{segments[2]}"
        if repo not in self.repos or not self._may(who, repo):
            return not_found
        rest = segments[3:]
        if not rest:
            return 200, self.repo_json(repo, full=True), {}
        if rest == ["labels"]:
            return self._page([self._label(repo, n) for n in self.labels[repo]], q, path)
        if rest == ["issues"] and method == "GET":
            items = list(self.issues[repo].values())
            if q.get("state", "open") != "all":
                items = [i for i in items if i["state"] == q.get("state", "open")]
            if q.get("since"):
                since = datetime.fromisoformat(q["since"])
                items = [i for i in items if i["updated_at"] >= since]
            key = "updated_at" if q.get("sort") == "updated" else "created_at"
            items.sort(key=lambda i: (i[key], i["number"]), reverse=q.get("direction", "desc") == "desc")
            return self._page([self.issue_json(repo, i) for i in items], q, path)
        if rest == ["issues"] and method == "POST":
            labels = [x if isinstance(x, str) else x.get("name") for x in body.get("labels") or []]
            issue = self.create_issue(
                repo=repo,
                title=str(body["title"]),
                body=body.get("body"),
                labels=labels,
                assignee=(body.get("assignees") or [None])[0],
            )
            return 201, issue, {}
        if len(rest) == 2 and rest[0] == "issues":
            number = int(rest[1])
            if number in self.gone[repo]:
                status = self.gone[repo][number]
                return (
                    status,
                    {
                        "message": "Moved Permanently" if status == 301 else "This issue was deleted",
                        "documentation_url": "https://docs.github.com/rest",
                    },
                    {},
                )
            if number not in self.issues[repo]:
                return not_found
            issue = self.issues[repo][number]
            if method == "PATCH":
                for key in ("title", "body", "state", "state_reason"):
                    if key in body:
                        issue[key] = body[key]
                if "labels" in body:
                    issue["labels"] = [x if isinstance(x, str) else x.get("name") for x in body["labels"]]
                if "assignees" in body:
                    issue["assignees"] = list(body["assignees"])
                issue["updated_at"] = self.now()
            return 200, self.issue_json(repo, issue), {}
        return not_found

    def _page(self, items: list, q: dict, path: str):
        per_page, page = int(q.get("per_page", 30)), int(q.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            nxt = {**q, "page": str(page + 1)}
            headers["Link"] = (
                f'<{self.url}{path}?{urlencode(nxt)}>; rel="next", '
                f'<{self.url}{path}?{urlencode({**q, "page": str(-(-len(items) // per_page))})}>; rel="last"'
            )
        return 200, chunk, headers

    # --- webhooks -------------------------------------------------------------------------------
    def _sign(self, event: str, payload: dict, secret: str, schema: str | None) -> tuple[bytes, dict]:
        if schema:
            webhook_check(schema, payload)
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
            "Content-Type": "application/json",
        }

    def _hook_repo(self, repo: str) -> dict:
        data = self.repo_json(repo)
        return data

    def webhook(self, action: str, number: int, *, secret: str, repo=None, installation_id: int | None = None):
        """An `issues` delivery (opened, edited, closed, labeled, deleted, transferred, ...)."""
        repo = repo or next(iter(self.repos))
        with self.lock:
            if number in self.issues[repo]:
                issue = self.issue_json(repo, self.issues[repo][number])
            else:  # deleted or transferred: the issue as it was is in the body; here a minimal copy
                issue = self.issue_json(
                    repo,
                    {
                        "number": number,
                        "title": "gone",
                        "body": None,
                        "state": "open",
                        "labels": [],
                        "assignees": [],
                        "created_at": self.now(),
                        "updated_at": self.now(),
                        "pull_request": False,
                    },
                )
        issue["reactions"] = {
            "url": issue["url"] + "/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        }
        payload = {
            "action": action,
            "issue": issue,
            "repository": self._hook_repo(repo),
            "sender": self.user(self.login),
        }
        if action == "edited":
            payload["changes"] = {}
        if action in ("labeled", "unlabeled"):
            payload["label"] = issue["labels"][0] if issue["labels"] else self._label(repo, "bug")
        if action == "transferred":
            payload["changes"] = {
                "new_issue": issue,
                "new_repository": {
                    **self._hook_repo(repo),
                    "topics": [],
                    "visibility": "private",
                    "has_discussions": False,
                },
            }
        if installation_id is not None:
            payload["installation"] = {"id": installation_id, "node_id": f"MDIz{installation_id}"}
        return self._sign("issues", payload, secret, f"issues-{action}")

    def installation_webhook(self, action: str, installation_id: int, *, secret: str, repos=(), removed=()):
        """`installation` (created/deleted) or `installation_repositories` (added/removed)."""
        account = self.installations.get(installation_id, {}).get("account") or "acme"
        installation = {
            "id": installation_id,
            "account": self.user(account),
            "app_id": self.app_id or 1,
            "app_slug": "pmhub",
            "target_id": 1,
            "target_type": "Organization",
            "repository_selection": "selected",
            "access_tokens_url": f"{self.url}/app/installations/{installation_id}/access_tokens",
            "repositories_url": f"{self.url}/installation/repositories",
            "html_url": f"{WEB}/settings/installations/{installation_id}",
            "permissions": {"issues": "write"},
            "events": ["issues", "pull_request"],
            "created_at": gh_time(self.now()),
            "updated_at": gh_time(self.now()),
            "single_file_name": None,
            "suspended_at": None,
            "suspended_by": None,
        }

        def short(name):
            return {
                "id": self.repos.get(name, {"id": 1})["id"],
                "node_id": "R_1",
                "name": name.split("/")[1],
                "full_name": name,
                "private": True,
            }

        if action in ("created", "deleted"):
            payload = {
                "action": action,
                "installation": installation,
                "sender": self.user(self.login),
                "repositories": [short(r) for r in repos],
            }
            return self._sign("installation", payload, secret, f"installation-{action}")
        payload = {
            "action": action,
            "installation": installation,
            "sender": self.user(self.login),
            "repository_selection": "selected",
            "requester": None,
            "repositories_added": [short(r) for r in repos],
            "repositories_removed": [short(r) for r in removed],
        }
        return self._sign("installation_repositories", payload, secret, f"installation-repositories-{action}")
