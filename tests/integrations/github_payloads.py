"""GitHub webhook bodies written by hand after the examples in GitHub's documentation ("Webhook
events and payloads": `pull_request` and `push`), trimmed to the fields a receiver commonly reads,
with the shapes and names GitHub uses. Signed with a real HMAC by `deliver`."""

import json
import uuid

from integrations.github import sign


def _repository(full_name: str) -> dict:
    owner, name = full_name.split("/")
    return {
        "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name, "full_name": full_name,
        "private": False, "owner": {"login": owner, "id": 1, "type": "Organization"},
        "html_url": f"https://github.com/{full_name}", "default_branch": "main",
    }


SENDER = {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User"}


def pull_request(full_name: str, *, action="opened", number=1347, title="Amazing new feature",
                 branch="new-topic", state="open", merged=False, draft=False) -> dict:
    repo = _repository(full_name)
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{full_name}/pulls/{number}",
            "id": 1, "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
            "html_url": f"https://github.com/{full_name}/pull/{number}",
            "diff_url": f"https://github.com/{full_name}/pull/{number}.diff",
            "number": number, "state": state, "locked": False, "title": title,
            "user": SENDER, "body": "Please pull these awesome changes in!",
            "created_at": "2026-11-26T19:01:12Z", "updated_at": "2026-11-26T19:01:12Z",
            "closed_at": "2026-11-27T10:00:00Z" if state == "closed" else None,
            "merged_at": "2026-11-27T10:00:00Z" if merged else None,
            "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6" if merged else None,
            "draft": draft,
            "head": {"label": f"octocat:{branch}", "ref": branch, "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
                     "user": SENDER, "repo": repo},
            "base": {"label": "octocat:main", "ref": "main", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
                     "user": SENDER, "repo": repo},
            "merged": merged, "mergeable": None, "comments": 0, "commits": 1, "additions": 100, "deletions": 3,
            "changed_files": 5,
        },
        "repository": repo,
        "sender": SENDER,
    }


def push(full_name: str, *, branch="new-topic", messages=("Fix all the bugs",)) -> dict:
    repo = _repository(full_name)
    commits = [{
        "id": f"{i:040x}", "tree_id": f"{i + 1:040x}", "distinct": True, "message": message,
        "timestamp": "2026-11-26T19:00:00Z", "url": f"https://github.com/{full_name}/commit/{i:040x}",
        "author": {"name": "Mona Octocat", "email": "mona@github.test", "username": "octocat"},
        "committer": {"name": "Mona Octocat", "email": "mona@github.test", "username": "octocat"},
        "added": [], "removed": [], "modified": ["README.md"],
    } for i, message in enumerate(messages, start=1)]
    return {
        "ref": f"refs/heads/{branch}", "before": "0" * 40, "after": commits[-1]["id"] if commits else "0" * 40,
        "repository": repo, "pusher": {"name": "octocat", "email": "mona@github.test"}, "sender": SENDER,
        "created": False, "deleted": False, "forced": False, "base_ref": None,
        "compare": f"https://github.com/{full_name}/compare/000000000000...{commits[-1]['id'][:12]}",
        "commits": commits, "head_commit": commits[-1] if commits else None,
    }


def headers(*, secret: str, body: bytes, event: str, delivery: str | None = None) -> dict:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret=secret, body=body), "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/044aadd"}


def body_of(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def check_suite(full_name: str, *, numbers=(1347,), status="completed", conclusion="success",
                branch="new-topic") -> dict:
    repo = _repository(full_name)
    return {
        "action": "completed" if status == "completed" else "requested",
        "check_suite": {
            "id": 118578147, "node_id": "MDEwOkNoZWNrU3VpdGUxMTg1NzgxNDc=", "head_branch": branch,
            "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "status": status,
            "conclusion": conclusion if status == "completed" else None,
            "url": f"https://api.github.com/repos/{full_name}/check-suites/118578147",
            "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "after": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            "pull_requests": [{"url": f"https://api.github.com/repos/{full_name}/pulls/{n}", "id": 2, "number": n,
                               "head": {"ref": branch, "sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
                                        "repo": {"id": 1296269, "name": repo["name"]}},
                               "base": {"ref": "main", "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
                                        "repo": {"id": 1296269, "name": repo["name"]}}} for n in numbers],
            "app": {"id": 29310, "slug": "octoapps", "name": "Octocat App"},
            "created_at": "2026-11-26T19:05:00Z", "updated_at": "2026-11-26T19:06:00Z",
        },
        "repository": repo,
        "sender": SENDER,
    }
