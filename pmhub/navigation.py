"""The product's navigation: a few sections a product manager recognises, each with its pages.

One table says which page belongs where, keyed by the full view name (namespace included), so
`roadmaps:list` and `backlog:list` can never both be current: the place a person is on is
marked exactly once. Only URL names live here (strings): the core imports no domain app.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

# (section, [(label, url name, view names that count as this page[, lowest role that may open it])]).
PRODUCT_SECTIONS: list[tuple[str, list[tuple[str, str, tuple[str, ...]]]]] = [
    ("Strategy", [
        ("Overview", "roadmaps:product", ("roadmaps:product", "roadmaps:product_edit", "roadmaps:product_delete")),
        ("Objectives", "roadmaps:objectives", ("roadmaps:objectives",)),
        ("Risks and issues", "governance:risks", ("governance:risks", "governance:risk")),
        ("Lifecycle", "governance:lifecycle", ("governance:lifecycle",)),
    ]),
    ("Roadmap", [
        ("Timeline", "roadmaps:timeline", ("roadmaps:timeline", "roadmaps:board", "roadmaps:list",
                                           "roadmaps:initiative", "roadmaps:initiative_new",
                                           "roadmaps:initiative_work", "governance:statement")),
        ("Releases", "roadmaps:releases", ("roadmaps:releases", "roadmaps:release", "delivery:release_scope",
                                           "governance:launch")),
        ("Snapshots", "roadmaps:snapshots", ("roadmaps:snapshots", "roadmaps:snapshot_compare")),
        ("Share links", "roadmaps:share_links", ("roadmaps:share_links",), 20),
    ]),
    ("Backlog", [
        ("Stories", "backlog:list", ("backlog:list", "backlog:story", "backlog:settings")),
        ("Board", "backlog:board", ("backlog:board",)),
        ("Epics", "backlog:epics", ("backlog:epics", "backlog:epic")),
        ("Scoring", "backlog:scoring", ("backlog:scoring",)),
        ("Feedback", "discovery:feedback", ("discovery:feedback",)),
    ]),
    ("Delivery", [
        ("Iterations", "delivery:iterations", ("delivery:iterations", "delivery:iteration", "backlog:iteration_board")),
        ("Import / export", "delivery:import", ("delivery:import", "delivery:import_detail")),
    ]),
    ("Metrics", [
        ("KPIs", "metrics_kpi_list", ("metrics_kpi_list", "metrics_kpi_detail", "metrics_upload")),
        ("Dashboard", "metrics_product_dashboard", ("metrics_product_dashboard",)),
        ("Adoption", "adoption", ("adoption", "adoption_feature", "adoption_keys")),
        ("Outcomes", "outcomes", ("outcomes",)),
    ]),
    ("Discovery", [
        ("Inbox", "discovery:inbox", ("discovery:inbox", "discovery:insight")),
        ("Ideas", "discovery:ideas", ("discovery:ideas", "discovery:idea")),
        ("Companies", "discovery:companies", ("discovery:companies", "discovery:company")),
        ("Import", "discovery:imports", ("discovery:imports", "discovery:import"), 20),
        ("Portal", "discovery:portal", ("discovery:portal",), 20),
        ("Intake", "discovery:intake", ("discovery:intake",), 30),
    ]),
]

# The icon before each section's name (pmhub/icons.py aliases); a section without one shows only words.
SECTION_ICONS = {"Strategy": "strategy", "Roadmap": "roadmap", "Backlog": "backlog", "Delivery": "delivery",
                 "Metrics": "metrics", "Reports": "reports"}

# Workspace-wide pages in the header: (label, url name, view names that count as this page).
WORKSPACE_LINKS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Home", "workspace_home", ("workspace_home",)),
    ("Products", "roadmaps:products", ("roadmaps:products", "roadmaps:product_restore")),
    ("Dashboard", "metrics_workspace_dashboard", ("metrics_workspace_dashboard",)),
    ("Action plans", "metrics_plan_list", ("metrics_plan_list", "metrics_plan_detail")),
    ("Portfolio", "governance:portfolio", ("governance:portfolio", "governance:portfolio_entry",
                                           "governance:templates")),
    ("Reports", "reports:list", ("reports:list", "reports:preview", "reports:detail", "reports:report",
                                 "reports:run")),
    ("Members", "members", ("members",)),
    ("Activity", "activity", ("activity",)),
]


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class NavSection:
    label: str
    url: str
    current: bool
    links: list[NavLink]
    icon: str = ""


# Stand-ins for the workspace slug and the product id in a route reversed once (see Route).
_WS_SLOT = "pmhubwsslot"
_PRODUCT_SLOT = 987654321


class Route:
    """A route reversed once with stand-ins for the workspace slug and product id; `url(ws, product)`
    puts the real ones in. The same string reverse() returns (tests/core/test_page_frame.py):
    the slug is quoted as reverse() quotes the whole path, and an id is digits."""

    __slots__ = ("_parts",)

    def __init__(self, reversed_url: str):
        self._parts = [part.split(str(_PRODUCT_SLOT)) for part in reversed_url.split(_WS_SLOT)]

    def url(self, ws: str = "", product_id: int | None = None) -> str:
        slug = quote(ws, safe=RFC3986_SUBDELIMS + "/~:@") if ws else ws
        pid = str(int(product_id)) if product_id is not None else ""
        return slug.join(pid.join(pieces) for pieces in self._parts)


def _route(name: str, kwargs: dict) -> Route | None:
    try:
        return Route(reverse(name, kwargs=kwargs))
    except NoReverseMatch:  # an app that is not mounted drops out of the menu
        return None


def _urlconf():
    """The URLconf in use: the request's own (get_urlconf) or the settings' (a test may swap it)."""
    return get_urlconf() or settings.ROOT_URLCONF


@lru_cache(maxsize=16)
def _routes_for(urlconf, script_prefix: str) -> dict[str, Route | None]:
    """Every route of the menus reversed once per URLconf and script prefix (was: a reverse() per
    link per page, 34 of them on a product page: issue 23, target 3)."""
    scope = {"ws": _WS_SLOT, "product_id": _PRODUCT_SLOT}
    routes = {name: _route(name, scope) for _, pages in PRODUCT_SECTIONS for _, name, *_ in pages}
    routes["reports:preview"] = _route("reports:preview", {"ws": _WS_SLOT})
    routes.update({name: _route(name, {"ws": _WS_SLOT}) for _, name, _ in WORKSPACE_LINKS})
    return routes


def routes() -> dict[str, Route | None]:
    return _routes_for(_urlconf(), get_script_prefix())


def product_sections(*, view_name: str, workspace_slug: str, product_id: int, role: int = 10) -> list[NavSection]:
    """The sections of a product's menu with the current section and page for `view_name`; pages
    that need a higher role than `role` are left out."""
    known = routes()
    sections = []
    for label, pages in PRODUCT_SECTIONS:
        links = []
        for page_label, url_name, views, *min_role in pages:
            if min_role and role < min_role[0]:
                continue
            route = known[url_name]
            if route is not None:
                links.append(NavLink(page_label, route.url(workspace_slug, product_id), view_name in views))
        if links:
            sections.append(NavSection(label, links[0].url, any(link.current for link in links), links,
                                       SECTION_ICONS.get(label, "")))
    route = known["reports:preview"]
    if route is not None:
        report = route.url(workspace_slug)
        current = view_name == "reports:preview"
        sections.append(NavSection("Reports", f"{report}?product={product_id}", current,
                                   [NavLink("Progress report", f"{report}?product={product_id}", current)],
                                   SECTION_ICONS["Reports"]))
    return sections


def workspace_links(*, view_name: str, workspace_slug: str) -> list[NavLink]:
    """The header's workspace links; a product page marks none (its own menu marks the place)."""
    known = routes()
    links = []
    for label, url_name, views in WORKSPACE_LINKS:
        route = known[url_name]
        if route is not None:
            links.append(NavLink(label, route.url(workspace_slug), view_name in views))
    return links


