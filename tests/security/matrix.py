"""The route registry behind the generated tenancy matrix (see README.md in this folder).

Every app lists its object routes in `tests/security/matrix_<app>.py`; this module walks the
URL resolver and the API router, merges the registries of all those files, and says which
routes still lack an entry.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

WRITE_METHODS = ("put", "patch", "delete", "post")
API_PREFIX = "api/"
# Route prefixes that are not tenant data: Django's admin (staff only) and the schema/docs.
IGNORED_PREFIXES = ("admin/", "api/schema/", "api/docs/", "static/")


@dataclass(frozen=True)
class Route:
    """How to make an object for one route, and what to send to it.

    build(workspace) -> instance: a saved object inside `workspace` (use factories).
    kwargs(instance) -> dict: URL kwargs other than `ws` (pages only; the default is
        {<the one object kwarg>: instance.pk}).
    payload(instance) -> dict: body of the refused writes (default: a harmless rename).
    snapshot(instance) -> Any: what "unchanged" means (default: the row's column values).
    viewer_may: {method: reason} writes that a viewer is allowed by design (e.g. leaving).
    owner_scoped: the object belongs to a user, not a workspace (e.g. API tokens): the
        "outsider" is then another user of the same workspace.
    """

    build: Callable[[Any], Any]
    kwargs: Callable[[Any], dict] | None = None
    payload: Callable[[Any], dict] | None = None
    snapshot: Callable[[Any], Any] | None = None
    viewer_may: dict[str, str] = field(default_factory=dict)
    owner_scoped: bool = False


@dataclass(frozen=True)
class Exempt:
    """A route left out of the matrix, with the reason (reviewed like code)."""

    reason: str


@dataclass(frozen=True)
class VisitorSpace:
    """A public URL space with visitors of its own, who are not workspace users (the discovery
    portal: /portal/<slug>/, visitors signed in by e-mail link, a signed cookie per portal).

    Every route under `prefix` is a dimension of the matrix: it is requested by each kind of
    stranger (`STRANGERS`: nobody, a signed-in visitor of another workspace's portal, that
    visitor's cookie replayed under this portal's name, a member of the owning workspace) and
    by this space's own visitor (the control).

    build(workspace, other_workspace) -> world: an open space of `workspace` with a visible
        object per kind, the hidden objects per kind (`world.hidden[kind]`: unpublished, merged,
        of another product, of the other workspace's space) and `world.canaries`: text that no
        answer of the space may contain, to anyone (private titles, e-mail addresses, the
        workspace's own names).
    sign_in(client, world, who) -> None: make `client` the given kind of visitor ("own",
        "foreign", "forged"); "anonymous" and "member" need nothing from the space.
    close(world) -> None: switch the space off (every route then answers 404 to everyone).
    snapshot(world) -> Any: everything a visitor could change, in both workspaces.
    """

    prefix: str
    build: Callable[[Any, Any], Any]
    sign_in: Callable[[Any, Any, str], None]
    close: Callable[[Any], None]
    snapshot: Callable[[Any], Any]


@dataclass(frozen=True)
class VisitorRoute:
    """One route of a visitor space (see VisitorSpace).

    kwargs(world, target) -> dict: the URL kwargs (target: an object of kind `names`, or None).
    names: the kind of object the URL names ("idea", "signin_link", ...): the route is then
        requested with the visible object and with every hidden one of that kind.
    payload(world, target) -> dict: the body of the POSTs.
    anonymous_may: {method: reason} writes anyone may make on the VISIBLE object by design
        (asking for a sign-in link; using the link or the unsubscribe token that is the credential).
    hidden_status: what a hidden object answers, per method (default 404: not found, nothing said).
    own_status: what the space's own visitor gets on GET of the visible object (the control).
    """

    kwargs: Callable[[Any, Any], dict]
    names: str | None = None
    payload: Callable[[Any, Any], dict] | None = None
    anonymous_may: dict[str, str] = field(default_factory=dict)
    hidden_status: dict[str, int] = field(default_factory=lambda: {"get": 404, "post": 404})
    own_status: int = 200


STRANGERS = ("anonymous", "foreign", "forged", "member")


@dataclass
class Registry:
    api: dict[str, Route | Exempt] = field(default_factory=dict)
    pages: dict[str, Route | Exempt] = field(default_factory=dict)
    api_base_exceptions: dict[str, str] = field(default_factory=dict)
    visitor_pages: dict[str, VisitorRoute | Exempt] = field(default_factory=dict)
    visitor_spaces: dict[str, VisitorSpace] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def space_of(self, route: str) -> VisitorSpace | None:
        return next((s for p, s in self.visitor_spaces.items() if route.startswith(p)), None)


def load_registry() -> Registry:
    """Merge API / PAGES / API_BASE_EXCEPTIONS of every tests/security/matrix_<app>.py."""
    registry = Registry()
    folder = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda i: i.name):
        if not info.name.startswith("matrix_"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        for attr, target in (("API", registry.api), ("PAGES", registry.pages),
                             ("API_BASE_EXCEPTIONS", registry.api_base_exceptions),
                             ("VISITOR_PAGES", registry.visitor_pages)):
            for key, value in getattr(module, attr, {}).items():
                if key in target:
                    raise AssertionError(f"{attr}[{key!r}] is registered twice "
                                         f"({registry.sources[f'{attr}:{key}']} and {info.name}).")
                target[key] = value
                registry.sources[f"{attr}:{key}"] = info.name
        space = getattr(module, "VISITOR_SPACE", None)
        if space is not None:
            registry.visitor_spaces[space.prefix] = space
    return registry


# --- pages ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageRoute:
    route: str  # e.g. "w/<slug:ws>/members/<int:membership_id>/role/"
    name: str | None
    kwargs: tuple[str, ...]
    callback: Any

    @property
    def key(self) -> str:
        return self.name or self.route

    @property
    def object_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k != "ws")

    @property
    def in_workspace(self) -> bool:
        return "ws" in self.kwargs

    def offered_methods(self) -> set[str]:
        view_class = getattr(self.callback, "view_class", None)
        if view_class is None:  # a function view: assume it answers GET and POST
            return {"get", "post"}
        return {m for m in view_class.http_method_names if m != "options" and hasattr(view_class, m)}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            yield route, (f"{namespace}{p.name}" if p.name else None), p


def page_routes() -> list[PageRoute]:
    """Every HTML route with URL kwargs (i.e. one that names a workspace or an object)."""
    found = {}
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(API_PREFIX) or route.startswith(IGNORED_PREFIXES):
            continue
        # kwargs of the enclosing includes are part of the route: read them from the route text
        kwargs = tuple(dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>", route)))
        if not kwargs:
            continue
        found.setdefault(route, PageRoute(route, name, kwargs, pattern.callback))
    return sorted(found.values(), key=lambda r: r.route)


# --- API -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiRoute:
    basename: str
    viewset: Any
    url_name: str  # e.g. "workspace-detail", "workspace-members"
    mapping: dict  # {"get": "retrieve", ...}

    @property
    def lookup_kwarg(self) -> str:
        return self.viewset.lookup_url_kwarg or self.viewset.lookup_field


def api_registry():
    from pmhub.api.urls import router

    return router.registry  # [(prefix, viewset, basename)]


def api_detail_routes() -> list[ApiRoute]:
    from pmhub.api.urls import router

    routes = []
    for _prefix, viewset, basename in router.registry:
        for r in router.get_routes(viewset):
            if not r.detail:
                continue
            mapping = {m: a for m, a in r.mapping.items() if hasattr(viewset, a)}
            if mapping:
                routes.append(ApiRoute(basename, viewset, r.name.format(basename=basename), mapping))
    return routes


def api_list_routes() -> list[ApiRoute]:
    from pmhub.api.urls import router

    routes = []
    for _prefix, viewset, basename in router.registry:
        for r in router.get_routes(viewset):
            mapping = {m: a for m, a in r.mapping.items() if hasattr(viewset, a)}
            if not r.detail and "get" in mapping:
                routes.append(ApiRoute(basename, viewset, r.name.format(basename=basename), mapping))
    return routes


def missing_entry_message(kind: str, key: str, where: str) -> str:
    return (
        f"{kind} route {key!r} ({where}) has no entry in the tenancy matrix. Add a builder to "
        f"tests/security/matrix_<app>.py, e.g. {'API' if kind == 'API' else 'PAGES'}[{key!r}] = "
        f"Route(build=lambda ws: MyFactory(workspace=ws)) - or Exempt('why') with a reviewed reason. "
        f"See tests/security/README.md."
    )
