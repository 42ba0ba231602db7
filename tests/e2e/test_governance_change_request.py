"""A change request's business impact statement in a real Chromium: the PM writes and submits it
from the release page's panel; the admin finds it on the home page (awaiting your approval) and
approves it; the pages fit at 1440 and 390 px."""

import os

import pytest
from playwright.sync_api import expect

from backlog.models import Story
from delivery.models import ChangeRequest
from governance.models import ImpactStatement
from roadmaps.models import Product, Release

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_change_request_statement_from_the_release_page_to_the_approver(page, live_server, sign_in, editor, admin,
                                                                        workspace, screenshot_path):
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    release = Release.objects.create(product=product, name="Spring launch")
    story = Story.objects.create(product=product, title="Export to CSV")
    change = ChangeRequest.objects.create(release=release, story=story, kind="add", reason="A design partner asks",
                                          proposed_by=editor)
    base = f"{live_server.url}/w/{workspace.slug}/"
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(page, editor)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base + f"products/{product.id}/releases/{release.id}/scope/")
    panel = page.get_by_test_id(f"cr-statement-{change.id}")
    expect(panel).to_contain_text("no statement")
    panel.get_by_role("link", name="Write one").click()
    page.get_by_label("Expected benefit").fill("Keeps the design partner's renewal on track.")
    page.get_by_label("Expected cost").fill("6000")
    page.get_by_role("button", name="Save the statement").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Draft")
    page.get_by_test_id("statement-submit").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Awaiting approval")

    page.context.clear_cookies()
    sign_in(page, admin)
    page.goto(base)
    awaiting = page.get_by_test_id("statements-awaiting")
    expect(awaiting).to_contain_text("Export to CSV")
    page.screenshot(path=screenshot_path("governance-awaiting-home-1440.png"), full_page=True)
    awaiting.get_by_role("link", name="Add story: Export to CSV").click()
    page.screenshot(path=screenshot_path("governance-cr-statement-1440.png"), full_page=True)
    _fits(page)
    page.get_by_label("Comment").fill("Worth the three days.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Approved")
    assert ImpactStatement.objects.get(change_request=change).status == "approved"

    page.goto(base + f"products/{product.id}/releases/{release.id}/scope/")
    expect(page.get_by_test_id(f"cr-statement-{change.id}")).to_contain_text("Approved")
    page.screenshot(path=screenshot_path("governance-release-panel-1440.png"), full_page=True)
    for url in (base + f"products/{product.id}/releases/{release.id}/scope/",
                base + f"products/{product.id}/releases/{release.id}/change-requests/{change.id}/impact/"):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url)
        _fits(page)
        page.screenshot(path=screenshot_path(f"governance-cr-{os.path.basename(url.rstrip('/'))}-390.png"),
                        full_page=True)
    assert errors == []
