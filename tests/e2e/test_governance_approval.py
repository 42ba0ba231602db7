"""An approval in a real Chromium: the PM writes an initiative's business impact statement and
submits it; the gate keeps the initiative from being planned meanwhile; the admin (an approver)
approves it with a comment; the PM is told and can now plan the initiative."""

import pytest
from playwright.sync_api import expect

from governance.models import ImpactStatement, ProductGovernance
from pmhub.models import Notification
from roadmaps.models import Initiative, Product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_write_submit_approve_then_plan(page, browser, live_server, sign_in, editor, admin, workspace,
                                        screenshot_path):
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    ProductGovernance.objects.create(product=product, require_impact_statement=True)
    initiative = Initiative.objects.create(product=product, title="Lineage view", status="proposed")
    base = f"{live_server.url}/w/{workspace.slug}/products/{product.id}/"
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The PM writes and submits the statement.
    sign_in(page, editor)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base + f"initiatives/{initiative.id}/work/")
    page.get_by_test_id("initiative-statement").get_by_role("link").click()
    page.get_by_label("Expected benefit").fill("Analysts see where a metric comes from: fewer support tickets.")
    page.get_by_label("Expected cost").fill("62000")
    page.get_by_label("People and teams affected").fill("Analysts, data engineering")
    page.get_by_role("button", name="Save the statement").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Draft")
    page.get_by_test_id("statement-submit").click()
    expect(page.get_by_test_id("statement-status")).to_have_text("Awaiting approval")

    # The gate: planning it now is refused with the reason on the form.
    page.goto(base + f"initiatives/{initiative.id}/")
    page.get_by_label("Status").select_option("planned")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("needs an approved business impact statement")).to_be_visible()
    assert Initiative.objects.get(pk=initiative.pk).status == "proposed"
    page.goto(base + "roadmap/board/")
    expect(page.get_by_test_id("awaiting-approval")).to_have_count(1)

    # The admin approves with a comment, in a second browser session.
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    approver = context.new_page()
    sign_in(approver, admin)
    approver.goto(base + f"initiatives/{initiative.id}/impact/")
    approver.get_by_label("Comment").fill("Worth it for the finance team.")
    approver.get_by_role("button", name="Approve").click()
    expect(approver.get_by_test_id("statement-status")).to_have_text("Approved")
    expect(approver.get_by_test_id("statement-decisions")).to_contain_text("Worth it for the finance team.")
    approver.screenshot(path=screenshot_path("governance-statement-1440.png"), full_page=True)
    context.close()
    assert ImpactStatement.objects.get(initiative=initiative).status == "approved"
    assert Notification.objects.filter(recipient=editor, kind="approval").exists()

    # Now the PM can plan it.
    page.goto(base + f"initiatives/{initiative.id}/")
    page.get_by_label("Status").select_option("planned")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("saved")).to_be_visible()
    assert Initiative.objects.get(pk=initiative.pk).status == "planned"
    assert errors == []
