"""OpenAPI post-processing: document the one error format on every operation.

Every endpoint can answer 400 (bad input or filter), 401 (no or bad credentials), 403 (role),
404 (not in your workspaces), 413 (too large), 429 (throttled), and writes 409 (stale version);
drf-spectacular documents only the success response, so clients (and schemathesis) would see
undocumented codes. The body is always the `Error` schema of pmhub/api/exceptions.py.
"""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
        "current": {"description": "The current state of the object (409 only)."},
    },
    "required": ["detail", "code", "errors"],
}
COMMON = {
    "400": "Invalid input: field errors in `errors`.",
    "401": "Missing, invalid or revoked credentials.",
    "403": "Your role (or a read-only token) does not allow this.",
    "404": "Not found in your workspaces.",
    "413": "Request body or batch too large.",
    "429": "Too many requests: retry after the Retry-After header's seconds.",
}
WRITES = {"409": "Someone else changed it first: `current` holds the current state."}
# Lists answer conditional GETs (pmhub/api/conditional.py, decisions/1902).
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "The ETag of a page you hold: 304 with no body while it is current."}
NOT_MODIFIED = {"description": "Not modified: the ETag sent in If-None-Match is current (no body).",
                "headers": {"ETag": {"schema": {"type": "string"}}}}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = COMMON | (WRITES if method in ("post", "put", "patch", "delete") else {})
            for code, text in codes.items():
                operation["responses"].setdefault(code, {"description": text, "content": ref})
            if method == "get" and str(operation.get("operationId", "")).endswith("_list"):
                operation["responses"].setdefault("304", NOT_MODIFIED)
                ok = operation["responses"].get("200")
                if isinstance(ok, dict):
                    ok.setdefault("headers", {})["ETag"] = {
                        "schema": {"type": "string"}, "description": "Weak tag of this page for this caller."}
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == "If-None-Match" for p in params if isinstance(p, dict)):
                    params.append(IF_NONE_MATCH)
    return result
