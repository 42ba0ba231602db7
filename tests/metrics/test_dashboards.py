"""Dashboards: a fixed number of queries whatever the number of KPIs; period picker; CSV export."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from metrics.models import Kpi, Measurement
from metrics.selectors import Window, dashboard_data, window_from
from metrics.services import kpi_refresh_current

from .factories import KpiFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 26)
# session, user, memberships, product, workspace, nav (2), session save (3) + KPIs + 2 dashboard queries
# Same for 5 and 50 KPIs: page frame + KPIs, points, previous period, objectives, adoption funnel,
# risks above appetite (governance).
# The adoption figure first looks for the windows the rollup task stored (docs/decisions/1913):
# +1 query here, where the events were rolled up without the task and it counts live.
# Statements awaiting approval: their ids only when none awaits (decision 1957): 15, +1 when the
# unread count is not cached.
QUERY_BUDGET = 16


def _make(product, n, days=30):
    kpis = KpiFactory.create_batch(n, product=product, target_value=100, target_date=TODAY + timedelta(days=30),
                                   warning_threshold=20, critical_threshold=10)
    Measurement.objects.bulk_create([Measurement(kpi=k, period_start=TODAY - timedelta(days=d), value=d + i)
                                     for i, k in enumerate(kpis) for d in range(days)])
    return kpis


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.mark.parametrize("n", [5, 50])
@pytest.mark.parametrize("scope", ["product", "workspace"])
def test_dashboards_use_a_fixed_number_of_queries(client_as, viewer, workspace, product, frozen, n, scope,
                                                  django_assert_max_num_queries):
    _make(product, n)
    c = client_as(viewer)
    url = (reverse("metrics_product_dashboard", kwargs={"ws": workspace.slug, "product_id": product.id})
           if scope == "product" else reverse("metrics_workspace_dashboard", kwargs={"ws": workspace.slug}))
    c.get(url)  # warm the session
    with django_assert_max_num_queries(QUERY_BUDGET) as captured:
        response = c.get(url)
    assert response.status_code == 200
    assert response.content.count(b"data-kpi-tile=") == n
    print(f"{scope} dashboard with {n} KPIs: {len(captured)} queries")


def test_dashboard_json_follows_the_period_picker(client_as, viewer, workspace, product, frozen):
    _make(product, 2, days=200)
    url = reverse("metrics_product_dashboard_data", kwargs={"ws": workspace.slug, "product_id": product.id})
    short = client_as(viewer).get(url, {"range": "30"}).json()
    long = client_as(viewer).get(url, {"range": "365"}).json()
    custom = client_as(viewer).get(url, {"range": "custom", "start": "2026-11-01", "end": "2026-11-10"}).json()
    assert len(short["kpis"][0]["points"]) == 30
    assert len(long["kpis"][0]["points"]) == 200
    assert len(custom["kpis"][0]["points"]) == 10
    assert custom["window"] == {"start": "2026-11-01", "end": "2026-11-10", "key": "custom",
                                "previous_start": "2026-10-22", "previous_end": "2026-10-31"}


def test_period_value_is_the_window_aggregate_and_change_follows_the_current_value(product):
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM)
    last = KpiFactory(product=product, aggregation=Kpi.Aggregation.LAST)
    avg = KpiFactory(product=product, aggregation=Kpi.Aggregation.AVERAGE)
    for k in (kpi, last, avg):
        Measurement.objects.bulk_create([
            Measurement(kpi=k, period_start=date(2026, 10, 25), value=10),   # previous window
            Measurement(kpi=k, period_start=date(2026, 10, 30), value=40),   # previous window
            Measurement(kpi=k, period_start=date(2026, 11, 2), value=30),    # current window
            Measurement(kpi=k, period_start=date(2026, 11, 5), value=30),    # current window
        ])
        kpi_refresh_current(kpi=k)
    window = Window(date(2026, 11, 1), date(2026, 11, 10), "custom")
    data = {d["id"]: d for d in dashboard_data(kpis=[kpi, last, avg], window=window)}
    assert [data[k.id]["period_value"] for k in (kpi, last, avg)] == [60, 30, 30]
    # The tile shows the current value (30) and its change against the value before the window
    # (40): down 25 %, whatever the aggregation, never "+".
    for k in (kpi, last, avg):
        assert (data[k.id]["current"], data[k.id]["previous_value"]) == (30, 40)
        assert data[k.id]["change"] == {"pct": -25.0, "text": "−25.0 %", "tone": "bad"}  # higher is better


def test_a_kpi_going_down_toward_a_lower_target_is_good(product):
    kpi = KpiFactory(product=product, direction=Kpi.Direction.LOWER, target_value=35, target_date=None)
    Measurement.objects.bulk_create([Measurement(kpi=kpi, period_start=date(2026, 10, 30), value=50),
                                     Measurement(kpi=kpi, period_start=date(2026, 11, 5), value=46)])
    kpi_refresh_current(kpi=kpi)
    tile = dashboard_data(kpis=[kpi], window=Window(date(2026, 11, 1), date(2026, 11, 10), "custom"))[0]
    assert tile["change"] == {"pct": -8.0, "text": "−8.0 %", "tone": "good"}
    assert tile["target_text"] == "35"  # no "by None"


def test_bad_custom_period_falls_back_to_90_days():
    window = window_from({"range": "custom", "start": "2026-12-01", "end": "2026-01-01"}, today=TODAY)
    assert (window.key, window.days) == ("90", 90)


def test_dashboard_csv_export(client_as, viewer, workspace, product, frozen):
    kpis = _make(product, 2, days=3)
    Kpi.objects.filter(id=kpis[0].id).update(name="=HYPERLINK(evil)")
    url = reverse("metrics_workspace_dashboard_csv", kwargs={"ws": workspace.slug})
    response = client_as(viewer).get(url, {"range": "30"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["kpi", "unit", "health"]
    assert len(rows) == 1 + 2 * 3
    assert all(not r[0].startswith("=") for r in rows[1:])


def test_dashboard_shows_no_adoption_data_for_a_product_without_features(client_as, viewer, workspace, product,
                                                                           frozen):
    response = client_as(viewer).get(reverse("metrics_product_dashboard",
                                             kwargs={"ws": workspace.slug, "product_id": product.id}))
    assert b"No adoption data yet" in response.content


def test_home_panel_summarises_kpi_health(client_as, viewer, workspace, product):
    KpiFactory(product=product, health="off_track")
    KpiFactory(product=product, health="on_track")
    response = client_as(viewer).get(reverse("workspace_home", kwargs={"ws": workspace.slug}))
    assert b"1 on track" in response.content and b"1 off track" in response.content


def test_dashboard_objectives_show_the_mean_progress_of_their_key_results(client_as, viewer, workspace, product,
                                                                          frozen):
    from datetime import date

    from roadmaps.models import KeyResult, Objective

    objective = Objective.objects.create(product=product, title="Grow teams", start_date=date(2026, 10, 1),
                                         end_date=date(2026, 12, 31))
    KeyResult.objects.create(objective=objective, title="a", start_value=0, target_value=10, current_value=5)
    KeyResult.objects.create(objective=objective, title="b", start_value=0, target_value=10, current_value=10)
    html = client_as(viewer).get(reverse("metrics_product_dashboard",
                                         kwargs={"ws": workspace.slug, "product_id": product.id})).content.decode()
    assert 'value="75" max="100"' in html  # (50 % + 100 %) / 2


@pytest.mark.parametrize("count", [3, 60])
def test_dashboard_objectives_are_the_orm_s_at_two_sizes(workspace, product, count, django_assert_max_num_queries):
    """The dashboards' objectives read by the products' ids, compiled once (decision 2324): the
    first 50 in the objectives' order, with the same progress as the queryset reading, and a fixed
    number of queries whatever their number."""
    from metrics.selectors import objectives_with_progress
    from roadmaps.models import KeyResult, Objective, Product
    from roadmaps.selectors import objectives_with_progress as with_progress

    other = Product.objects.create(workspace=workspace, name="Other <b>&'\"")
    for i in range(count):
        objective = Objective.objects.create(product=(product, other)[i % 2], title=f"Objective {i} <i>ü",
                                             start_date=date(2026, 1 + i % 12, 1), end_date=date(2027, 1, 1))
        if i % 3:
            KeyResult.objects.create(objective=objective, title="kr", start_value=0, target_value=10, current_value=i % 10)
    with django_assert_max_num_queries(4):
        read = objectives_with_progress(products=[product, other])
    expected = with_progress(Objective.objects.filter(product__in=[product, other])[:50])
    assert [(o["title"], o["progress"]) for o in read] == [
        (o.title, round(100 * o.progress) if o.progress is not None else None) for o in expected]
    assert len(read) == min(count, 50)
    assert objectives_with_progress(products=[]) == []
