"""Generated tenancy matrix: every API viewset and every page that names a workspace or an
object is checked for isolation (outsider: 404) and roles (viewer: 403 on writes, nothing
changes). Routes come from the URL resolver and the API router, so a new app's routes are
covered as soon as they are mounted; a route without an entry in tests/security/matrix_*.py
fails with a message saying what to add."""

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from rest_framework.permissions import AllowAny

from pmhub.api.base import ScopedViewSet
from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory

from .matrix import (
    STRANGERS,
    WRITE_METHODS,
    Exempt,
    Route,
    VisitorRoute,
    api_detail_routes,
    api_list_routes,
    api_registry,
    load_registry,
    missing_entry_message,
    page_routes,
)

pytestmark = pytest.mark.django_db

REGISTRY = load_registry()
API_ROUTES = api_detail_routes()
# Routes of a visitor space (the public portal) have visitors of their own, not workspace roles:
# they are the visitor dimension below, not the outsider/viewer one.
VISITOR_ROUTES = [r for r in page_routes() if REGISTRY.space_of(r.route)]
PAGE_ROUTES = [r for r in page_routes() if not REGISTRY.space_of(r.route)]
DEFAULT_PAYLOAD = {"name": "Pwned", "title": "Pwned", "role": Role.ADMIN, "email": "pwned@example.com"}


def _snapshot(entry: Route, obj):
    if entry.snapshot is not None:
        return entry.snapshot(obj)
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _payload(entry: Route, obj) -> dict:
    return entry.payload(obj) if entry.payload else dict(DEFAULT_PAYLOAD)


# --- the registry itself -------------------------------------------------------------------
@pytest.mark.parametrize("basename,viewset", [(b, v) for _p, v, b in api_registry()], ids=lambda x: str(x))
def test_every_viewset_is_scoped_and_guarded(basename, viewset):
    classes = list(viewset.permission_classes)
    assert classes, f"{viewset.__name__} has no permission classes."
    assert AllowAny not in classes, f"{viewset.__name__} allows anyone: use ScopedViewSet and action_roles."
    if not issubclass(viewset, ScopedViewSet):
        assert basename in REGISTRY.api_base_exceptions, (
            f"{viewset.__name__} ({basename}) does not derive from pmhub.api.base.ScopedViewSet. Derive from it, or "
            f"add API_BASE_EXCEPTIONS[{basename!r}] = 'reason' in tests/security/matrix_<app>.py."
        )
    else:
        assert isinstance(viewset.action_roles, dict), f"{viewset.__name__}.action_roles must be a dict."


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.url_name)
def test_api_object_route_is_registered(route):
    assert route.basename in REGISTRY.api, missing_entry_message("API", route.basename, route.url_name)


@pytest.mark.parametrize("route", [r for r in PAGE_ROUTES if r.object_kwargs], ids=lambda r: r.key)
def test_page_object_route_is_registered(route):
    assert route.name, f"Page route {route.route!r} has no name: name it so the matrix can reverse it."
    assert route.key in REGISTRY.pages, missing_entry_message("Page", route.key, route.route)


def test_registry_has_no_stale_entries():
    """An entry whose route was renamed or removed would silently test nothing."""
    api_names = {basename for _p, _v, basename in api_registry()}
    page_names = {r.key for r in PAGE_ROUTES}
    visitor_names = {r.key for r in VISITOR_ROUTES}
    assert not set(REGISTRY.api) - api_names, f"Stale API entries: {set(REGISTRY.api) - api_names}"
    assert not set(REGISTRY.pages) - page_names, f"Stale page entries: {set(REGISTRY.pages) - page_names}"
    assert not set(REGISTRY.visitor_pages) - visitor_names, (
        f"Stale visitor entries: {set(REGISTRY.visitor_pages) - visitor_names}")


# --- API -----------------------------------------------------------------------------------
def _api_entry(route):
    entry = REGISTRY.api.get(route.basename)
    if entry is None:
        pytest.fail(missing_entry_message("API", route.basename, route.url_name))
    if isinstance(entry, Exempt):
        pytest.skip(f"exempt: {entry.reason}")
    return entry


