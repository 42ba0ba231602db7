"""Charts of the progress report: the figures they draw are the delivery burn page's and the KPI
page's, the e-mail carries them as PNG parts referenced by Content-ID, the PDF draws them, and the
page shows them as SVG with a title and a text summary."""

import io
import json
import re
import zlib
from datetime import date, timedelta
from decimal import Decimal
from email import message_from_bytes

import pytest
import time_machine
from django.urls import reverse
from PIL import Image

from backlog.models import Epic, Story
from metrics.models import Kpi, Measurement
from metrics.services import kpi_refresh_current
from pmhub import charts
from reports import sections, services
from reports.rendering import report_charts, report_pdf, report_render
from tests.delivery.test_burn import _history, utc

from .factories import InitiativeFactory, ReleaseFactory, SubscriptionFactory, subscribe

pytestmark = pytest.mark.django_db


# --- the pure module ---------------------------------------------------------------------------------
def test_nice_ticks_cover_the_range_with_round_steps():
    assert charts.nice_ticks(0, 12) == [0, 5, 10, 15]
    assert charts.nice_ticks(28.5, 51.5) == [20, 30, 40, 50, 60]


def test_the_svg_and_the_png_paint_the_same_layout():
    spec = {"id": "k", "kind": "line", "title": "T", "summary": "S", "unit": "count",
            "x": ["2026-11-02", "2026-11-03", "2026-11-04"], "series": [{"name": "V", "values": [10, 5, None]}],
            "zero": True, "target": None}
    svg = charts.svg(spec)
    polyline = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(polyline) == 2  # a missing value is not drawn
    image = Image.open(io.BytesIO(charts.png(spec)))
    assert image.size == (charts.WIDTH * charts.SCALE, charts.LINE_HEIGHT * charts.SCALE)


def test_labels_and_summaries_are_escaped_in_the_svg():
    spec = {"id": "x\"><script>", "kind": "bars", "title": "<img src=x onerror=alert(1)>",
            "summary": "</desc><script>alert(1)</script>", "bars": [{"label": "<b>&", "value": 10, "note": ""}]}
    svg = charts.svg(spec)
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    assert "&lt;b&gt;&amp;" in svg


# --- burn-down: the delivery burn page's figures -------------------------------------------------------------
def test_burn_chart_draws_the_iteration_pages_series(product, workspace, admin, client_as):
    """The hand-computed sprint of tests/delivery/test_burn.py (Berlin): remaining 10, 5, 9, 7, 0;
    committed 12 (A 5 + B 3 + D 4; C was taken out during the sprint); all 12 completed on Friday."""
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    iteration, _ = _history(product, admin)
    with time_machine.travel(utc(2026, 11, 6, 18), tick=False):
        data = sections.releases(products=[product], today=date(2026, 11, 6), previous=None)
        page = client_as(admin).get(reverse("delivery:iteration", kwargs={
            "ws": workspace.slug, "product_id": product.id, "iteration_id": iteration.id}))
    [chart] = [c for c in data["charts"] if c["id"] == f"burn-{iteration.id}"]
    remaining, ideal = chart["series"]
    assert remaining["values"] == [10, 5, 9, 7, 0]
    assert remaining["values"] == [d["remaining"] for d in page.context["burn"]]
    assert ideal["values"] == [d["ideal"] for d in page.context["burn"]] == [10, 7.5, 5, 2.5, 0]
    assert chart["committed"] == 12 == page.context["capacity"]["committed"]
    assert (chart["completed"], chart["remaining"]) == (12, 0)
    assert chart["summary"] == ("Sprint 1 (2 Nov 2026 to 6 Nov 2026): 12 points committed; on 6 Nov 2026 12 points"
                                " completed and 0 points remaining (ideal 0 points).").replace(
        "Sprint 1", iteration.name)
    # The SVG draws those values: y of each point on the axis 0..10 (ticks 0, 2.5, 5, 7.5, 10).
    svg = charts.svg(chart)
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    top, bottom = 30, charts.LINE_HEIGHT - 30
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == pytest.approx([bottom - v / 10 * (bottom - top) for v in (10, 5, 9, 7, 0)], abs=0.06)


def test_no_burn_chart_without_a_running_iteration(product):
    data = sections.releases(products=[product], today=date(2026, 11, 6), previous=None)
    assert data["charts"] == []


