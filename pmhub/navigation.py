"""The product's navigation: a few sections a product manager recognises, each with its pages.

One table says which page belongs where, keyed by the full view name (namespace included), so
`roadmaps:list` and `backlog:list` can never both be current: the place a person is on is
marked exactly once. Only URL names live here (strings): the core imports no domain app.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

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


def _url(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:  # an app that is not mounted drops out of the menu
        return None


def product_sections(*, view_name: str, workspace_slug: str, product_id: int, role: int = 10) -> list[NavSection]:
    """The sections of a product's menu with the current section and page for `view_name`; pages
    that need a higher role than `role` are left out."""
    sections = []
    for label, pages in PRODUCT_SECTIONS:
        links = []
        for page_label, url_name, views, *min_role in pages:
            if min_role and role < min_role[0]:
                continue
            url = _url(url_name, ws=workspace_slug, product_id=product_id)
            if url is not None:
                links.append(NavLink(page_label, url, view_name in views))
        if links:
            sections.append(NavSection(label, links[0].url, any(link.current for link in links), links,
                                       SECTION_ICONS.get(label, "")))
    report = _url("reports:preview", ws=workspace_slug)
    if report is not None:
        current = view_name == "reports:preview"
        sections.append(NavSection("Reports", f"{report}?product={product_id}", current,
                                   [NavLink("Progress report", f"{report}?product={product_id}", current)],
                                   SECTION_ICONS["Reports"]))
    return sections


def workspace_links(*, view_name: str, workspace_slug: str) -> list[NavLink]:
    """The header's workspace links; a product page marks none (its own menu marks the place)."""
    links = []
    for label, url_name, views in WORKSPACE_LINKS:
        url = _url(url_name, ws=workspace_slug)
        if url is not None:
            links.append(NavLink(label, url, view_name in views))
    return links
