"""The SCIM 2.0 endpoints at /scim/v2/ (RFC 7644), for identity providers.

Plain Django views rather than DRF: the protocol fixes its own media type, error schema, list
envelope and PATCH format, none of which is the /api/v1/ format. Every request carries a
workspace's SCIM token (`Authorization: Bearer …`); what it reads and writes is that workspace's
only, and a resource of another workspace is a 404 like a missing one.
"""

import json
import logging

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from pmhub.utils import client_address

from . import documents, selectors, services
from .errors import ScimError, bad_request, not_found
from .filters import FilterError, parse

log = logging.getLogger("pmhub.scim")
CONTENT_TYPE = "application/scim+json"
MAX_BODY = 1_000_000
# Failed authentications per client address in a window: guessing tokens gets a 429 (a real token
# is 256 random bits, so this is about noise in the logs and load, not about the odds).
AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW = 30, 300
MAX_START = 10**9


def scim_response(data, status: int = 200, etag: str | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False) if data is not None else b"", status=status,
                            content_type=CONTENT_TYPE if data is not None else None)
    if etag:
        response["ETag"] = etag
    return response


def error_response(error: ScimError) -> HttpResponse:
    body = {"schemas": [documents.ERROR_SCHEMA], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    response = scim_response(body, error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="PMHub SCIM"'
    if error.status == 429:
        response["Retry-After"] = str(AUTH_FAILURE_WINDOW)
    return response


@method_decorator(csrf_exempt, name="dispatch")
class ScimView(View):
    """Authentication, errors in the SCIM schema, the JSON body; subclasses define the methods."""

    http_method_names = ["get", "post", "put", "patch", "delete"]

    def dispatch(self, request, *args, **kwargs):
        try:
            self.token = self._authenticate(request)
            handler = getattr(self, request.method.lower(), None)
            if handler is None:
                raise ScimError(405, f"{request.method} is not allowed here.")
            return handler(request, *args, **kwargs)
        except ScimError as error:
            if error.status >= 500 or error.status == 401:
                log.info("SCIM %s %s refused: %s", request.method, request.path, error.detail)
            return error_response(error)
        except Exception:
            # The provider gets the protocol's error shape; the traceback goes to the log.
            log.exception("SCIM %s %s failed", request.method, request.path)
            return error_response(ScimError(500, "Internal error; the request was not applied."))

    def http_method_not_allowed(self, request, *args, **kwargs):
        return error_response(ScimError(405, f"{request.method} is not allowed here."))

    def _authenticate(self, request):
        failures = f"scim-auth-fail:{client_address(request)}"
        if cache.get(failures, 0) >= AUTH_FAILURE_LIMIT:
            raise ScimError(429, "Too many requests with a wrong token from your address; wait a few minutes.")
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        token = services.scim_token_authenticate(raw.strip()) if scheme.lower() == "bearer" and raw.strip() else None
        if token is None:
            cache.add(failures, 0, AUTH_FAILURE_WINDOW)
            try:
                cache.incr(failures)
            except ValueError:
                cache.set(failures, 1, AUTH_FAILURE_WINDOW)
            if scheme.lower() != "bearer" or not raw.strip():
                raise ScimError(401, "Send the workspace's SCIM token as: Authorization: Bearer <token>.")
            raise ScimError(401, "Invalid or revoked SCIM token.")
        return token

    @property
    def base(self) -> str:
        return self.request.build_absolute_uri("/scim/v2").rstrip("/")

    def body(self):
        if len(self.request.body) > MAX_BODY:
            raise ScimError(413, f"The request body is larger than {MAX_BODY:,} bytes.")
        try:
            data = json.loads(self.request.body or b"null", parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise bad_request("The body is not valid JSON.", "invalidSyntax")
        if not isinstance(data, dict):
            raise bad_request("Send a JSON object.", "invalidSyntax")
        try:  # a lone surrogate ("\ud800") decodes, but no text column can store it
            json.dumps(data, ensure_ascii=False).encode()
        except (UnicodeEncodeError, RecursionError, ValueError):
            raise bad_request("The body holds text that is not valid Unicode, or is nested too deeply.",
                              "invalidSyntax")
        return data

    def if_match(self):
        return self.request.META.get("HTTP_IF_MATCH")


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _int(value, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise bad_request(f"{name} must be a whole number.", "invalidValue")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise bad_request(f"{name} must be a whole number.", "invalidValue")


class _Collection(ScimView):
    kind = ""

    def list_params(self, source) -> dict:
        filter_text = source.get("filter")
        tree = None
        if filter_text not in (None, ""):
            if not isinstance(filter_text, str):
                raise bad_request("filter must be a string.", "invalidFilter")
            try:
                tree = parse(filter_text)
            except FilterError as e:
                raise bad_request(str(e), "invalidFilter")
        start = min(max(_int(source.get("startIndex"), 1, "startIndex"), 1), MAX_START)
        count = min(max(_int(source.get("count"), documents.DEFAULT_PAGE, "count"), 0), documents.MAX_PAGE)
        if source.get("attributes") and source.get("excludedAttributes"):
            raise bad_request("Send attributes or excludedAttributes, not both.", "invalidSyntax")
        return {"tree": tree, "start": start, "count": count, "attributes": source.get("attributes"),
                "excluded": source.get("excludedAttributes")}

    def listing(self, params) -> HttpResponse:
        try:
            qs = self.queryset(params["tree"])
            total = qs.count()
        except FilterError as e:
            raise bad_request(str(e), "invalidFilter")
        offset = params["start"] - 1
        page = list(qs[offset:offset + params["count"]]) if params["count"] else []
        resources = [documents.project(self.document(obj), attributes=params["attributes"],
                                       excluded=params["excluded"]) for obj in page]
        return scim_response({"schemas": [documents.LIST_SCHEMA], "totalResults": total,
                              "startIndex": params["start"], "itemsPerPage": len(resources),
                              "Resources": resources})

    def get(self, request, uid=None):
        if uid is None:
            return self.listing(self.list_params(request.GET))
        obj = self.one(uid)
        doc = documents.project(self.document(obj), attributes=request.GET.get("attributes"),
                                excluded=request.GET.get("excludedAttributes"))
        return scim_response(doc, etag=documents.etag(obj.version))

    def written(self, obj, status=200) -> HttpResponse:
        doc = self.document(self.one(str(obj.uid)))
        response = scim_response(doc, status, etag=doc["meta"]["version"])
        if status == 201:
            response["Location"] = doc["meta"]["location"]
        return response


class UsersView(_Collection):
    kind = "User"

    def queryset(self, tree):
        return selectors.users_of(workspace_id=self.token.workspace_id, tree=tree)

    def one(self, uid):
        return selectors.user_of(workspace_id=self.token.workspace_id, uid=uid)

    def document(self, identity):
        return documents.user_document(identity, self.base,
                                       groups=[(g.uid, g.display_name) for g in identity.groups.all()])

    def post(self, request, uid=None):
        if uid is not None:
            raise ScimError(405, "POST a new user to /Users.")
        return self.written(services.scim_user_create(token=self.token, body=self.body()), 201)

    def put(self, request, uid=None):
        identity = self._target(uid)
        return self.written(services.scim_user_replace(token=self.token, identity=identity, body=self.body(),
                                                       if_match=self.if_match()))

    def patch(self, request, uid=None):
        identity = self._target(uid)
        return self.written(services.scim_user_patch(token=self.token, identity=identity, body=self.body(),
                                                     base=self.base, if_match=self.if_match()))

    def delete(self, request, uid=None):
        services.scim_user_delete(token=self.token, identity=self._target(uid), if_match=self.if_match())
        return scim_response(None, 204)

    def _target(self, uid):
        if uid is None:
            raise ScimError(405, "Name the user: /Users/<id>.")
        return self.one(uid)


class GroupsView(_Collection):
    kind = "Group"

    def queryset(self, tree):
        return selectors.groups_of(workspace_id=self.token.workspace_id, tree=tree)

    def one(self, uid):
        return selectors.group_of(workspace_id=self.token.workspace_id, uid=uid)

    def document(self, group):
        return documents.group_document(group, self.base, members=[m.uid for m in group.members.all()])

    def post(self, request, uid=None):
        if uid is not None:
            raise ScimError(405, "POST a new group to /Groups.")
        return self.written(services.scim_group_create(token=self.token, body=self.body()), 201)

    def put(self, request, uid=None):
        group = self._target(uid)
        return self.written(services.scim_group_replace(token=self.token, group=group, body=self.body(),
                                                        if_match=self.if_match()))

    def patch(self, request, uid=None):
        group = self._target(uid)
        return self.written(services.scim_group_patch(token=self.token, group=group, body=self.body(),
                                                      base=self.base, if_match=self.if_match()))

    def delete(self, request, uid=None):
        services.scim_group_delete(token=self.token, group=self._target(uid), if_match=self.if_match())
        return scim_response(None, 204)

    def _target(self, uid):
        if uid is None:
            raise ScimError(405, "Name the group: /Groups/<id>.")
        return self.one(uid)


def _search_params(body: dict) -> dict:
    return {"filter": body.get("filter"), "startIndex": body.get("startIndex"), "count": body.get("count"),
            "attributes": body.get("attributes"), "excludedAttributes": body.get("excludedAttributes")}


class SearchView(ScimView):
    """POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3): a list with the query in the body."""

    collection = UsersView

    def post(self, request):
        view = self.collection()
        view.request, view.token = request, self.token
        return view.listing(view.list_params(_search_params(self.body())))


class RootSearchView(ScimView):
    """POST /.search: users, then groups, in one list (RFC 7644 §3.4.3). A filter on an attribute that
    one resource type does not have selects none of that type (a userName filter finds no group)."""

    def post(self, request):
        source = _search_params(self.body())
        parts = []
        for collection in (UsersView, GroupsView):
            view = collection()
            view.request, view.token = request, self.token
            params = view.list_params(source)
            try:
                qs = view.queryset(params["tree"])
                total = qs.count()
            except FilterError as e:
                qs, total, error = None, 0, e
            parts.append((view, qs, total))
        if all(qs is None for _, qs, _ in parts):
            raise bad_request(f"Neither users nor groups can be filtered so: {error}", "invalidFilter")
        start, count = params["start"], params["count"]
        resources, offset = [], start - 1
        for view, qs, total in parts:
            if qs is None or len(resources) >= count:
                offset = max(offset - total, 0)
                continue
            if offset < total:
                for obj in qs[offset:offset + count - len(resources)]:
                    resources.append(documents.project(view.document(obj), attributes=params["attributes"],
                                                       excluded=params["excluded"]))
            offset = max(offset - total, 0)
        return scim_response({"schemas": [documents.LIST_SCHEMA], "totalResults": sum(t for _, _, t in parts),
                              "startIndex": start, "itemsPerPage": len(resources), "Resources": resources})


class ServiceProviderConfigView(ScimView):
    def get(self, request):
        return scim_response(documents.service_provider_config(self.base))


class ResourceTypesView(ScimView):
    NAMES = ("User", "Group")

    def get(self, request, name=None):
        if name is None:
            items = [documents.resource_type_document(self.base, n) for n in self.NAMES]
            return scim_response({"schemas": [documents.LIST_SCHEMA], "totalResults": len(items), "startIndex": 1,
                                  "itemsPerPage": len(items), "Resources": items})
        if name not in self.NAMES:
            raise not_found("resource type")
        return scim_response(documents.resource_type_document(self.base, name))


class SchemasView(ScimView):
    IDS = (documents.USER_SCHEMA, documents.GROUP_SCHEMA)

    def get(self, request, schema_id=None):
        if schema_id is None:
            items = [documents.schema_document(self.base, s) for s in self.IDS]
            return scim_response({"schemas": [documents.LIST_SCHEMA], "totalResults": len(items), "startIndex": 1,
                                  "itemsPerPage": len(items), "Resources": items})
        if schema_id not in self.IDS:
            raise not_found("schema")
        return scim_response(documents.schema_document(self.base, schema_id))


class NotFoundView(ScimView):
    """Any other path under /scim/v2/: a SCIM 404 (after authentication, so nothing is told to a
    caller without a token)."""

    def get(self, request, rest=""):
        raise not_found("endpoint")

    post = put = patch = delete = get
