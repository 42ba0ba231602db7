"""Outputs worth sending, in a real browser: the report page draws its charts, and presentation
mode moves between slides with the keys and prints one slide per page."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from backlog.models import Epic, Story
from metrics.models import Kpi, Measurement
from metrics.services import kpi_refresh_current
from pmhub.models import Role
from roadmaps.models import Objective, Release
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.reports.factories import InitiativeFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checkout():
    workspace = WorkspaceFactory(name="Acme", slug="acme")
    pm = UserFactory(email="pm@acme.test", name="Pat PM")
    MembershipFactory(user=pm, workspace=workspace, role=Role.VIEWER)
    product = ProductFactory(workspace=workspace, name="Checkout", vision="Pay in **one** click.")
    today = date.today()
    objective = Objective.objects.create(product=product, title="Grow conversion", start_date=today,
                                         end_date=today + timedelta(days=90))
    for n, (title, horizon) in enumerate((("Wallets", "now"), ("Fraud rules", "next"), ("Crypto", "later"))):
        initiative = InitiativeFactory(product=product, title=title, horizon=horizon, status="in_progress",
                                       start_date=today - timedelta(days=20 - n * 10),
                                       end_date=today + timedelta(days=30 + n * 20))
        initiative.objectives.add(objective)
        epic = Epic.objects.create(product=product, initiative=initiative, title=f"{title} epic")
        Story.objects.create(product=product, epic=epic, title=f"{title} a", status="done", points=3)
        Story.objects.create(product=product, epic=epic, title=f"{title} b", status="ready", points=2)
    Release.objects.create(product=product, name="2.4", release_date=today + timedelta(days=10))
    kpi = Kpi.objects.create(product=product, name="Conversion <b>rate</b>", unit="percent", target_value=3)
    for days, value in ((60, 2.1), (30, 2.4), (1, 2.7)):
        Measurement.objects.create(kpi=kpi, period_start=today - timedelta(days=days), value=value)
    kpi_refresh_current(kpi=kpi)
    return product, pm


def test_the_report_page_draws_its_charts(page, live_server, sign_in, checkout, screenshot_path):
    product, pm = checkout
    sign_in(page, pm)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/w/acme/reports/preview/?product={product.id}")
    charts = page.get_by_test_id("report-chart")
    expect(charts).to_have_count(3)  # roadmap progress, the KPI's trend, release progress
    for i in range(3):
        svg = charts.nth(i).locator("svg.chart-wide")
        box = svg.bounding_box()
        assert box["width"] > 300 and box["height"] > 30
        assert svg.locator("polyline, rect").count() > 0
    kpi_chart = page.locator('[data-chart^="kpi-"]')
    expect(kpi_chart.locator("figcaption")).to_have_text("Conversion <b>rate</b>, last 90 days")
    expect(kpi_chart.locator("svg title")).to_have_count(2)  # the wide and the phone layout, one shown
    assert "Target 3%" in kpi_chart.locator("svg.chart-wide").inner_html()
    page.screenshot(path=screenshot_path("report-charts-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for i in range(3):  # a phone gets the narrow layout, drawn at its own size (not shrunk)
        expect(charts.nth(i).locator("svg.chart-wide")).to_be_hidden()
        box = charts.nth(i).locator("svg.chart-narrow").bounding_box()
        assert 300 <= box["width"] <= 360
    page.locator("#main").evaluate("m => m.scrollIntoView()")
    page.screenshot(path=screenshot_path("report-charts-390.png"), full_page=True)


def _visible_slides(page):
    return page.locator("[data-slide]").evaluate_all(
        "els => els.filter(e => getComputedStyle(e).display !== 'none').map(e => e.id)")


def test_presentation_moves_with_the_keys_and_prints_one_slide_per_page(page, live_server, sign_in, checkout,
                                                                      screenshot_path):
    product, pm = checkout
    sign_in(page, pm)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/w/acme/products/{product.id}/roadmap/timeline/")
    page.get_by_test_id("present-link").click()
    counter = page.get_by_test_id("slide-counter")
    total = page.locator("[data-slide]").count()
    assert total == 7  # title, vision, objectives, Now/Next/Later, timeline, releases, late and at risk
    expect(counter).to_have_text(f"1 / {total}")
    # The counter's "1 / 7" is printed by the server; the deck is live once present.js has run.
    expect(page.locator("[data-deck]")).to_have_attribute("data-current", "1")
    assert _visible_slides(page) == ["slide-1"]
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text(f"2 / {total}")
    assert _visible_slides(page) == ["slide-2"]
    expect(page.locator("[data-deck-live]")).to_have_text(re.compile("2 of 7: Vision and business case"))
    page.keyboard.press("End")
    expect(counter).to_have_text(f"{total} / {total}")
    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text(f"{total - 1} / {total}")
    page.get_by_role("button", name="Previous slide").click()
    expect(counter).to_have_text(f"{total - 2} / {total}")
    page.keyboard.press("Home")
    expect(counter).to_have_text(f"1 / {total}")
    page.keyboard.press("n")  # a single-character shortcut, on by default
    expect(counter).to_have_text(f"2 / {total}")
    # With single-key shortcuts turned off (WCAG 2.1.4), "n" does nothing; the arrows still work.
    page.evaluate("localStorage.setItem('pmhub.shortcuts', 'off')")
    page.keyboard.press("n")
    expect(counter).to_have_text(f"2 / {total}")
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text(f"3 / {total}")
    page.goto(page.url.split("#")[0] + "#slide-5")  # a slide by its address (the timeline)
    page.reload()
    expect(counter).to_have_text(f"5 / {total}")
    expect(page.get_by_test_id("deck-timeline")).to_contain_text("Wallets")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    page.screenshot(path=screenshot_path("presentation-timeline-1440.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_path("presentation-timeline-390.png"))

    # Print: every slide, each on its own page (landscape A4), no controls.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.emulate_media(media="print")
    assert len(_visible_slides(page)) == total
    expect(page.locator("[data-deck-controls]")).to_be_hidden()
    tops = page.locator("[data-slide]").evaluate_all("els => els.map(e => getComputedStyle(e).breakAfter)")
    assert tops[:-1] == ["page"] * (total - 1)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert pages == total


def test_the_email_shows_its_png_charts_where_the_html_names_them(page, checkout, screenshot_path):
    """As a mail client does: each <img src="cid:..."> shows the MIME part with that Content-ID."""
    import base64

    from reports.rendering import report_chart_images, report_render
    from reports.services import report_build

    product, _pm = checkout
    data = report_build(product=product)
    html = report_render(data, unsubscribe_url="https://pmhub.example/unsubscribe/x/")
    parts = report_chart_images(data)
    assert len(parts) == 3
    for part in parts:
        cid = part["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(part.get_payload(decode=True))
                            .decode())
    page.set_viewport_size({"width": 700, "height": 900})
    page.set_content(html)
    images = page.locator("img")
    expect(images).to_have_count(3)
    sizes = images.evaluate_all("imgs => imgs.map(i => [i.complete, i.naturalWidth, i.getBoundingClientRect().width])")
    assert all(done and natural == 1280 and 500 < shown <= 640 for done, natural, shown in sizes), sizes
    page.screenshot(path=screenshot_path("report-email-charts.png"), full_page=True)
