"""The browser sweep's route list: every GET page route from the URL resolver, with the URL
kwargs filled from the demo data (`seed_demo`).

A route is either filled by FILL (a function from the demo world to its kwargs, returning
None when the demo has nothing to show there, which fails the sweep), or listed in EXEMPT with
a reason that a reviewer has read. A route in neither fails the sweep with a message saying
what to add, so a new page is swept as soon as it is mounted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# scim/v2/: the SCIM protocol for identity providers (JSON, bearer token), tested in tests/scim.
IGNORED_PREFIXES = ("admin/", "api/", "static/", "media/", "scim/v2/")

# Routes that are not pages a person opens, or that cannot be filled from demo data by design.
EXEMPT: dict[str, str] = {
    "healthz": "liveness probe for the container (JSON), not a page",
    "favicon": "the icon itself, not a page (tests/core/test_ui_pages.py)",
    "logout": "POST only",
    "github_webhook": "inbound GitHub webhook (POST with a signature), not a page: tests/integrations/test_github.py",
    "jira_webhook": "inbound Jira webhook (POST with a signature), not a page: tests/integrations/test_jira_tenancy.py",
    "backlog:rows": "htmx partial (rows of the backlog table), swept as part of backlog:list",
    "backlog:row": "htmx partial (one backlog row), swept as part of backlog:list",
    "delivery:iteration_backlog": "htmx partial (the next unplanned stories of the planning column), swept as part "
                                  "of delivery:iteration",
    "backlog:board_more": "cards appended by the board's Show more (needs ?status=), swept as part of backlog:board",
    "job_progress": "htmx partial polled by pages with background work",
    "live_poll": "JSON polled by live pages that cannot open a websocket (tests/core/test_live.py, tests/e2e/test_live.py)",
    "metrics_product_dashboard_data": "JSON behind the dashboard's charts, swept through the dashboard",
    "metrics_workspace_dashboard_data": "JSON behind the dashboard's charts, swept through the dashboard",
    "metrics_product_dashboard_csv": "CSV download",
    "metrics_workspace_dashboard_csv": "CSV download",
    "delivery:export": "CSV download",
    "password_reset_confirm": "needs a one-time token from an e-mail; the form is the same as password_change",
    "invitation_accept": "needs a one-time invitation key from an e-mail",
    "signup_confirm": "needs a signed one-time token from the sign-up e-mail",
    "sso:saml_login": "redirects to the SAML identity provider (tests/sso/test_saml.py follows it)",
    "sso:saml_callback": "the SAML ACS: receives the identity provider's POST (tests/sso/test_saml.py)",
    "sso:saml_acs_complete": "the SAML ACS's second step, POST only (tests/sso/test_saml.py)",
    "sso:saml_metadata": "SAML SP metadata XML, not a page (tests/sso/test_saml.py reads it)",
    "reports:unsubscribe": "needs a signed token from an e-mail (tests/reports cover the page)",
    "roadmaps:product_restore": "only for a deleted product; the demo has none on purpose",
    "metrics_upload": "preview of a staged CSV upload (state between upload and confirm); "
                      "tests/metrics/test_measurements.py renders it",
    "delivery:import_detail": "preview of a staged Jira import (state between upload and confirm); "
                              "tests/delivery/test_import.py renders it",
    "metrics_upload_reading": "htmx partial polled while the worker reads an uploaded CSV; "
                              "tests/metrics/test_upload_worker.py renders it",
    "delivery:import_reading": "htmx partial polled while the worker reads an uploaded file; "
                               "tests/delivery/test_import_worker.py renders it",
    "portal:link": "needs a single-use sign-in token from an e-mail (tests/e2e/test_discovery_portal.py opens it)",
    "portal:signout": "POST only",
    "portal:similar": "htmx partial of the portal's submit form (tests/discovery/test_similar.py)",
    "discovery:similar": "htmx partial of the inbox and idea forms (tests/discovery/test_similar.py)",
    "portal:feed": "Atom XML, not a page (tests/discovery/test_portal.py reads it)",
    "portal:logo": "An image, not a page (tests/discovery/test_portal_logo.py fetches it and checks its headers)",
    "portal:unsubscribe": "needs a signed token from an e-mail (tests/discovery/test_portal.py uses it)",
    "discovery:import": "preview of a staged CSV of companies or insights (state between upload and confirm); "
                        "tests/discovery/test_imports.py renders it",
    "discovery:import_reading": "htmx partial polled while the worker reads or writes a CSV; "
                                "tests/discovery/test_imports.py renders it",
    "sso:oidc_login": "redirects to the identity provider (the demo's is disabled); tests/sso/test_oidc.py and "
                      "tests/e2e/test_sso.py follow it",
    "sso:oidc_callback": "the identity provider's answer (needs this browser's state and a signed token); "
                         "tests/sso/test_oidc.py and tests/e2e/test_sso.py",
}

# Pages that need more than a viewer's role: a lower role gets our 403 page (checked like any page).
MIN_ROLE: dict[str, str] = {
    "workspace_settings": "admin", "reports:webhooks": "admin", "reports:webhook_detail": "admin",
    "integrations:channels": "admin", "integrations:channel": "admin",
    "integrations:repositories": "admin", "integrations:repository": "admin",
    "scim:settings": "admin", "scim:group": "admin",
    "integrations:jira_connections": "admin", "integrations:jira_connection": "admin", "integrations:jira_link": "admin",
    "integrations:github_apps": "admin", "integrations:github_app": "admin",
    "roadmaps:product_edit": "editor", "roadmaps:product_delete": "admin", "roadmaps:initiative_new": "editor",
    "roadmaps:initiative": "editor", "roadmaps:share_links": "editor", "adoption_keys": "admin",
    "governance:risk_new": "editor", "governance:risk_edit": "editor",
    "discovery:imports": "editor", "discovery:intake": "admin", "discovery:portal": "editor",
    "sso_admin:providers": "admin", "sso_admin:provider": "admin", "sso_admin:domains": "admin",
    "sso_admin:domain": "admin",
}
ROLE_RANK = {"viewer": 10, "editor": 20, "admin": 30}

# Pages anonymous people open (signed-out users; the share link is opened by its own test).
ANONYMOUS = ("login", "signup", "password_reset", "password_reset_done", "password_reset_complete",
             "portal:home", "portal:signin", "portal:idea", "portal:roadmap", "portal:releases", "sso:start")


@dataclass(frozen=True)
class SweepRoute:
    name: str
    route: str
    kwargs: tuple[str, ...]


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            yield route, (f"{namespace}{p.name}" if p.name else None), p


def _answers_get(callback) -> bool:
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return True  # a function view: assume it answers GET
    return hasattr(view_class, "get") and "get" in view_class.http_method_names


def page_routes() -> list[SweepRoute]:
    """Every named HTML route that answers GET (API, admin and static files aside)."""
    found: dict[str, SweepRoute] = {}
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(IGNORED_PREFIXES) or not _answers_get(pattern.callback):
            continue
        key = name or route
        kwargs = tuple(dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>", route)))
        found.setdefault(key, SweepRoute(key, route, kwargs))
    return sorted(found.values(), key=lambda r: r.route)


@dataclass
class DemoWorld:
    """The objects of the demo workspace that the sweep opens."""

    workspace: Any
    product: Any

    @classmethod
    def load(cls) -> DemoWorld:
        from pmhub.management.commands.seed_demo import DEMO_WORKSPACE_SLUG
        from pmhub.models import Workspace
        from roadmaps.models import Product

        workspace = Workspace.objects.get(slug=DEMO_WORKSPACE_SLUG)
        product = Product.objects.filter(workspace=workspace, name="Acme Analytics").first()
        return cls(workspace=workspace, product=product)


def _first(queryset, **kw) -> int | None:
    obj = queryset.filter(**kw).order_by("pk").first()
    return obj.pk if obj else None


def _p(w: DemoWorld, **extra):
    """kwargs of a product page, or None when one of them has no demo object."""
    kwargs = {"ws": w.workspace.slug, "product_id": w.product.pk, **extra}
    return None if any(v is None for v in kwargs.values()) else kwargs


def _portal(w: DemoWorld) -> dict | None:
    from discovery.models import Portal

    portal = Portal.objects.filter(product=w.product, enabled=True).first()
    return {"slug": portal.slug} if portal else None


def _cr_statement(w: DemoWorld) -> dict | None:
    from governance.models import ImpactStatement

    statement = (ImpactStatement.objects.select_related("change_request")
                 .filter(product=w.product, change_request__isnull=False).first())
    return statement and _p(w, release_id=statement.change_request.release_id, cr_id=statement.change_request_id)


def _fill_table() -> dict[str, Callable[[DemoWorld], dict | None]]:
    from adoption.models import Feature
    from backlog.models import Epic, Story
    from delivery.models import ImportJob, Iteration
    from discovery.models import Company, Idea, Insight
    from governance.models import Risk
    from integrations.models import Channel, GitHubApp, JiraConnection, JiraProjectLink, Repository
    from metrics.models import ActionPlan, Kpi, MeasurementUpload
    from reports.models import ReportRun, ReportSubscription, WebhookEndpoint
    from roadmaps.models import Initiative, Release
    from scim.models import ScimGroup
    from sso.models import IdentityProvider, SsoDomain

    ws = lambda w: {"ws": w.workspace.slug}  # noqa: E731
    product = lambda w: _p(w)  # noqa: E731
    table: dict[str, Callable[[DemoWorld], dict | None]] = {
        "roadmaps:initiative": lambda w: _p(w, initiative_id=_first(Initiative.objects, product=w.product)),
        "roadmaps:initiative_work": lambda w: _p(w, initiative_id=_first(Initiative.objects, product=w.product)),
        "roadmaps:release": lambda w: _p(w, release_id=_first(Release.objects, product=w.product)),
        "delivery:release_scope": lambda w: _p(w, release_id=_first(Release.objects, product=w.product)),
        "backlog:story": lambda w: _p(w, story_id=_first(Story.objects, product=w.product)),
        "backlog:epic": lambda w: _p(w, epic_id=_first(Epic.objects, product=w.product)),
        "metrics_kpi_detail": lambda w: _p(w, kpi_id=_first(Kpi.objects, product=w.product)),
        "metrics_upload": lambda w: (lambda u: u and _p(w, kpi_id=u.kpi_id, upload_id=u.pk))(
            MeasurementUpload.objects.filter(kpi__product=w.product).order_by("pk").first()),
        "metrics_plan_detail": lambda w: {"ws": w.workspace.slug,
                                          "plan_id": _first(ActionPlan.objects, kpi__product=w.product)},
        "adoption_feature": lambda w: _p(w, feature_id=_first(Feature.objects, product=w.product)),
        "backlog:iteration_board": lambda w: _p(w, iteration_id=_first(Iteration.objects, product=w.product)),
        "delivery:iteration": lambda w: _p(w, iteration_id=_first(Iteration.objects, product=w.product)),
        "delivery:import_detail": lambda w: _p(w, import_id=_first(ImportJob.objects, product=w.product)),
        "reports:detail": lambda w: {"ws": w.workspace.slug, "subscription_id": _first(
            ReportSubscription.objects, workspace=w.workspace)},
        "reports:report": lambda w: {"ws": w.workspace.slug, "subscription_id": _first(
            ReportSubscription.objects, workspace=w.workspace)},
        "reports:run": lambda w: {"ws": w.workspace.slug, "run_id": _first(
            ReportRun.objects, subscription__workspace=w.workspace)},
        "reports:webhook_detail": lambda w: {"ws": w.workspace.slug, "endpoint_id": _first(
            WebhookEndpoint.objects, workspace=w.workspace, kind="webhook")},
        # The demo's top risk: above the appetite, linked to a timeline initiative, a release and an epic.
        "governance:risk": lambda w: _p(w, risk_id=_first(Risk.objects, product=w.product, kind="risk", score__gte=20)),
        "governance:risk_edit": lambda w: _p(w, risk_id=_first(Risk.objects, product=w.product, kind="issue")),
        # The demo's initiative waiting for approval (its statement has a rejected first revision).
        "governance:statement": lambda w: _p(w, initiative_id=_first(Initiative.objects, product=w.product,
                                                                     impact_statement__status="awaiting")),
        # The demo's change request waiting for approval of its impact statement.
        "governance:cr_statement": _cr_statement,
        # The demo's half-done launch checklist.
        "governance:launch": lambda w: _p(w, release_id=_first(Release.objects, product=w.product,
                                                               launch_items__isnull=False)),
        "governance:portfolio_entry": lambda w: {"ws": w.workspace.slug, "initiative_id": _first(
            Initiative.objects, product=w.product, portfolio_entry__decision="fund")},
        "discovery:company": lambda w: _p(w, company_id=_first(Company.objects, product=w.product)),
        "discovery:insight": lambda w: _p(w, insight_id=_first(Insight.objects, product=w.product,
                                                               highlights__isnull=False)),
        "discovery:idea": lambda w: _p(w, idea_id=_first(Idea.objects, product=w.product, published=True)),
        "portal:home": lambda w: _portal(w),
        "portal:signin": lambda w: _portal(w),
        "portal:roadmap": lambda w: _portal(w),
        "portal:releases": lambda w: _portal(w),
        "portal:idea": lambda w: (lambda k: k and k | {"idea_id": _first(Idea.objects, product=w.product,
                                                                         published=True)})(_portal(w)),
        "integrations:channel": lambda w: {"ws": w.workspace.slug, "channel_id": _first(
            Channel.objects, workspace=w.workspace)},
        "integrations:repository": lambda w: {"ws": w.workspace.slug, "repository_id": _first(
            Repository.objects, workspace=w.workspace)},
        "sso_admin:provider": lambda w: {"ws": w.workspace.slug, "provider_id": _first(
            IdentityProvider.objects, workspace=w.workspace)},
        "sso_admin:domain": lambda w: {"ws": w.workspace.slug, "domain_id": _first(
            SsoDomain.objects, workspace=w.workspace)},
        "scim:group": lambda w: {"ws": w.workspace.slug, "group_id": _first(ScimGroup.objects, workspace=w.workspace)},
        "integrations:jira_connection": lambda w: {"ws": w.workspace.slug, "connection_id": _first(
            JiraConnection.objects, workspace=w.workspace)},
        "integrations:github_app": lambda w: {"ws": w.workspace.slug, "app_id": _first(
            GitHubApp.objects, workspace=w.workspace)},
        "integrations:jira_link": lambda w: (lambda link: link and {
            "ws": w.workspace.slug, "connection_id": link.connection_id, "link_id": link.id})(
            JiraProjectLink.objects.filter(connection__workspace=w.workspace).order_by("id").first()),
        "share:timeline": lambda w: None,  # filled by the sweep, which makes a link (tokens are stored hashed)
        "share:present": lambda w: None,  # the same link, made with allow_present
    }
    return table, ws, product


def fill(route: SweepRoute, world: DemoWorld) -> dict | None:
    """URL kwargs of `route` in the demo world; {} for a route without kwargs; None if not fillable."""
    table, ws, product = _fill_table()
    if route.name in table:
        kwargs = table[route.name](world)
        return None if kwargs is None or any(v is None for v in kwargs.values()) else kwargs
    if not route.kwargs:
        return {}
    if route.kwargs == ("ws",):
        return ws(world)
    if route.kwargs == ("ws", "product_id"):
        return product(world)
    raise LookupError(
        f"Page route {route.name!r} ({route.route}) has no entry in tests/e2e/sweep.py: add FILL "
        f"from the demo data (seed_demo), or EXEMPT[{route.name!r}] = 'reason'."
    )


# Pages that show their real content only for a query string (the demo data answers it).
QUERY: dict[str, str] = {"search": "?q=analytics"}


def url_for(route: SweepRoute, kwargs: dict) -> str:
    return reverse(route.name, kwargs=kwargs) + QUERY.get(route.name, "")
