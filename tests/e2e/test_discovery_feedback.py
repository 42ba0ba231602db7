"""Backlog › Feedback filing into the insights inbox, the epics list's Demand column and the
idea page's adoption among the people who asked, in a real Chromium at 1440 and 390 px."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from adoption.models import Feature, UsageEvent
from backlog.models import Epic, Story
from discovery.models import Idea, Insight, Portal, Visitor
from metrics.models import Kpi
from pmhub.models import Role
from tests.discovery.factories import CompanyFactory, PersonFactory
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.roadmaps.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_feedback_lands_in_the_inbox_and_epics_sort_by_demand(page, live_server, sign_in, screenshot_path):
    workspace = WorkspaceFactory(name="Acme", slug="acme-feedback")
    user = UserFactory(email="pm@example.com", name="Priya PM")
    MembershipFactory(user=user, workspace=workspace, role=Role.EDITOR)
    product = ProductFactory(workspace=workspace, name="Acme Analytics")
    CompanyFactory(product=product, name="Globex International Holdings", revenue=Decimal("1250000"))
    reporting = Epic.objects.create(product=product, title="Scheduled reporting for every enterprise customer")
    Epic.objects.create(product=product, title="Dark mode")
    story = Story.objects.create(product=product, title="Weekly PDF report by e-mail", epic=reporting)
    for n in range(10):
        Story.objects.create(product=product, title=f"Export cohorts {n}")
    sign_in(page, user)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = f"{live_server.url}/w/{workspace.slug}/products/{product.id}"
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{base}/feedback/")
    page.get_by_label("Customer", exact=True).fill("globex international holdings")
    page.get_by_label("Source", exact=True).fill("Sales call")
    page.get_by_label("Importance", exact=True).select_option("5")
    page.get_by_label("Quote", exact=True).fill("We need the weekly report as a PDF in our inbox every Monday.")
    page.get_by_role("group", name="Stories").get_by_label("Weekly PDF report by e-mail").check()
    page.get_by_role("button", name="Save feedback").click()
    expect(page.get_by_role("status").first).to_contain_text("Feedback recorded in the insights inbox")
    expect(page.get_by_test_id("feedback-table")).to_contain_text("Globex International Holdings")
    insight = Insight.objects.get(channel="feedback")
    assert insight.highlights.get().story_id == story.id
    from backlog.services import demand_recompute

    demand_recompute(product=product)  # what the worker does after the highlight (no broker in this test)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/feedback/")
        assert _fits(page), ("feedback", width)
        page.screenshot(path=screenshot_path(f"discovery-feedback-{width}.png"), full_page=True)
        page.goto(f"{base}/epics/?sort=demand")
        expect(page.get_by_test_id("sort-demand")).to_contain_text("Demand ↓")
        first = page.locator("tbody tr").first
        expect(first).to_contain_text("Scheduled reporting")
        assert Epic.objects.get(pk=reporting.pk).demand == Decimal("15.50")  # 5 x (1 + log10(1 + 125))
        expect(first.get_by_test_id("epic-demand")).to_have_text("15.5")
        assert _fits(page), ("epics", width)
        page.screenshot(path=screenshot_path(f"backlog-epics-demand-{width}.png"), full_page=True)
        page.goto(f"{base}/backlog/stories/{story.id}/")
        expect(page.get_by_test_id("demand")).to_contain_text("1 company asked")
        expect(page.get_by_test_id("askers")).to_contain_text("Globex International Holdings")
        assert _fits(page), ("story", width)
        page.screenshot(path=screenshot_path(f"backlog-story-demand-{width}.png"), full_page=True)
    assert errors == []


def test_idea_page_shows_adoption_among_people_who_asked(page, live_server, sign_in, screenshot_path):
    workspace = WorkspaceFactory(name="Acme", slug="acme-people")
    user = UserFactory(email="pm@example.com", name="Priya PM")
    MembershipFactory(user=user, workspace=workspace, role=Role.VIEWER)
    product = ProductFactory(workspace=workspace, name="Acme Analytics")
    epic = Epic.objects.create(product=product, title="Single sign-on")
    kpi = Kpi.objects.create(product=product, name="SSO logins")
    kpi.epics.add(epic)
    Feature.objects.create(product=product, key="sso.login", kpi=kpi)
    portal = Portal.objects.create(product=product, slug="acme-people", name="Acme ideas", enabled=True)
    shipped = datetime.now(UTC) - timedelta(days=10)
    idea = Idea.objects.create(product=product, title="Sign in with our identity provider", published=True,
                               status="shipped", shipped_at=shipped, vote_count=2)
    idea.epics.add(epic)
    for email, ext in (("ana@globex.example", "p-ana"), ("bo@initech.example", "p-bo")):
        PersonFactory(product=product, email=email, external_id=ext)
        from discovery.models import Vote

        Vote.objects.create(idea=idea, visitor=Visitor.objects.create(portal=portal, email=email), importance=3)
    for n, (actor, key) in enumerate([("p-ana", "sso.login"), ("p-bo", "reports"), ("u1", "sso.login"),
                                      ("u2", "reports"), ("u3", "reports")]):
        UsageEvent.objects.create(product=product, event_id=f"e{n}", feature_key=key, actor=actor,
                                  occurred_at=shipped + timedelta(days=1))
    sign_in(page, user)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/w/{workspace.slug}/products/{product.id}/discovery/ideas/{idea.id}/")
        expect(page.get_by_test_id("askers-adoption-people")).to_contain_text("50% (1 of 2 seen)")
        expect(page.get_by_test_id("askers-adoption")).to_contain_text("40% (2 of 5 people)")
        assert _fits(page), ("idea", width)
        page.screenshot(path=screenshot_path(f"discovery-idea-people-{width}.png"), full_page=True)
    assert errors == []