# The frame's own links (base.html): (name in the template, url name). Fixed ones take no argument;
# the workspace ones take the current workspace's slug, the admin ones show to admins in the user menu.
FRAME_LINKS: dict[str, str] = {
    "home": "home", "workspace_create": "workspace_create", "search": "search",
    "notifications": "notifications", "api_tokens": "api_tokens",
    "notification_preferences": "notification_preferences", "api_docs": "swagger-ui",
    "logout": "logout", "login": "login",
}
WORKSPACE_ADMIN_LINKS: list[tuple[str, str]] = [
    ("Workspace settings", "workspace_settings"),
    ("Webhooks", "reports:webhooks"),
    ("Chat channels", "integrations:channels"),
    ("GitHub pull requests", "integrations:repositories"),
    ("GitHub Apps", "integrations:github_apps"),
    ("Issue sync (Jira, GitHub)", "integrations:jira_connections"),
    ("Single sign-on", "sso_admin:providers"),
]


class FrameUrls(dict):
    """`{{ frame.urls.search }}`: the URLs of FRAME_LINKS, each reversed on first use in a process
    (a name that does not reverse raises NoReverseMatch, as `{% url %}` did)."""

    def __missing__(self, key):
        url = self[key] = reverse(FRAME_LINKS[key])
        return url


@lru_cache(maxsize=16)
def frame_urls_for(urlconf, script_prefix: str) -> FrameUrls:
    return FrameUrls()


def frame_urls() -> FrameUrls:
    return frame_urls_for(_urlconf(), get_script_prefix())


class _WorkspaceRoutes(dict):
    def __missing__(self, name):
        route = self[name] = Route(reverse(name, kwargs={"ws": _WS_SLOT}))
        return route


@lru_cache(maxsize=16)
def _workspace_routes_for(urlconf, script_prefix: str) -> _WorkspaceRoutes:
    return _WorkspaceRoutes()


def workspace_url(name: str, workspace_slug: str) -> str:
    """reverse(name, kwargs={"ws": workspace_slug}) from a route reversed once per process (the
    frame's workspace routes: the switcher's, the live poll's, the admin links')."""
    return _workspace_routes_for(_urlconf(), get_script_prefix())[name].url(workspace_slug)


def admin_links(*, workspace_slug: str) -> list[NavLink]:
    return [NavLink(label, workspace_url(name, workspace_slug), False) for label, name in WORKSPACE_ADMIN_LINKS]
