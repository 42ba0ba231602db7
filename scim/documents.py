"""The discovery documents (RFC 7643 §5-7) and the JSON of our resources; no queries here.

What the Schemas endpoint publishes is exactly what the server stores and returns: a client
(and the compliance checker, which builds its models from these schemas) never sends an
attribute that would silently be dropped.
"""

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

MAX_PAGE = 200
DEFAULT_PAGE = 100


def _attr(name, type_="string", *, multi=False, required=False, mutability="readWrite", returned="default",
          uniqueness="none", subs=None, canonical=None, reference_types=None, description=""):
    out = {"name": name, "type": type_, "multiValued": multi, "description": description or name,
           "required": required, "caseExact": False, "mutability": mutability, "returned": returned,
           "uniqueness": uniqueness}
    if subs is not None:
        out["subAttributes"] = subs
    if canonical:
        out["canonicalValues"] = canonical
    if reference_types:
        out["referenceTypes"] = reference_types
    return out


USER_ATTRIBUTES = [
    _attr("userName", required=True, uniqueness="server",
          description="Unique in the workspace; usually the e-mail address or the directory login."),
    _attr("name", "complex", subs=[_attr("formatted"), _attr("familyName"), _attr("givenName")],
          description="The person's name; givenName and familyName make the PMHub display name."),
    _attr("displayName"),
    _attr("emails", "complex", multi=True, required=True, subs=[
        _attr("value", required=True), _attr("type", canonical=["work", "home", "other"]),
        _attr("primary", "boolean")],
        description="The primary (or first) value is the PMHub account's sign-in e-mail."),
    _attr("active", "boolean",
          description="false removes the workspace membership, ends the sessions and revokes the API tokens."),
    _attr("groups", "complex", multi=True, mutability="readOnly", subs=[
        _attr("value", mutability="readOnly"), _attr("$ref", "reference", mutability="readOnly",
                                                       reference_types=["Group"]),
        _attr("display", mutability="readOnly")]),
]
GROUP_ATTRIBUTES = [
    _attr("displayName", required=True, uniqueness="server"),
    _attr("members", "complex", multi=True, subs=[
        _attr("value", mutability="immutable"),
        _attr("$ref", "reference", mutability="immutable", reference_types=["User"])]),
]
# lower-cased name -> spelling, for PATCH paths (scim.patch)
USER_CANONICAL = {n.lower(): n for n in ("userName", "name", "displayName", "emails", "active", "externalId",
                                         "formatted", "familyName", "givenName", "value", "type", "primary")}
GROUP_CANONICAL = {n.lower(): n for n in ("displayName", "members", "externalId", "value", "$ref")}
USER_MULTI = {"emails"}
GROUP_MULTI = {"members"}


def schema_document(base: str, schema_id: str) -> dict:
    name, attributes = ("User", USER_ATTRIBUTES) if schema_id == USER_SCHEMA else ("Group", GROUP_ATTRIBUTES)
    return {"schemas": [SCHEMA_SCHEMA], "id": schema_id, "name": name, "description": f"{name} of the workspace",
            "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{schema_id}"}}


def resource_type_document(base: str, name: str) -> dict:
    schema = USER_SCHEMA if name == "User" else GROUP_SCHEMA
    return {"schemas": [RESOURCE_TYPE_SCHEMA], "id": name, "name": name, "endpoint": f"/{name}s",
            "description": f"{name}s of the workspace", "schema": schema, "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/{name}"}}


def service_provider_config(base: str) -> dict:
    return {
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_PAGE},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "Bearer token",
            "description": "A workspace's SCIM token (Settings > SCIM provisioning), sent as "
                           "Authorization: Bearer <token>.",
            "primary": True}],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base}/ServiceProviderConfig"},
    }


def etag(version: int) -> str:
    return f'W/"{version}"'


def _meta(kind: str, obj, base: str) -> dict:
    return {"resourceType": kind, "created": obj.created_at.isoformat(), "lastModified": obj.updated_at.isoformat(),
            "location": f"{base}/{kind}s/{obj.uid}", "version": etag(obj.version)}


def _clean(doc: dict) -> dict:
    """Unassigned attributes are left out (RFC 7643 §2.5)."""
    return {k: v for k, v in doc.items() if v not in (None, "", [], {})}


def user_document(identity, base: str, groups=()) -> dict:
    """A ScimUser as SCIM JSON; `groups`: (uid, display name) pairs of its groups."""
    name = _clean({"formatted": identity.name_formatted, "familyName": identity.name_family,
                   "givenName": identity.name_given})
    return _clean({
        "schemas": [USER_SCHEMA], "id": str(identity.uid), "externalId": identity.external_id,
        "userName": identity.user_name, "name": name, "displayName": identity.display_name,
        "emails": identity.emails, "active": identity.active,
        "groups": [{"value": str(uid), "$ref": f"{base}/Groups/{uid}", "display": display}
                   for uid, display in groups],
        "meta": _meta("User", identity, base),
    }) | ({} if identity.active is None else {"active": identity.active})


def group_document(group, base: str, members=()) -> dict:
    """A ScimGroup as SCIM JSON; `members`: the uids of its users."""
    return _clean({
        "schemas": [GROUP_SCHEMA], "id": str(group.uid), "externalId": group.external_id,
        "displayName": group.display_name,
        "members": [{"value": str(uid), "$ref": f"{base}/Users/{uid}"} for uid in members],
        "meta": _meta("Group", group, base),
    })


ALWAYS = {"id", "schemas"}


def _names(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    from .filters import attribute_path

    return [attribute_path(v.strip()) for v in value if str(v).strip()]


def project(doc: dict, *, attributes=None, excluded=None) -> dict:
    """`attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): names are case-insensitive and may
    name a sub-attribute (`name.givenName`)."""
    wanted, unwanted = _names(attributes), _names(excluded)
    if wanted:
        out = {}
        for key, value in doc.items():
            low = key.lower()
            if low in ALWAYS or low in wanted:
                out[key] = value
                continue
            subs = [w.split(".", 1)[1] for w in wanted if w.startswith(low + ".")]
            if subs and isinstance(value, dict):
                out[key] = {k: v for k, v in value.items() if k.lower() in subs}
            elif subs and isinstance(value, list):
                out[key] = [{k: v for k, v in e.items() if k.lower() in subs} for e in value if isinstance(e, dict)]
        return out
    if unwanted:
        out = {}
        for key, value in doc.items():
            low = key.lower()
            if low in unwanted and low not in ALWAYS:
                continue
            subs = [u.split(".", 1)[1] for u in unwanted if u.startswith(low + ".")]
            if subs and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k.lower() not in subs}
            elif subs and isinstance(value, list):
                value = [{k: v for k, v in e.items() if k.lower() not in subs} for e in value if isinstance(e, dict)]
            out[key] = value
        return out
    return doc
