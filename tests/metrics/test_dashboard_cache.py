"""The dashboard figures are cached under keys made of their inputs (metrics.selectors.dashboard_data):
a write read back at once shows the new figure, never a stale one."""

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics import services
from metrics.models import Kpi, Measurement

from .factories import KpiFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False):
        yield


def _tile(client, workspace, product, kpi):
    url = reverse("metrics_product_dashboard_data", kwargs={"ws": workspace.slug, "product_id": product.id})
    return next(t for t in client.get(url, {"range": "30"}).json()["kpis"] if t["id"] == kpi.id)


def test_a_repeated_read_is_served_from_the_cache(client_as, admin, workspace, product, frozen):
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM)
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    client = client_as(admin)
    first = _tile(client, workspace, product, kpi)
    with CaptureQueriesContext(connection) as queries:
        assert _tile(client, workspace, product, kpi) == first
    points = [q for q in queries.captured_queries if '"period_start"' in q["sql"] and "ORDER BY" in q["sql"]]
    assert points == []  # the series query did not run again


def test_every_write_is_read_back_at_once(client_as, admin, workspace, product, frozen):
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM, target_value=100, target_date=date(2027, 1, 1))
    client = client_as(admin)
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    assert _tile(client, workspace, product, kpi)["period_value"] == 5
    # a new day
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 21), "value": 7}])
    assert _tile(client, workspace, product, kpi)["period_value"] == 12
    # the same day re-sent: the row is updated in place
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 21), "value": 9}])
    tile = _tile(client, workspace, product, kpi)
    assert tile["period_value"] == 14 and tile["points"][-1] == ["2026-11-21", 9.0]
    # a deletion
    services.measurement_delete(user=admin, measurement=Measurement.objects.get(kpi=kpi, period_start=date(2026, 11, 21)))
    assert _tile(client, workspace, product, kpi)["period_value"] == 5
    # the KPI itself
    kpi.refresh_from_db()
    services.kpi_update(user=admin, kpi=kpi, data={"target_value": 250}, expected_version=kpi.version)
    assert _tile(client, workspace, product, kpi)["target"] == 250


def test_a_raw_update_of_a_value_is_seen_too(client_as, admin, workspace, product, frozen):
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM)
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    client = client_as(admin)
    assert _tile(client, workspace, product, kpi)["period_value"] == 5
    Measurement.objects.filter(kpi=kpi).update(value=8)  # no updated_at, no signal: the sum still moves
    assert _tile(client, workspace, product, kpi)["period_value"] == 8


def _page_data(client, workspace, product):
    """The JSON the product dashboard page embeds for its charts, and its tiles' markup."""
    html = client.get(reverse("metrics_product_dashboard", kwargs={"ws": workspace.slug, "product_id": product.id}),
                      {"range": "30"}).content.decode()
    start = html.index('<script id="dashboard-data" type="application/json">')
    text = html[html.index(">", start) + 1:html.index("</script>", start)]
    return json.loads(text), html


def test_the_page_embeds_what_the_json_endpoint_answers(client_as, admin, workspace, product, frozen):
    """The page's tiles and charts read the rows of dashboard_data itself (decision 1958): the
    embedded JSON is the data endpoint's answer, figure for figure."""
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM, name="Signups <b>")
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    client = client_as(admin)
    url = reverse("metrics_product_dashboard_data", kwargs={"ws": workspace.slug, "product_id": product.id})
    for _ in range(2):  # computed, then read from the cache
        embedded, html = _page_data(client, workspace, product)
        assert embedded == client.get(url, {"range": "30"}).json()
        assert "Signups &lt;b&gt;" in html and "<b>" not in html.split('id="dashboard-data"')[1].split("</script>")[0]


def test_the_page_shows_every_write_at_once(client_as, admin, workspace, product, frozen):
    """Write, then read the page back at once: the tiles and the embedded series move with it."""
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM, target_value=100, target_date=date(2027, 1, 1))
    client = client_as(admin)
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    embedded, _ = _page_data(client, workspace, product)
    assert next(t for t in embedded["kpis"] if t["id"] == kpi.id)["points"] == [["2026-11-20", 5.0]]
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 21), "value": 7}])
    embedded, _ = _page_data(client, workspace, product)
    assert next(t for t in embedded["kpis"] if t["id"] == kpi.id)["points"][-1] == ["2026-11-21", 7.0]
    Measurement.objects.filter(kpi=kpi, period_start=date(2026, 11, 21)).update(value=9)  # a raw update
    embedded, _ = _page_data(client, workspace, product)
    assert next(t for t in embedded["kpis"] if t["id"] == kpi.id)["points"][-1] == ["2026-11-21", 9.0]
    kpi.refresh_from_db()
    services.kpi_update(user=admin, kpi=kpi, data={"target_value": 250}, expected_version=kpi.version)
    embedded, html = _page_data(client, workspace, product)
    assert next(t for t in embedded["kpis"] if t["id"] == kpi.id)["target"] == 250
    assert "target 250" in html  # the tile too