# --- KPI trends: the KPI page's figures --------------------------------------------------------------------
@pytest.fixture
def activation(product):
    """Four measurements, one of them before the 90-day window that ends on 26 Nov 2026."""
    kpi = Kpi.objects.create(product=product, name="Activation", unit="percent", target_value=Decimal(50))
    for day, value in ((date(2026, 8, 1), 20), (date(2026, 9, 1), 30), (date(2026, 10, 1), Decimal("35.5")),
                       (date(2026, 11, 1), 42)):
        Measurement.objects.create(kpi=kpi, period_start=day, value=value)
    kpi_refresh_current(kpi=kpi)
    return kpi


@time_machine.travel("2026-11-26 12:00", tick=False)
def test_kpi_chart_draws_the_kpi_pages_points_with_the_target(activation, product, workspace, admin, client_as):
    data = sections.kpis(products=[product], today=date(2026, 11, 26), previous=None)
    kw = {"ws": workspace.slug, "product_id": product.id}
    kpi_page = client_as(admin).get(reverse("metrics_kpi_detail", kwargs=kw | {"kpi_id": activation.id}))
    dashboard = client_as(admin).get(reverse("metrics_product_dashboard", kwargs=kw))  # 90 days by default
    [chart] = data["charts"]
    drawn = list(zip(chart["x"], chart["series"][0]["values"], strict=True))
    assert drawn == [("2026-09-01", 30.0), ("2026-10-01", 35.5), ("2026-11-01", 42.0)]
    # the series the dashboard's charts draw: the JSON the page embeds (decision 1958)
    embedded = json.loads(dashboard.context["data_script"].split(">", 1)[1].rsplit("</script>", 1)[0])
    assert [tuple(p) for p in embedded["kpis"][0]["points"]] == drawn
    # and the KPI page's: the JSON its chart script embeds (decision 2325)
    kpi_embedded = json.loads(kpi_page.context["chart_script"].split(">", 1)[1].rsplit("</script>", 1)[0])
    assert [tuple(p) for p in kpi_embedded["kpis"][0]["points"] if p[0] >= "2026-08-29"] == drawn
    assert chart["target"] == 50.0 and chart["target_label"] == "Target 50%"
    assert chart["summary"] == ("Activation: 42% on 1 Nov 2026, from 30% on 1 Sep 2026; lowest 30%, highest 42%"
                                " (3 measurements in the 90 days to 26 Nov 2026); target 50%.")
    svg = charts.svg(chart)
    assert "Target 50%" in svg and svg.count("<circle") == 3


def test_kpis_without_measurements_have_no_chart(product):
    Kpi.objects.create(product=product, name="Empty", target_value=1)
    assert sections.kpis(products=[product], today=date(2026, 11, 26), previous=None)["charts"] == []


# --- roadmap progress ----------------------------------------------------------------------------------
def test_roadmap_progress_bars_are_the_initiatives_work_progress(product):
    half = InitiativeFactory(product=product, title="Half", end_date=date(2026, 12, 1))
    InitiativeFactory(product=product, title="Nothing yet", end_date=date(2026, 12, 2))
    epic = Epic.objects.create(product=product, initiative=half, title="E")
    Story.objects.create(product=product, epic=epic, title="a", status="done", points=3)
    Story.objects.create(product=product, epic=epic, title="b", status="ready", points=3)
    data = sections.roadmap(products=[product], today=date(2026, 11, 26), previous=None)
    [chart] = data["charts"]
    assert [(b["label"], b["value"], b["note"]) for b in chart["bars"]] == [
        ("Half", 50, "3/6 pts"), ("Nothing yet", None, "0/0 pts")]
    assert chart["summary"] == "Work progress of 2 initiatives: Half 50%; Nothing yet no stories yet."
    assert {i["title"]: i["work"]["percent"] for i in data["items"]} == {"Half": 50, "Nothing yet": None}


def test_release_progress_bars(product):
    ReleaseFactory(product=product, name="v2", release_date=date(2026, 12, 20))
    data = sections.releases(products=[product], today=date(2026, 11, 26), previous=None)
    [chart] = data["charts"]
    assert chart["id"] == "release-progress" and chart["bars"][0]["label"] == "v2"


# --- the three outputs ---------------------------------------------------------------------------------
@pytest.fixture
def charted(product, activation):
    half = InitiativeFactory(product=product, title="Half", end_date=date(2026, 12, 1))
    epic = Epic.objects.create(product=product, initiative=half, title="E")
    Story.objects.create(product=product, epic=epic, title="a", status="done", points=3)
    ReleaseFactory(product=product, name="v2", release_date=date(2026, 12, 20))
    return product


