"""The KPIs' measurement stamps (metrics.models.KpiMeasured, decision 2321): the database writes a
new one on every write of a measurement, whatever the statement, so the dashboards' cache key
(which reads them with the KPIs instead of an aggregate of the measurements) changes with every
write, and a write read back at once shows the new figure."""

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics import selectors, services
from metrics.models import Kpi, KpiMeasured, Measurement

from .factories import KpiFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False):
        yield


def _stamp(kpi):
    return KpiMeasured.objects.get(kpi_id=kpi.id).stamp


def test_a_new_kpi_has_a_stamp(product):
    kpi = KpiFactory(product=product)
    assert KpiMeasured.objects.filter(kpi_id=kpi.id).exists()


def test_every_kind_of_write_gives_a_new_stamp(admin, product, frozen):
    kpi, other = KpiFactory(product=product), KpiFactory(product=product)
    seen = [_stamp(kpi)]
    other_stamp = _stamp(other)

    def moved():
        stamp = _stamp(kpi)
        assert stamp not in seen
        seen.append(stamp)

    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    moved()
    # the same period re-sent: INSERT ... ON CONFLICT DO UPDATE
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 6}])
    moved()
    Measurement.objects.bulk_create([Measurement(kpi=kpi, period_start=date(2026, 11, d), value=d) for d in (1, 2)])
    moved()
    Measurement.objects.filter(kpi=kpi, period_start=date(2026, 11, 1)).update(value=8)
    moved()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE metrics_measurement SET value = value + 1 WHERE kpi_id = %s", [kpi.id])
    moved()
    Measurement.objects.filter(kpi=kpi, period_start=date(2026, 11, 2)).delete()
    moved()
    services.measurement_delete(user=admin, measurement=Measurement.objects.get(kpi=kpi, period_start=date(2026, 11, 20)))
    moved()
    # a measurement moved to another KPI: both move
    other_before = _stamp(other)
    Measurement.objects.filter(kpi=kpi).update(kpi=other)
    moved()
    assert _stamp(other) != other_before
    assert other_stamp != _stamp(other)


def test_a_write_that_changes_nothing_keeps_the_stamp(admin, product):
    kpi = KpiFactory(product=product)
    Measurement.objects.create(kpi=kpi, period_start=date(2026, 11, 1), value=1)
    stamp = _stamp(kpi)
    Measurement.objects.filter(kpi=kpi, period_start=date(2020, 1, 1)).update(value=2)  # no row
    Measurement.objects.bulk_create([Measurement(kpi=kpi, period_start=date(2026, 11, 1), value=9)],
                                    ignore_conflicts=True)  # nothing written
    assert _stamp(kpi) == stamp


def test_a_rolled_back_stamp_is_never_given_again(product):
    kpi = KpiFactory(product=product)
    with pytest.raises(RuntimeError), transaction.atomic():
        Measurement.objects.create(kpi=kpi, period_start=date(2026, 11, 1), value=1)
        rolled_back = _stamp(kpi)
        raise RuntimeError
    Measurement.objects.create(kpi=kpi, period_start=date(2026, 11, 1), value=2)
    assert _stamp(kpi) != rolled_back


def test_deleting_a_kpi_with_measurements_commits(product):
    kpi = KpiFactory(product=product)
    Measurement.objects.create(kpi=kpi, period_start=date(2026, 11, 1), value=1)
    with transaction.atomic():
        Kpi.objects.filter(pk=kpi.pk).delete()  # the cascade's delete of the measurements writes a stamp
    assert not Kpi.objects.filter(pk=kpi.pk).exists()


def test_the_dashboard_key_reads_the_stamps_with_the_kpis(product, workspace, frozen):
    kpi = KpiFactory(product=product)
    Measurement.objects.create(kpi=kpi, period_start=date(2026, 11, 1), value=1)
    window = selectors.Window(date(2026, 10, 1), date(2026, 11, 26), "custom")
    for kpis in (selectors.dashboard_kpis_of_workspace(workspace=workspace),
                 selectors.dashboard_kpis_of_product(product=product)):
        before = selectors._dashboard_key(kpis, window)
        with CaptureQueriesContext(connection) as queries:
            assert selectors._dashboard_key(kpis, window) == before
        assert queries.captured_queries == []
    Measurement.objects.filter(kpi=kpi).update(value=2)
    for kpis in (selectors.dashboard_kpis_of_workspace(workspace=workspace),
                 selectors.dashboard_kpis_of_product(product=product)):
        assert selectors._dashboard_key(kpis, window) != before


