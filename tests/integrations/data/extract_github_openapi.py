"""Cut the operations and webhook payloads PMHub uses out of GitHub's REST description (see README.md).

    python tests/integrations/data/extract_github_openapi.py api.github.com.json github-rest-subset.openapi.json.gz

Keeps the listed operations and webhooks and every component they reference (transitively);
drops prose (description, summary), examples and x-* extensions to keep the test data small.
"""

import gzip
import json
import sys

OPERATIONS = {
    "/app/installations/{installation_id}/access_tokens": ["post"],
    "/installation/repositories": ["get"],
    "/user": ["get"],
    "/repos/{owner}/{repo}": ["get"],
    "/repos/{owner}/{repo}/labels": ["get"],
    "/repos/{owner}/{repo}/issues": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["get", "patch"],
}
WEBHOOKS = [
    "issues-opened",
    "issues-edited",
    "issues-closed",
    "issues-reopened",
    "issues-labeled",
    "issues-unlabeled",
    "issues-assigned",
    "issues-deleted",
    "issues-transferred",
    "installation-created",
    "installation-deleted",
    "installation-repositories-added",
    "installation-repositories-removed",
]
DROP = {"description", "summary", "examples", "example", "externalDocs", "tags"}


def strip(node, *, names: bool = False):
    """Prose, examples and extensions go; inside `properties` the keys are names and all stay."""
    if isinstance(node, dict):
        return {
            k: strip(v, names=(k == "properties" and not names))
            for k, v in node.items()
            if names or (k not in DROP and not k.startswith("x-"))
        }
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node, found: set):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(tuple(ref[len("#/components/") :].split("/", 1)))
        for v in node.values():
            refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def main(source: str, target: str) -> None:
    with open(source) as f:
        spec = json.load(f)
    paths = {p: {m: spec["paths"][p][m] for m in methods} for p, methods in OPERATIONS.items()}
    hooks = {name: spec["x-webhooks"][name] for name in WEBHOOKS}
    out = {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-subset-of": "api.github.com"},
        "paths": paths,
        "x-webhooks": hooks,
        "components": {},
    }
    todo, seen = set(), set()
    refs([paths, hooks], todo)
    while todo:
        kind, name = todo.pop()
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        item = spec["components"][kind][name]
        out["components"].setdefault(kind, {})[name] = item
        refs(item, todo)
    info = out["info"]
    hooks_kept = out.pop("x-webhooks")
    out = strip(out)
    out["x-webhooks"] = strip(hooks_kept)
    out["info"] = {k: v for k, v in info.items() if k in ("version", "title", "license", "x-subset-of")}
    with gzip.open(target, "wt", compresslevel=9) as f:
        json.dump(out, f, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
