"""PATCH (RFC 7644 §3.5.2) applied to a resource's JSON representation; no Django here.

The service renders the resource, applies the operations here, and saves the result through the
same path as a PUT, so a PATCH can do nothing a PUT could not. Paths are case-insensitive and
may carry the core schema URN, a value filter and a sub-attribute:
`members[value eq "…"]`, `emails[type eq "work"].value`, `name.givenName`.
Identity providers' habits are accepted: Entra ID's capitalised "Replace" and its
`remove` of `members` with a value listing the members to remove.
"""

import copy
import re

from .filters import FilterError, attribute_path, matches, parse

MAX_OPERATIONS = 1000
READ_ONLY = {"id", "meta", "schemas", "groups"}
_PATH = re.compile(r"^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>.+)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$", re.S)


class PatchError(ValueError):
    def __init__(self, message: str, scim_type: str = "invalidValue"):
        super().__init__(message)
        self.scim_type = scim_type


def _key(doc: dict, name: str, canonical: dict) -> str:
    for key in doc:
        if key.lower() == name.lower():
            return key
    return canonical.get(name.lower(), name)


def _parse_path(path: str):
    m = _PATH.match(attribute_path(path.strip()) if path else "")
    if not m:
        raise PatchError(f"The path {path!r} is not one this server understands.", "invalidPath")
    tree = None
    if m.group("filter"):
        try:
            tree = parse(m.group("filter"))
        except FilterError as e:
            raise PatchError(str(e), "invalidFilter")
    return m.group("attr"), tree, m.group("sub")


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict) and "value" in a and "value" in b:
        return str(a["value"]).lower() == str(b["value"]).lower()
    return a == b


def _apply_whole(doc: dict, op: str, value, canonical: dict, multi: set) -> None:
    """An operation without a path: `value` is an object of attributes (RFC 7644 §3.5.2.1/.3)."""
    if not isinstance(value, dict):
        raise PatchError("Without a path, the value must be an object of attributes.")
    for name, item in value.items():
        if _foreign(name):
            continue
        if name.lower().startswith("urn:"):  # the core schema's URN as a prefix
            name = attribute_path(name)
        low = name.lower()
        if low in ("schemas", "meta"):
            continue
        if low == "id":
            # Okta renames a group with {"id": <its id>, "displayName": ...}: the same id is no change.
            if str(item) != str(doc.get("id")):
                raise PatchError("id cannot be changed.", "mutability")
            continue
        _apply(doc, op, name, item, canonical, multi)


def _foreign(name: str) -> bool:
    """An attribute of a schema extension we do not serve (Entra ID's default mapping sends the
    enterprise extension's department, employeeNumber, manager): ignored, as in a POST or PUT body."""
    return name.lower().startswith("urn:") and attribute_path(name) == name.lower()


def _apply(doc: dict, op: str, path: str, value, canonical: dict, multi: set) -> None:
    attr, tree, sub = _parse_path(path)
    if attr.lower() in READ_ONLY:
        raise PatchError(f"{attr} cannot be changed.", "mutability")
    key = _key(doc, attr, canonical)
    is_multi = attr.lower() in multi
    if tree is not None:
        if not is_multi:
            raise PatchError(f"{attr} is not multi-valued: a filter cannot select in it.", "invalidPath")
        items = doc.get(key) or []
        hits = [i for i, element in enumerate(items) if matches(tree, element)]
        if op == "remove":
            if sub:
                for i in hits:
                    items[i].pop(_key(items[i], sub, canonical), None)
            else:
                doc[key] = [e for i, e in enumerate(items) if i not in hits]
            return
        if not hits:
            if op == "replace":
                raise PatchError(f"No value of {attr} matches the filter.", "noTarget")
            if tree[0] == "cmp" and tree[2] == "eq":
                # Entra ID adds `emails[type eq "work"].value` to a user without a work address:
                # a new value carrying what the filter names.
                element = {_key({}, tree[1], canonical): tree[3]}
                if sub:
                    element[_key(element, sub, canonical)] = value
                elif isinstance(value, dict):
                    element.update(value)
                doc[key] = [*items, element]
            return
        for i in hits:
            if sub:
                items[i][_key(items[i], sub, canonical)] = value
            elif isinstance(value, dict):
                items[i].update(value)
            else:
                raise PatchError(f"The value for {attr} must be an object.")
        doc[key] = items
        return
    if sub:  # name.givenName
        parent = doc.get(key)
        if not isinstance(parent, dict):
            if op == "remove":
                return
            parent = {}
        sub_key = _key(parent, sub, canonical)
        if op == "remove":
            parent.pop(sub_key, None)
        else:
            parent[sub_key] = value
        doc[key] = parent
        return
    if op == "remove":
        if is_multi and value not in (None, [], ""):
            # Entra ID: {"op": "remove", "path": "members", "value": [{"value": "<id>"}]}
            drop = value if isinstance(value, list) else [value]
            doc[key] = [e for e in doc.get(key) or [] if not any(_same(e, d) for d in drop)]
        else:
            doc.pop(key, None)
        return
    if is_multi:
        values = value if isinstance(value, list) else [value]
        if op == "add":
            current = list(doc.get(key) or [])
            for v in values:
                if not any(_same(v, c) for c in current):
                    current.append(v)
            doc[key] = current
        else:
            doc[key] = values
        return
    if op == "add" and isinstance(value, dict) and isinstance(doc.get(key), dict):
        doc[key] = {**doc[key], **value}
        return
    doc[key] = value


def apply_patch(doc: dict, body, *, canonical: dict, multi: set) -> dict:
    """The representation after the PatchOp `body`; the input is left unchanged.
    `canonical` maps lower-cased attribute names to their spelling; `multi` names the
    multi-valued attributes (lower-cased)."""
    if not isinstance(body, dict):
        raise PatchError("Send a PatchOp object.", "invalidSyntax")
    schemas = body.get("schemas") or []
    if "urn:ietf:params:scim:api:messages:2.0:PatchOp" not in schemas:
        raise PatchError("A PATCH body names the schema urn:ietf:params:scim:api:messages:2.0:PatchOp.",
                         "invalidSyntax")
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise PatchError("A PATCH needs a non-empty list of Operations.", "invalidSyntax")
    if len(operations) > MAX_OPERATIONS:
        raise PatchError(f"At most {MAX_OPERATIONS} operations in one PATCH.", "tooMany")
    doc = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchError("Each operation is an object with op, path and value.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "remove", "replace"):
            raise PatchError(f"Unknown op {operation.get('op')!r}: use add, remove or replace.", "invalidSyntax")
        path = operation.get("path")
        if path is not None and not isinstance(path, str):
            raise PatchError("The path must be a string.", "invalidPath")
        if path and _foreign(path.split("[", 1)[0]):
            continue
        if not path:
            if op == "remove":
                raise PatchError("A remove operation needs a path.", "noTarget")
            _apply_whole(doc, op, operation.get("value"), canonical, multi)
        else:
            if op != "remove" and "value" not in operation:
                raise PatchError(f"The {op} operation needs a value.", "invalidValue")
            _apply(doc, op, path, operation.get("value"), canonical, multi)
    return doc