def _workspace_page(client, workspace):
    html = client.get(reverse("metrics_workspace_dashboard", kwargs={"ws": workspace.slug}), {"range": "30"})
    html = html.content.decode()
    start = html.index('<script id="dashboard-data" type="application/json">')
    return json.loads(html[html.index(">", start) + 1:html.index("</script>", start)]), html


def _points(embedded, kpi):
    return next(t for t in embedded["kpis"] if t["id"] == kpi.id)["points"]


def test_the_workspace_dashboard_shows_every_write_at_once(client_as, admin, workspace, product, frozen):
    """Write, then read the workspace dashboard back at once (cached between): the series moves with
    every kind of write, the services' and the ORM's and raw SQL's."""
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM, name="Signups <b>&'\"")
    client = client_as(admin)
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    embedded, html = _workspace_page(client, workspace)
    assert _points(embedded, kpi) == [["2026-11-20", 5.0]]
    assert _workspace_page(client, workspace)[0] == embedded  # from the cache
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 6}])
    assert _points(_workspace_page(client, workspace)[0], kpi) == [["2026-11-20", 6.0]]
    Measurement.objects.bulk_create([Measurement(kpi=kpi, period_start=date(2026, 11, 21), value=7)])
    assert _points(_workspace_page(client, workspace)[0], kpi)[-1] == ["2026-11-21", 7.0]
    Measurement.objects.filter(kpi=kpi, period_start=date(2026, 11, 21)).update(value=9)
    assert _points(_workspace_page(client, workspace)[0], kpi)[-1] == ["2026-11-21", 9.0]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE metrics_measurement SET value = 10 WHERE kpi_id = %s AND period_start = %s",
                       [kpi.id, date(2026, 11, 21)])
    assert _points(_workspace_page(client, workspace)[0], kpi)[-1] == ["2026-11-21", 10.0]
    Measurement.objects.filter(kpi=kpi, period_start=date(2026, 11, 21)).delete()
    assert _points(_workspace_page(client, workspace)[0], kpi) == [["2026-11-20", 6.0]]
    kpi.refresh_from_db()
    services.kpi_update(user=admin, kpi=kpi, data={"target_value": 250, "target_date": date(2027, 1, 1)},
                        expected_version=kpi.version)
    embedded, html = _workspace_page(client, workspace)
    assert next(t for t in embedded["kpis"] if t["id"] == kpi.id)["target"] == 250


def test_the_workspace_dashboard_runs_no_fingerprint_query(client_as, admin, workspace, product, frozen):
    kpi = KpiFactory(product=product, aggregation=Kpi.Aggregation.SUM)
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, 20), "value": 5}])
    client = client_as(admin)
    _workspace_page(client, workspace)
    with CaptureQueriesContext(connection) as queries:
        _workspace_page(client, workspace)
    assert not [q for q in queries.captured_queries if "metrics_measurement" in q["sql"]]


def _kpi_page(client, workspace, product, kpi):
    return client.get(reverse("metrics_kpi_detail", kwargs={"ws": workspace.slug, "product_id": product.id,
                                                            "kpi_id": kpi.id})).content.decode()


def test_the_kpi_page_prints_the_chart_script_json_script_printed(client_as, admin, workspace, product, frozen):
    """The KPI page's chart data from the cached JSON text (decision 2325) is what
    `{{ chart|json_script:"dashboard-data" }}` printed for {"window": ..., "kpis": dashboard_data},
    byte for byte, with hostile text in the KPI; computed, then from the cache; and a write read back
    at once moves it."""
    from django.utils.html import json_script

    kpi = KpiFactory(product=product, name="</script><b>&'\"ü 🚀", unit="percent", target_value=50,
                     target_date=date(2027, 1, 1))
    services.measurements_upsert(user=admin, kpi=kpi, items=[{"period": date(2026, 11, d), "value": d}
                                                             for d in (1, 2, 20)])
    client = client_as(admin)
    window = selectors.Window(date(2026, 11, 1), date(2026, 11, 26), "all")

    def expected():
        fresh = Kpi.objects.get(pk=kpi.pk)
        return json_script({"window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
                            "kpis": selectors.dashboard_data_uncached(kpis=[fresh], window=window)}, "dashboard-data")

    for _ in range(2):
        html = _kpi_page(client, workspace, product, kpi)
        assert expected() in html
    assert "</script><b>" not in html.split('id="dashboard-data"')[1].split("</script>")[0]
    Measurement.objects.filter(kpi=kpi, period_start=date(2026, 11, 2)).update(value=99)
    html = _kpi_page(client, workspace, product, kpi)
    assert expected() in html and "99.0" in html.split('id="dashboard-data"')[1].split("</script>")[0]
