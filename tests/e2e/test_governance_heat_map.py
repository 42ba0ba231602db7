"""The risk register in a real Chromium: a PM clicks a heat-map cell and the list narrows to it,
logs a risk above the appetite through the form and finds it flagged on the roadmap's timeline.
The 5x5 map stays inside a 390 px phone screen."""

from datetime import date

import pytest
from playwright.sync_api import expect

from governance.models import ProductGovernance, Risk
from roadmaps.models import Initiative, Product
from tests.governance.factories import RiskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def register(workspace, editor, live_server):
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    ProductGovernance.objects.create(product=product, risk_appetite=12)
    Initiative.objects.create(product=product, title="Dashboard builder", start_date=date(2026, 1, 1),
                              end_date=date(2027, 12, 31), status="in_progress", horizon="now")
    RiskFactory(product=product, title="Vendor sunset", likelihood=4, impact=5, owner=editor)
    RiskFactory(product=product, title="Legal review", likelihood=3, impact=4)
    RiskFactory(product=product, title="Designer leaves", likelihood=2, impact=3)
    return product, f"{live_server.url}/w/{workspace.slug}/products/{product.pk}/"


def test_a_heat_map_cell_filters_the_list_and_a_new_risk_is_flagged_on_the_timeline(
        page, sign_in, editor, register, screenshot_path):
    product, base = register
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, editor)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(base + "risks/")
    expect(page.get_by_test_id("risk-row")).to_have_count(3)
    expect(page.get_by_test_id("above-appetite")).to_have_count(1)

    page.locator('[data-testid=heat-cell][data-likelihood="3"][data-impact="4"]').click()
    expect(page.get_by_test_id("risk-row")).to_have_count(1)
    expect(page.get_by_test_id("risk-table")).to_contain_text("Legal review")
    expect(page.locator('[data-testid=heat-cell][aria-current="true"]')).to_have_count(1)
    page.screenshot(path=screenshot_path("governance-register-1440.png"), full_page=True)

    page.get_by_role("button", name="Log a risk").click()
    page.get_by_label("Title").fill("Warehouse API sunset")
    page.get_by_label("Likelihood").select_option("5")
    page.get_by_label("Impact (severity of an issue)").select_option("4")
    page.get_by_text("Dashboard builder").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("risk-score")).to_have_text("20")
    expect(page.get_by_test_id("above-appetite")).to_contain_text("above the appetite of 12")
    risk = Risk.objects.get(title="Warehouse API sunset")
    assert risk.score == 20 and list(risk.initiatives.values_list("title", flat=True)) == ["Dashboard builder"]

    page.goto(base + "roadmap/timeline/")
    expect(page.get_by_test_id("risk-flag")).to_have_count(1)
    expect(page.get_by_test_id("risk-flag")).to_contain_text("20>12")
    assert errors == []


def test_the_heat_map_fits_a_phone(page, sign_in, editor, register, screenshot_path):
    _product, base = register
    sign_in(page, editor)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "risks/")
    expect(page.get_by_test_id("heat-cell")).to_have_count(25)
    assert page.evaluate(OVERFLOW_JS) <= 0
    box = page.get_by_test_id("heat-map").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=screenshot_path("governance-register-390.png"), full_page=True)
