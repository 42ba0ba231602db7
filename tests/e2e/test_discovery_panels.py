"""Discovery's panels on other apps' pages, in a real Chromium at 1440 and 390 px: who asked on the
story and epic pages, adoption among the askers on adoption's outcome review."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from adoption.models import Feature, OutcomeReview, UsageEvent
from backlog.models import Epic, Story
from discovery.models import Highlight
from metrics.models import Kpi
from pmhub.models import Role
from tests.discovery.factories import CompanyFactory, InsightFactory
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.roadmaps.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_who_asked_and_askers_adoption_panels(page, live_server, sign_in, screenshot_path):
    workspace = WorkspaceFactory(name="Acme", slug="acme-panels")
    user = UserFactory(email="pm@example.com", name="Priya PM")
    MembershipFactory(user=user, workspace=workspace, role=Role.VIEWER)
    product = ProductFactory(workspace=workspace, name="Acme Analytics")
    epic = Epic.objects.create(product=product, title="Single sign-on for every enterprise customer")
    story = Story.objects.create(product=product, title="SAML login", epic=epic)
    for i, revenue in enumerate(["1250000", "480000", None]):
        company = CompanyFactory(product=product, name=f"Globex International Holdings {i}", external_id=f"c{i}",
                                 revenue=Decimal(revenue) if revenue else None)
        Highlight.objects.create(insight=InsightFactory(product=product, company=company), passage="SSO",
                                 importance=4, story=story)
    released = datetime.now(UTC) - timedelta(days=10)
    kpi = Kpi.objects.create(product=product, name="Weekly SSO logins", current_value=Decimal("10"))
    OutcomeReview.objects.create(product=product, epic=epic, kpi=kpi, released_at=released)
    Feature.objects.create(product=product, key="sso.login", kpi=kpi)
    UsageEvent.objects.create(product=product, event_id="e1", feature_key="sso.login", actor="u",
                              occurred_at=released + timedelta(days=1), properties={"company": "c0"})
    UsageEvent.objects.create(product=product, event_id="e2", feature_key="other", actor="u",
                              occurred_at=released + timedelta(days=1), properties={"company": "c1"})
    sign_in(page, user)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = f"{live_server.url}/w/{workspace.slug}/products/{product.id}"
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url, testid, text in (
                ("story", f"{base}/backlog/stories/{story.id}/", "askers", "3 companies"),
                ("epic", f"{base}/epics/{epic.id}/", "askers", "1,730,000"),
                ("outcomes", f"{base}/outcomes/", "askers-adoption", "50 %")):
            page.goto(url)
            expect(page.get_by_test_id(testid)).to_contain_text(text)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, width)
            page.screenshot(path=screenshot_path(f"discovery-panel-{name}-{width}.png"), full_page=True)
    assert errors == []


def test_portal_logo_on_settings_and_portal(page, live_server, sign_in, screenshot_path):
    import io

    from PIL import Image

    from discovery import services

    workspace = WorkspaceFactory(name="Acme", slug="acme-logo")
    user = UserFactory(email="admin@example.com", name="Ada Admin")
    MembershipFactory(user=user, workspace=workspace, role=Role.ADMIN)
    product = ProductFactory(workspace=workspace, name="Acme Analytics")
    portal = services.portal_save(user=user, product=product, data={"slug": "acme-logo", "name": "Acme ideas",
                                                                   "enabled": True})
    out = io.BytesIO()
    Image.new("RGB", (1200, 300), (31, 111, 235)).save(out, "PNG")
    services.portal_logo_set(user=user, portal=portal, data=out.getvalue())
    sign_in(page, user)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in (("settings", f"{live_server.url}/w/{workspace.slug}/products/{product.id}/discovery/portal/"),
                          ("portal", f"{live_server.url}/portal/acme-logo/")):
            page.goto(url)
            logo = page.locator("img.portal-logo").first
            expect(logo).to_be_visible()
            assert logo.evaluate("img => img.naturalWidth") == 1200
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, width)
            page.screenshot(path=screenshot_path(f"portal-logo-{name}-{width}.png"), full_page=True)
    assert errors == []