def _api_url(route, obj):
    lookup = getattr(obj, route.viewset.lookup_field if route.viewset.lookup_field != "pk" else "pk")
    return reverse(route.url_name, kwargs={route.lookup_kwarg: lookup})


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.url_name)
def test_api_outsider_gets_404_and_nothing_changes(route, workspace, admin, outsider, api_as):
    entry = _api_entry(route)
    obj = entry.build(workspace)
    before = _snapshot(entry, obj)
    url = _api_url(route, obj)
    client = api_as(outsider)
    for method in ("get", "put", "patch", "delete", "post"):
        response = getattr(client, method)(url, _payload(entry, obj), format="json")
        expected = 404 if method in route.mapping else 405
        assert response.status_code == expected, f"{method.upper()} {url} as outsider: {response.status_code}"
    assert _snapshot(entry, obj) == before


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.url_name)
def test_api_viewer_cannot_write_and_nothing_changes(route, workspace, admin, viewer, api_as):
    entry = _api_entry(route)
    obj = entry.build(workspace)
    before = _snapshot(entry, obj)
    url = _api_url(route, obj)
    client = api_as(viewer, workspace)
    if "get" in route.mapping:  # the object is really there for members: the 404s above mean something
        assert client.get(url).status_code == 200, f"GET {url} as a viewer of the same workspace"
    for method in WRITE_METHODS:
        if method in entry.viewer_may:
            continue
        response = getattr(client, method)(url, _payload(entry, obj), format="json")
        expected = 403 if method in route.mapping else 405
        assert response.status_code == expected, f"{method.upper()} {url} as viewer: {response.status_code}"
        assert response.json()["code"], response.content
    assert _snapshot(entry, obj) == before


@pytest.mark.parametrize("route", [r for r in API_ROUTES if "get" in r.mapping], ids=lambda r: r.url_name)
def test_api_object_opens_in_the_browsable_api(route, workspace, admin, client_as):
    """The same object in a browser (session, Accept: text/html): a page, not a 500."""
    entry = _api_entry(route)
    obj = entry.build(workspace)
    response = client_as(admin).get(_api_url(route, obj), HTTP_ACCEPT="text/html")
    assert response.status_code == 200, f"GET {_api_url(route, obj)} in the browsable API: {response.status_code}"
    assert response["Content-Type"].startswith("text/html")


# --- pages ---------------------------------------------------------------------------------
def _page_entry(route) -> Route | None:
    entry = REGISTRY.pages.get(route.key)
    if entry is None and route.object_kwargs:
        pytest.fail(missing_entry_message("Page", route.key, route.route))
    if isinstance(entry, Exempt):
        pytest.skip(f"exempt: {entry.reason}")
    return entry


def _page_kwargs(route, entry, obj, ws_slug):
    kwargs = {"ws": ws_slug} if route.in_workspace else {}
    if route.object_kwargs:
        if entry.kwargs is not None:
            kwargs.update(entry.kwargs(obj))
        else:
            assert len(route.object_kwargs) == 1, f"{route.key}: several object kwargs, give Route(kwargs=...)"
            kwargs[route.object_kwargs[0]] = obj.pk
    return kwargs


def _expected(route, method, refused):
    return refused if method in route.offered_methods() else 405


def _page_world(route, workspace):
    entry = _page_entry(route)
    obj = entry.build(workspace) if entry and route.object_kwargs else workspace
    return entry, obj


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda r: r.key)
def test_page_outsider_gets_404_and_nothing_changes(route, workspace, admin, outsider, other_workspace, client_as):
    entry, obj = _page_world(route, workspace)
    snap_entry = entry or Route(build=lambda ws: ws)
    before = _snapshot(snap_entry, obj)
    stranger = outsider
    if entry is not None and entry.owner_scoped:
        # The object belongs to one user: even an admin of the same workspace is a stranger to it.
        stranger = admin
    client = client_as(stranger)
    # The victim's workspace in the URL, and (the IDOR case) the stranger's own workspace with the victim's object.
    slugs = [workspace.slug] + ([other_workspace.slug] if route.in_workspace and route.object_kwargs else [])
    if not route.in_workspace:
        slugs = [None]
    for slug in slugs:
        url = reverse(route.name, kwargs=_page_kwargs(route, entry, obj, slug))
        for method in ("get", "post"):
            response = getattr(client, method)(url, _payload(snap_entry, obj))
            if slug == other_workspace.slug and method not in route.offered_methods():
                expected = 405
            else:
                expected = _expected(route, method, 404)
                if slug == workspace.slug and route.in_workspace:
                    expected = 404  # the workspace is resolved first: a non-member learns nothing
            assert response.status_code == expected, f"{method.upper()} {url} as stranger: {response.status_code}"
    assert _snapshot(snap_entry, obj) == before


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda r: r.key)
def test_page_viewer_cannot_write_and_nothing_changes(route, workspace, admin, viewer, client_as):
    entry, obj = _page_world(route, workspace)
    if entry is not None and entry.owner_scoped:
        pytest.skip("owner-scoped object: roles do not apply, the stranger test covers it")
    snap_entry = entry or Route(build=lambda ws: ws)
    before = _snapshot(snap_entry, obj)
    url = reverse(route.name, kwargs=_page_kwargs(route, entry, obj, workspace.slug))
    if "get" in route.offered_methods():  # the page really works for its admin: the refusals below mean something
        assert client_as(admin).get(url).status_code == 200, f"GET {url} as an admin of the same workspace"
    client = client_as(viewer)
    if entry is not None and "post" in entry.viewer_may:
        return
    response = client.post(url, _payload(snap_entry, obj))
    expected = _expected(route, "post", 403)
    assert response.status_code == expected, f"POST {url} as viewer: {response.status_code}"
    assert _snapshot(snap_entry, obj) == before


