"""A PM opens the adoption page of a feature and sees its charts, in a real Chromium."""

import pytest
from playwright.sync_api import expect

from adoption import demo
from adoption.models import Feature
from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_feature_adoption_page_draws_its_charts(page, live_server, sign_in, screenshot_path):
    workspace = WorkspaceFactory(name="Acme", slug="acme-e2e", time_zone="Europe/Berlin")
    user = UserFactory(email="pm@example.com", name="Priya PM")
    MembershipFactory(user=user, workspace=workspace, role=Role.EDITOR)
    product = demo.seed(workspace=workspace, users={"demo": user})
    sign_in(page, user)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/w/{workspace.slug}/products/{product.id}/adoption/")
    expect(page.get_by_role("heading", name="Feature adoption")).to_be_visible()
    expect(page.get_by_test_id("feature-row")).to_have_count(4)
    page.get_by_test_id("sort-trend").click()
    expect(page.get_by_test_id("sort-trend")).to_contain_text("↓")

    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    for chart in ("adopters-chart", "adoption-chart", "retention-chart"):
        expect(page.get_by_test_id(chart)).to_have_attribute("data-rendered", "true")
    expect(page.get_by_test_id("adoption-now")).to_contain_text("%")
    assert page.evaluate("document.getElementById('adopters-chart').width") > 0
    assert errors == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=screenshot_path("adoption.png"), full_page=True)
    assert Feature.objects.filter(product=product).count() == 4

    page.get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="Outcome review")).to_be_visible()
    expect(page.get_by_test_id("outcome-row")).to_have_count(5)
    expect(page.get_by_test_id("calibration")).to_contain_text("n = 5")
    page.screenshot(path=screenshot_path("adoption-outcomes.png"), full_page=True)
