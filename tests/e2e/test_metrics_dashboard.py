"""A PM opens the product dashboard, changes the period and sees the charts redraw (real Chromium)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from metrics.models import Measurement
from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.metrics.factories import KpiFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _data(product):
    today = timezone.localdate()
    specs = [("Weekly active users", 1800, 6, 3500, 2200, 1900, "higher"),
             ("Activation rate", 32, 0.05, 45, 34, 30, "higher"),
             ("Churn rate", 3.2, 0.004, 2.0, 3.5, 4.0, "lower")]
    for name, start, slope, target, warning, critical, direction in specs:
        kpi = KpiFactory(product=product, name=name, direction=direction, target_value=target,
                         target_date=today + timedelta(days=90), warning_threshold=warning,
                         critical_threshold=critical, health="on_track" if direction == "higher" else "at_risk")
        Measurement.objects.bulk_create([
            Measurement(kpi=kpi, period_start=today - timedelta(days=d),
                        value=round(start + slope * (200 - d) + (d % 7) * slope * 3, 2)) for d in range(200)])
        last = kpi.measurements.order_by("-period_start").first()
        kpi.current_value, kpi.current_at = last.value, last.period_start
        kpi.save()


def test_dashboard_period_picker_redraws_the_charts(page, live_server, sign_in, screenshot_path):
    user = UserFactory(email="pm@example.com", name="Priya PM")
    workspace = WorkspaceFactory(name="Acme", slug="acme")
    MembershipFactory(user=user, workspace=workspace, role=Role.EDITOR)
    product = ProductFactory(workspace=workspace, name="Acme Analytics")
    _data(product)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, user)

    page.goto(f"{live_server.url}/w/acme/products/{product.id}/dashboard/")
    chart = page.locator("#kpi-chart")
    expect(chart).to_have_attribute("data-point-count", "90")
    expect(page.locator("canvas[data-sparkline]")).to_have_count(3)

    page.get_by_label("Period").select_option("30")
    expect(chart).to_have_attribute("data-point-count", "30")
    expect(page.locator("[data-dashboard]")).to_have_attribute("data-range", "30")
    assert "range=30" in page.url

    page.get_by_label("Period").select_option("365")
    expect(chart).to_have_attribute("data-point-count", "200")

    page.locator("#chart-kpi").select_option(label="Churn rate")
    expect(chart).to_have_attribute("data-kpi-id", str(product.kpis.get(name="Churn rate").id))

    with page.expect_download() as download:
        page.get_by_role("link", name="Download chart as PNG").click()
    assert download.value.suggested_filename == "kpi-chart.png"

    page.get_by_label("Period").select_option("90")
    expect(chart).to_have_attribute("data-point-count", "90")
    page.screenshot(path=screenshot_path("metrics-dashboard.png"), full_page=True)