def test_matrix_covers_routes():
    """Print the coverage figure (visible with -s / in the report)."""
    covered = [r for r in API_ROUTES if isinstance(REGISTRY.api.get(r.basename), Route)]
    pages = [r for r in PAGE_ROUTES if not isinstance(REGISTRY.pages.get(r.key), Exempt)]
    print(f"tenancy matrix: {len(covered)} API object routes, {len(pages)} page routes")
    assert covered and pages


def test_a_new_member_of_the_workspace_is_not_an_outsider(workspace, admin, api_as):
    """Guard of the matrix itself: the same calls as a member succeed, so a 404 above is isolation."""
    member = UserFactory()
    MembershipFactory(user=member, workspace=workspace, role=Role.ADMIN)
    assert api_as(member, workspace).get(f"/api/v1/workspaces/{workspace.id}/").status_code == 200


LIST_ROUTES = [r for r in api_list_routes() if isinstance(REGISTRY.api.get(r.basename), Route)]


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.url_name)
def test_api_lists_do_not_show_another_workspaces_objects(route, workspace, admin, outsider, api_as):
    obj = REGISTRY.api[route.basename].build(workspace)
    response = api_as(outsider).get(reverse(route.url_name), {"page_size": 200})
    assert response.status_code == 200
    body = response.json()
    items = body["results"] if isinstance(body, dict) and "results" in body else body
    assert obj.pk not in [item.get("id") for item in items if isinstance(item, dict)]
    mine = api_as(admin).get(reverse(route.url_name), {"page_size": 200}).json()
    mine = mine["results"] if isinstance(mine, dict) and "results" in mine else mine
    assert obj.pk in [item.get("id") for item in mine if isinstance(item, dict)], "builder object not listed to its admin"


# --- visitor spaces (the public portal) ------------------------------------------------------
# Visitors are not workspace users: each route of a visitor space is requested by every kind of
# stranger (nobody; a signed-in visitor of another workspace's portal; that visitor's signed
# cookie replayed under this portal's cookie name; a signed-in member of the owning workspace),
# with the visible object and with every hidden one (unpublished, merged, of another product, of
# the other workspace's portal). A hidden object is 404 to all of them and to the portal's own
# visitor; nobody's write changes anything; no answer contains a canary (a private title, an
# e-mail address, the workspace's own names); a closed portal is 404 on every route.
def _visitor_entry(route) -> VisitorRoute:
    entry = REGISTRY.visitor_pages.get(route.key)
    if entry is None:
        pytest.fail(f"Visitor route {route.key!r} ({route.route}) has no entry: add VISITOR_PAGES[{route.key!r}] = "
                    f"VisitorRoute(...) to tests/security/matrix_<app>.py (see tests/security/README.md).")
    if isinstance(entry, Exempt):
        pytest.skip(f"exempt: {entry.reason}")
    return entry


def _visitor_client(space, world, who, member):
    from django.test import Client

    client = Client()
    if who == "member":
        client.force_login(member)  # a workspace session is nobody on the portal
    elif who != "anonymous":
        space.sign_in(client, world, who)
    return client


def _no_canary(response, world, what, own=()):
    """`own`: what the requester knows anyway (a member's own name and workspace, on Django's 404)."""
    body = response.content.decode(errors="replace")
    leaked = [c for c in world.canaries if c in body and c not in own]
    assert not leaked, f"{what} shows {leaked}"


def _signin_redirect(response, url) -> bool:
    return response.status_code == 302 and ("/signin/" in response["Location"] or response["Location"] == url)


def _visitor_requests(route, entry, world):
    """(target, hidden?) pairs: the visible object, then every hidden one of the route's kind."""
    if entry.names is None:
        return [(None, False)]
    return [(world.visible[entry.names], False)] + [(t, True) for t in world.hidden[entry.names]]


