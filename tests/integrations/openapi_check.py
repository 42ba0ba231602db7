"""Check HTTP exchanges against a provider's published OpenAPI 3.0 description (test data).

`OpenApiCheck(spec).request(method, path, query, body)` finds the operation (an unknown path or
method is a violation: the fake must not answer what the provider does not have), checks the query
parameters (known names, types, enums, required ones) and the JSON body against the request
schema; `.response(operation, status, body)` checks the answer against the schema of that status.
OpenAPI 3.0's `nullable` is turned into JSON Schema's null type; validation is jsonschema's Draft 7.
"""

from __future__ import annotations

import copy
import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema

DATA = Path(__file__).parent / "data"


def _nullable(node):
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@lru_cache(maxsize=4)
def load_spec(name: str) -> dict:
    raw = (DATA / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return json.loads(raw)


class Violation(AssertionError):
    pass


class OpenApiCheck:
    """`platform_answers`: statuses the provider documents for every operation outside the
    per-operation list (Jira: 429 with Retry-After and 503, on its "Rate limiting" page)."""

    def __init__(self, spec: dict, *, platform_answers: tuple[int, ...] = ()):
        self.spec = spec
        self.platform_answers = set(platform_answers)
        self.components = _nullable(spec.get("components") or {})
        self._routes = []
        for template, item in spec["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
            # A literal path beats a templated one (/issue/bulk before /issue/{issueIdOrKey}).
            self._routes.append((template.count("{"), re.compile(pattern), template, item))
        self._routes.sort(key=lambda r: r[0])

    def _validator(self, schema: dict):
        return jsonschema.Draft7Validator({**_nullable(copy.deepcopy(schema)), "components": self.components})

    def _deref(self, node):
        """A `$ref` to a component (GitHub's description shares parameters and responses) resolved."""
        while isinstance(node, dict) and str(node.get("$ref") or "").startswith("#/components/"):
            kind, name = node["$ref"][len("#/components/"):].split("/", 1)
            node = self.spec["components"][kind][name]
        return node

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        for _, pattern, template, item in self._routes:
            if pattern.match(path) and method.lower() in item:
                return template, item[method.lower()]
        raise Violation(f"{method} {path}: no such operation in the provider's OpenAPI description")

    def _check_param(self, param: dict, values: list[str]) -> None:
        schema = param.get("schema") or {}
        if schema.get("type") == "array":
            items = [v for value in values for v in value.split(",")] if param.get("in") == "query" else values
            item_schema = schema.get("items") or {}
        else:
            if len(values) > 1:
                raise Violation(f"query parameter {param['name']} given {len(values)} times")
            items, item_schema = values, schema
        for value in items:
            kind = item_schema.get("type")
            if kind == "integer" and not re.fullmatch(r"-?\d+", value):
                raise Violation(f"query parameter {param['name']}={value!r} is not an integer")
            if kind == "boolean" and value not in ("true", "false"):
                raise Violation(f"query parameter {param['name']}={value!r} is not a boolean")
            if "enum" in item_schema and value not in [str(e) for e in item_schema["enum"]]:
                raise Violation(f"query parameter {param['name']}={value!r} is not one of {item_schema['enum']}")
            if kind == "integer" and "maximum" in item_schema and int(value) > item_schema["maximum"]:
                raise Violation(f"query parameter {param['name']}={value} is above {item_schema['maximum']}")

    def request(self, method: str, path: str, query: dict[str, list[str]], body) -> dict:
        template, op = self.operation(method, path)
        params = {p["name"]: p for p in map(self._deref, op.get("parameters") or []) if p.get("in") == "query"}
        for name, values in query.items():
            if name not in params:
                raise Violation(f"{method} {template}: unknown query parameter {name!r}")
            self._check_param(params[name], values)
        for name, p in params.items():
            if p.get("required") and name not in query:
                raise Violation(f"{method} {template}: required query parameter {name!r} missing")
        request_body = op.get("requestBody")
        if body is not None:
            if not request_body:
                raise Violation(f"{method} {template} takes no body")
            schema = ((request_body.get("content") or {}).get("application/json") or {}).get("schema")
            if schema is None:
                raise Violation(f"{method} {template}: no JSON body in the description")
            errors = sorted(self._validator(schema).iter_errors(body), key=str)
            if errors:
                raise Violation(f"{method} {template} request body: {errors[0].message} at "
                                f"{'/'.join(map(str, errors[0].absolute_path))}")
        elif request_body and request_body.get("required"):
            raise Violation(f"{method} {template}: body required")
        return {"template": template, "operation": op, "method": method}

    def response(self, operation: dict, status: int, body) -> None:
        op, template, method = operation["operation"], operation["template"], operation["method"]
        responses = op.get("responses") or {}
        spec = self._deref(responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
                           or responses.get("default"))
        if spec is None and status in self.platform_answers:
            return
        if spec is None:
            raise Violation(f"{method} {template}: status {status} is not a documented answer "
                            f"(documented: {', '.join(sorted(responses))})")
        schema = ((spec.get("content") or {}).get("application/json") or {}).get("schema")
        if schema and body is not None:
            errors = sorted(self._validator(schema).iter_errors(body), key=str)
            if errors:
                raise Violation(f"{method} {template} {status} response: {errors[0].message} at "
                                f"{'/'.join(map(str, errors[0].absolute_path))}")


@lru_cache(maxsize=1)
def jira_check() -> OpenApiCheck:
    # https://developer.atlassian.com/cloud/jira/platform/rate-limiting/: any REST call may answer
    # 429 (with Retry-After) or 503 when the site is under load.
    return OpenApiCheck(load_spec("jira-platform-v3.openapi.json.gz"), platform_answers=(429, 503))


@lru_cache(maxsize=1)
def jira_dc_check() -> OpenApiCheck:
    # Data Center answers 429 with Retry-After when its rate limiting is on, and 503 under load.
    return OpenApiCheck(load_spec("jira-dc-v2.derived.openapi.json"), platform_answers=(429, 503))


@lru_cache(maxsize=1)
def github_check() -> OpenApiCheck:
    # https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api: any call may answer
    # 403 or 429 (primary or secondary rate limit, Retry-After / x-ratelimit-*) and 401 (bad credentials).
    return OpenApiCheck(load_spec("github-rest-subset.openapi.json.gz"), platform_answers=(401, 403, 429))


def webhook_check(name: str, body: dict) -> None:
    """A webhook body against GitHub's published schema of that event (x-webhooks, e.g. issues-opened)."""
    check = github_check()
    schema = check.spec["x-webhooks"][name]["post"]["requestBody"]["content"]["application/json"]["schema"]
    errors = sorted(check._validator(schema).iter_errors(body), key=str)
    if errors:
        raise Violation(f"webhook {name}: {errors[0].message} at {'/'.join(map(str, errors[0].absolute_path))}")
