"""A customer signs in to the ideas portal through the e-mailed link, submits an idea and votes on
another; the PM publishes and links the idea to an epic of a release and marks the release shipped;
the customer sees "Shipped" and receives one e-mail. In a real Chromium."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from backlog.models import Epic
from discovery import services
from discovery.models import Idea
from pmhub.models import Role
from roadmaps.models import Release
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.roadmaps.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_customer_signs_in_by_link_submits_votes_and_sees_shipped(page, live_server, sign_in, screenshot_path):
    workspace = WorkspaceFactory(name="Acme", slug="acme-portal")
    pm = UserFactory(email="pm@example.com", name="Priya PM")
    MembershipFactory(user=pm, workspace=workspace, role=Role.ADMIN)
    product = ProductFactory(workspace=workspace, name="Acme Analytics")
    portal = services.portal_save(user=pm, product=product, data={"slug": "acme", "name": "Acme ideas",
                                                                  "enabled": True})
    release = Release.objects.create(product=product, name="2.0")
    epic = Epic.objects.create(product=product, title="SSO", release=release)
    existing = services.idea_create(user=pm, product=product, data={"title": "Scheduled reports",
                                                                   "published": True})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    base = f"{live_server.url}/portal/{portal.slug}/"
    page.goto(base)
    page.get_by_test_id("portal-signin").click()
    page.get_by_label("E-mail").fill("ana@globex.com")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_test_id("portal-signin-sent")).to_be_visible()
    link = re.search(r"https?://\S+/signin/\S+/", mail.outbox[-1].body).group(0)
    page.goto(live_server.url + "/" + link.split("://", 1)[1].split("/", 1)[1])
    page.get_by_test_id("portal-link-confirm").click()
    expect(page.get_by_role("heading", name="Suggest an idea")).to_be_visible()

    page.get_by_label("Title").fill("Single sign-on")
    page.get_by_label("Tell us more").fill("With our identity provider, please.")
    page.get_by_role("button", name="Submit idea").click()
    expect(page.get_by_test_id("portal-idea-status")).to_have_text("Under consideration")
    expect(page.get_by_test_id("portal-vote-count")).to_have_text("1 vote")
    page.screenshot(path=screenshot_path("discovery-portal-idea.png"), full_page=True)

    page.goto(base)
    page.get_by_role("link", name="Scheduled reports").click()
    page.get_by_label("How important is it to you?").select_option(label="Critical")
    page.get_by_role("button", name="Vote").click()
    expect(page.get_by_test_id("portal-vote-count")).to_have_text("1 vote")
    expect(page.get_by_role("button", name="Change my vote")).to_be_visible()

    # The PM publishes the submitted idea, links it to the release's epic and ships the release.
    idea = Idea.objects.get(title="Single sign-on")
    services.idea_update(user=pm, idea=idea, data={"published": True, "status": "planned", "epics": [epic]},
                         version=idea.version)
    pm_page = page.context.browser.new_context().new_page()
    sign_in(pm_page, pm)
    pm_page.goto(f"{live_server.url}/w/{workspace.slug}/products/{product.id}/releases/{release.id}/")
    pm_page.get_by_role("button", name="Mark as released").click()
    pm_page.wait_for_load_state("networkidle")

    page.goto(base)
    page.get_by_role("link", name="Single sign-on").click()
    expect(page.get_by_test_id("portal-idea-status")).to_have_text("Shipped")
    page.goto(f"{base}releases/")
    expect(page.get_by_test_id("portal-shipped")).to_contain_text("Single sign-on")
    page.screenshot(path=screenshot_path("discovery-portal-releases.png"), full_page=True)
    shipped = [m for m in mail.outbox if m.subject.startswith("Shipped")]
    assert [m.to for m in shipped] == [["ana@globex.com"]]
    assert Idea.objects.get(pk=existing.pk).vote_count == 1
    assert errors == []