@pytest.mark.parametrize("route", VISITOR_ROUTES, ids=lambda r: r.key)
def test_visitor_route_is_registered(route):
    assert route.name, f"Visitor route {route.route!r} has no name."
    assert route.key in REGISTRY.visitor_pages, f"Visitor route {route.key!r} has no VISITOR_PAGES entry."
    assert route.key not in REGISTRY.pages, f"{route.key!r} is a visitor route: list it in VISITOR_PAGES only."


@pytest.mark.parametrize("who", STRANGERS)
@pytest.mark.parametrize("route", VISITOR_ROUTES, ids=lambda r: r.key)
def test_visitor_strangers_see_nothing_hidden_and_change_nothing(route, who, workspace, other_workspace, admin):
    entry = _visitor_entry(route)
    space = REGISTRY.space_of(route.route)
    world = space.build(workspace, other_workspace)
    client = _visitor_client(space, world, who, admin)
    own = {admin.email, admin.name, workspace.name, workspace.slug} if who == "member" else set()
    offered = route.offered_methods()
    for target, hidden in _visitor_requests(route, entry, world):
        url = reverse(route.name, kwargs=entry.kwargs(world, target))
        for method in ("get", "post"):
            before = space.snapshot(world)
            body = entry.payload(world, target) if entry.payload else {}
            response = getattr(client, method)(url, body)
            what = f"{method.upper()} {url} as {who} ({'hidden' if hidden else 'visible'})"
            if method not in offered:
                assert response.status_code == 405, f"{what}: {response.status_code}"
            elif hidden:
                # Not found, or (a write by someone not signed in here) the same sign-in redirect as for a
                # visible object: either way nothing tells a hidden object from a missing one.
                assert response.status_code == entry.hidden_status[method] or (
                    method == "post" and _signin_redirect(response, url)), f"{what}: {response.status_code}"
            elif method == "get":
                assert response.status_code == entry.own_status, f"{what}: {response.status_code}"
            elif method in entry.anonymous_may:
                continue  # by design (the reason is in the entry); the world is rebuilt per stranger
            else:
                assert response.status_code in (400, 404) or _signin_redirect(response, url), (
                    f"{what}: {response.status_code}")
            _no_canary(response, world, what, own)
            assert space.snapshot(world) == before, f"{what} changed something"


@pytest.mark.parametrize("route", VISITOR_ROUTES, ids=lambda r: r.key)
def test_visitor_of_the_portal_itself_is_the_control(route, workspace, other_workspace, admin):
    """The portal's own visitor gets the visible object (so the 404s above are isolation, not a
    broken route) and still nothing hidden, and no canary."""
    entry = _visitor_entry(route)
    space = REGISTRY.space_of(route.route)
    world = space.build(workspace, other_workspace)
    client = _visitor_client(space, world, "own", admin)
    for target, hidden in _visitor_requests(route, entry, world):
        url = reverse(route.name, kwargs=entry.kwargs(world, target))
        if "get" in route.offered_methods():
            response = client.get(url)
            expected = entry.hidden_status["get"] if hidden else entry.own_status
            assert response.status_code == expected, f"GET {url} as the portal's visitor: {response.status_code}"
            _no_canary(response, world, f"GET {url} as the portal's visitor")
        if hidden and "post" in route.offered_methods():
            before = space.snapshot(world)
            response = client.post(url, entry.payload(world, target) if entry.payload else {})
            assert response.status_code == entry.hidden_status["post"], (
                f"POST {url} (hidden) as the portal's visitor: {response.status_code}")
            assert space.snapshot(world) == before, f"POST {url} (hidden) as the portal's visitor changed something"


@pytest.mark.parametrize("route", VISITOR_ROUTES, ids=lambda r: r.key)
def test_visitor_route_of_a_closed_space_is_404_to_everyone(route, workspace, other_workspace, admin):
    entry = _visitor_entry(route)
    space = REGISTRY.space_of(route.route)
    world = space.build(workspace, other_workspace)
    space.close(world)
    target = world.visible[entry.names] if entry.names else None
    url = reverse(route.name, kwargs=entry.kwargs(world, target))
    for who in ("own", *STRANGERS):
        client = _visitor_client(space, world, who, admin)
        before = space.snapshot(world)
        for method in ("get", "post"):
            body = entry.payload(world, target) if entry.payload else {}
            response = getattr(client, method)(url, body)
            assert response.status_code == 404, f"{method.upper()} {url} of a closed space as {who}: {response.status_code}"
        assert space.snapshot(world) == before