@time_machine.travel("2026-11-26 12:00", tick=False)
def test_the_email_carries_each_chart_as_a_png_part_named_by_its_img(charted, smtp, admin,
                                                                      django_capture_on_commit_callbacks):
    subscription = subscribe(SubscriptionFactory(product=charted, owner=admin, name="Weekly"), "ceo@outside.test")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.report_send_now(user=admin, subscription=subscription)
    run.refresh_from_db()
    expected = {c["id"] for c in report_charts(run.data)}
    assert expected == {"roadmap-progress", f"kpi-{charted.kpis.get().id}", "release-progress"}
    [sent] = smtp.messages
    message = message_from_bytes(sent["message"].as_bytes())
    assert message.get_content_type() == "multipart/related"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    images = {p["Content-ID"].strip("<>"): p for p in message.walk() if p.get_content_type() == "image/png"}
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == set(images) == {f"chart-{i}@pmhub" for i in expected}
    for part in images.values():
        image = Image.open(io.BytesIO(part.get_payload(decode=True)))
        image.verify()
        assert image.format == "PNG" and image.size[0] == charts.WIDTH * charts.SCALE
    # Each chart's summary is its alt text, and the text part states the same figures.
    for chart in report_charts(run.data):
        assert f'alt="{chart["summary"]}"' in html.replace("&#x27;", "'")
        assert chart["summary"] in text


def _pdf_drawing(pdf: bytes) -> bytes:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return b"\n".join(out)


@time_machine.travel("2026-11-26 12:00", tick=False)
def test_the_pdf_draws_the_charts(charted):
    data = services.report_build(product=charted)
    assert len(report_charts(data)) == 3
    with_charts = _pdf_drawing(report_pdf(data))
    for section in data["sections"]:
        section["data"].pop("charts", None)
    without = _pdf_drawing(report_pdf(data))
    # Each chart is an SVG drawn by WeasyPrint as vector XObjects and line segments.
    drawn = len(re.findall(rb"/x\d+ Do", with_charts)) - len(re.findall(rb"/x\d+ Do", without))
    assert drawn >= 3
    assert with_charts.count(b" l\n") - without.count(b" l\n") >= 10
    # WeasyPrint lays each chart out at the e-mail column's width (a fluid SVG in a table cell shrank to 86 px).
    from weasyprint import HTML

    html = report_render(services.report_build(product=charted), fmt="html", chart_mode="pdf")
    widths = []

    def walk(box):
        if str(getattr(box, "element_tag", "")).endswith("svg"):
            widths.append(box.width)
        for child in getattr(box, "children", None) or []:
            walk(child)

    for page in HTML(string=html).render().pages:
        walk(page._page_box)
    assert widths == [590.0] * 3


@time_machine.travel("2026-11-26 12:00", tick=False)
def test_the_report_page_shows_each_chart_as_svg_with_title_and_summary(charted, admin, workspace, client_as):
    url = reverse("reports:preview", kwargs={"ws": workspace.slug}) + f"?product={charted.id}"
    html = client_as(admin).get(url).content.decode()
    assert html.count('data-testid="report-chart"') == 3
    assert html.count("<svg") >= 3 and 'role="img"' in html
    assert "Activation, last 90 days" in html and "Target 50%" in html


@time_machine.travel("2026-11-26 12:00", tick=False)
def test_a_stored_run_keeps_its_charts(charted, admin):
    subscription = SubscriptionFactory(product=charted, owner=admin)
    run, _ = services.run_create(subscription=subscription, period="2026-W48")
    Measurement.objects.filter(kpi__product=charted).update(value=99)
    assert [c["series"][0]["values"] for c in report_charts(run.data) if c["id"].startswith("kpi-")] == [
        [30.0, 35.5, 42.0]]


def test_many_kpis_draw_at_most_eight_charts(product):
    for n in range(10):
        kpi = Kpi.objects.create(product=product, name=f"K{n:02}")
        Measurement.objects.create(kpi=kpi, period_start=date(2026, 11, 20) - timedelta(days=n), value=n)
    data = sections.kpis(products=[product], today=date(2026, 11, 26), previous=None)
    assert len(data["charts"]) == sections.KPI_CHARTS and data["charts_left_out"] == 2
