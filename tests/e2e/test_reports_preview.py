"""A PM previews a progress report in the browser before subscribing, then subscribes."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from metrics.models import Kpi
from pmhub.models import Role
from reports.models import ReportSubscription
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.reports.factories import InitiativeFactory, ProductFactory, ReleaseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_preview_a_report_then_subscribe(page, live_server, sign_in, screenshot_path):
    workspace = WorkspaceFactory(name="Acme", slug="acme", time_zone="Europe/Berlin")
    pm = UserFactory(email="pm@acme.test", name="Pat PM")
    MembershipFactory(user=pm, workspace=workspace, role=Role.EDITOR)
    product = ProductFactory(workspace=workspace, name="Checkout")
    today = date.today()
    InitiativeFactory(product=product, title="One-click pay", status="done", end_date=today - timedelta(days=5))
    InitiativeFactory(product=product, title="Wallets", status="in_progress", end_date=today - timedelta(days=2))
    InitiativeFactory(product=product, title="Fraud rules", status="planned", end_date=today + timedelta(days=40))
    ReleaseFactory(product=product, name="2.4", release_date=today + timedelta(days=10))
    Kpi.objects.create(product=product, name="Conversion", unit="%", target_value=3, current_value=2.4)

    sign_in(page, pm)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/w/acme/reports/")
    page.get_by_label("Name").fill("Checkout weekly")
    page.locator("#id_product").select_option(str(product.id))
    page.get_by_test_id("preview-button").click()

    expect(page.get_by_test_id("preview-badge")).to_be_visible()
    expect(page.get_by_test_id("section-roadmap")).to_contain_text("Wallets")
    expect(page.get_by_test_id("section-kpis")).to_contain_text("Conversion")
    page.screenshot(path=screenshot_path("report.png"), full_page=True)
    page.screenshot(path=screenshot_path("reports-preview.png"), full_page=True)

    page.go_back()
    page.get_by_label("Name").fill("Checkout weekly")
    page.locator("#id_product").select_option(str(product.id))
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Checkout weekly", level=1)).to_be_visible()
    assert ReportSubscription.objects.get().recipients.get().email == "pm@acme.test"


def test_report_email_renders_in_a_browser(page, screenshot_path):
    """The inline-styled HTML e-mail, as a mail client would show it (a screenshot for the docs)."""
    from reports.rendering import report_render
    from reports.services import report_build

    workspace = WorkspaceFactory(name="Acme", slug="acme")
    product = ProductFactory(workspace=workspace, name="Checkout")
    InitiativeFactory(product=product, title="Wallets", status="in_progress",
                      end_date=date.today() - timedelta(days=2))
    Kpi.objects.create(product=product, name="Conversion", unit="%", target_value=3, current_value=3.2)
    html = report_render(report_build(product=product), unsubscribe_url="https://pmhub.example/unsubscribe/x/")
    page.set_viewport_size({"width": 700, "height": 900})
    page.set_content(html)
    expect(page.get_by_text("Wallets").first).to_be_visible()  # in the progress table and the late list
    expect(page.get_by_role("link", name="Unsubscribe from this report")).to_be_visible()
    page.screenshot(path=screenshot_path("reports-email.png"), full_page=True)
