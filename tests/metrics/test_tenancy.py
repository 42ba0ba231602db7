"""Every metrics page and endpoint: outsider 404, viewer 403 on writes (rows unchanged)."""

from datetime import date

import pytest
from django.urls import reverse

from metrics import services
from metrics.models import ActionPlan, Kpi, KpiHealth, Measurement, MeasurementUpload
from tests.metrics.factories import staged_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(workspace, product, kpi, editor, admin, viewer, outsider):
    services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": "2026-11-01", "value": "5"}])
    kpi.critical_threshold = 10
    kpi.save()
    services.kpi_health_evaluate(kpi_id=kpi.id)
    upload = staged_upload(user=editor, kpi=kpi, content=b"period,value\n2026-11-02,3\n")
    return {"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id,
            "measurement_id": Measurement.objects.get().id, "upload_id": upload.id,
            "plan_id": ActionPlan.objects.get().id}


PAGES = [
    ("metrics_kpi_list", ["ws", "product_id"]),
    ("metrics_kpi_detail", ["ws", "product_id", "kpi_id"]),
    ("metrics_kpi_delete", ["ws", "product_id", "kpi_id"]),
    ("metrics_measurement_add", ["ws", "product_id", "kpi_id"]),
    ("metrics_measurement_delete", ["ws", "product_id", "kpi_id", "measurement_id"]),
    ("metrics_upload_create", ["ws", "product_id", "kpi_id"]),
    ("metrics_upload", ["ws", "product_id", "kpi_id", "upload_id"]),
    ("metrics_upload_reading", ["ws", "product_id", "kpi_id", "upload_id"]),
    ("metrics_plan_create", ["ws", "product_id", "kpi_id"]),
    ("metrics_product_dashboard", ["ws", "product_id"]),
    ("metrics_product_dashboard_data", ["ws", "product_id"]),
    ("metrics_product_dashboard_csv", ["ws", "product_id"]),
    ("metrics_workspace_dashboard", ["ws"]),
    ("metrics_workspace_dashboard_data", ["ws"]),
    ("metrics_workspace_dashboard_csv", ["ws"]),
    ("metrics_plan_list", ["ws"]),
    ("metrics_plan_detail", ["ws", "plan_id"]),
]
READABLE = ["metrics_kpi_list", "metrics_kpi_detail", "metrics_product_dashboard", "metrics_product_dashboard_data",
            "metrics_product_dashboard_csv", "metrics_workspace_dashboard", "metrics_workspace_dashboard_data",
            "metrics_workspace_dashboard_csv", "metrics_plan_list", "metrics_plan_detail"]
WRITABLE = ["metrics_kpi_list", "metrics_kpi_detail", "metrics_kpi_delete", "metrics_measurement_add",
            "metrics_measurement_delete", "metrics_upload_create", "metrics_upload", "metrics_plan_create",
            "metrics_plan_detail"]


def _snapshot():
    return (list(Kpi.objects.values_list("id", "name", "version", "health")),
            list(Measurement.objects.values_list("id", "period_start", "value")),
            list(ActionPlan.objects.values_list("id", "status", "title")),
            list(MeasurementUpload.objects.values_list("id", "confirmed_at")), KpiHealth.objects.count())


def _url(world, name, keys):
    return reverse(name, kwargs={k: world[k] for k in keys})


def test_every_metrics_route_is_in_the_tenancy_table():
    from metrics.urls import urlpatterns

    assert {p.name for p in urlpatterns} == {name for name, _ in PAGES}


@pytest.mark.parametrize(("name", "keys"), PAGES)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_outsider_gets_404_on_every_page(client_as, outsider, world, name, keys, method):
    before = _snapshot()
    response = getattr(client_as(outsider), method)(_url(world, name, keys), {"name": "pwned", "value": "1"})
    assert response.status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", READABLE)
def test_viewer_reads_pages(client_as, viewer, world, name):
    keys = dict(PAGES)[name]
    assert client_as(viewer).get(_url(world, name, keys)).status_code == 200


@pytest.mark.parametrize("name", WRITABLE)
def test_viewer_gets_403_on_writes_and_nothing_changes(client_as, viewer, world, name):
    before = _snapshot()
    response = client_as(viewer).post(_url(world, name, dict(PAGES)[name]),
                                      {"name": "Hacked", "value": "99", "period": "2026-11-05", "status": "closed",
                                       "title": "x", "version": 1})
    assert response.status_code == 403
    assert _snapshot() == before


def test_foreign_kpi_under_own_product_url_is_404(client_as, admin, world, foreign_product):
    foreign = Kpi.objects.create(product=foreign_product, name="Theirs")
    url = reverse("metrics_kpi_detail", kwargs={"ws": world["ws"], "product_id": world["product_id"],
                                                "kpi_id": foreign.id})
    assert client_as(admin).get(url).status_code == 404


# --- API --------------------------------------------------------------------------------------
# (path, methods the route offers; others are 405 for everyone, which reveals nothing)
DETAIL_ENDPOINTS = [("/api/v1/kpis/{kpi_id}/", {"get", "put", "patch", "delete"}),
                    ("/api/v1/measurements/{measurement_id}/", {"get", "delete"}),
                    ("/api/v1/action-plans/{plan_id}/", {"get", "put", "patch"}),
                    ("/api/v1/kpi-health/{health_id}/", {"get"})]


@pytest.fixture
def api_world(world):
    return dict(world, health_id=KpiHealth.objects.get().id)


@pytest.mark.parametrize(("path", "offered"), DETAIL_ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_api_outsider_gets_404(api, outsider, api_world, path, offered, method):
    api.force_authenticate(outsider)
    before = _snapshot()
    response = getattr(api, method)(path.format(**api_world), {"name": "pwned", "version": 1}, format="json")
    assert response.status_code == (404 if method in offered else 405)
    assert _snapshot() == before


@pytest.mark.parametrize("path", ["/api/v1/kpis/", "/api/v1/measurements/", "/api/v1/action-plans/",
                                  "/api/v1/kpi-health/"])
def test_api_outsider_lists_nothing_of_ours(api, outsider, api_world, path):
    api.force_authenticate(outsider)
    assert api.get(path).json()["results"] == []


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/v1/kpis/", {"product": "{product_id}", "name": "New"}),
    ("patch", "/api/v1/kpis/{kpi_id}/", {"name": "Hacked", "version": 1}),
    ("put", "/api/v1/kpis/{kpi_id}/", {"name": "Hacked", "version": 1}),
    ("delete", "/api/v1/kpis/{kpi_id}/", {}),
    ("post", "/api/v1/measurements/", {"kpi": "{kpi_id}", "period": "2026-11-09", "value": "1"}),
    ("post", "/api/v1/measurements/bulk/", {"items": [{"kpi": "{kpi_id}", "period": "2026-11-09", "value": "1"}]}),
    ("delete", "/api/v1/measurements/{measurement_id}/", {}),
    ("post", "/api/v1/action-plans/", {"kpi": "{kpi_id}", "title": "x"}),
    ("patch", "/api/v1/action-plans/{plan_id}/", {"status": "closed"}),
    ("put", "/api/v1/action-plans/{plan_id}/", {"status": "closed", "title": "x"}),
])
def test_api_viewer_gets_403_on_writes(api, viewer, api_world, method, path, body):
    import json

    api.force_authenticate(viewer)
    before = _snapshot()
    payload = json.loads(json.dumps(body).replace('"{product_id}"', str(api_world["product_id"]))
                         .replace('"{kpi_id}"', str(api_world["kpi_id"])))
    response = getattr(api, method)(path.format(**api_world), payload, format="json")
    assert response.status_code == 403
    assert _snapshot() == before


def test_api_outsider_cannot_write_measurements_of_our_kpi(api, outsider, api_world):
    api.force_authenticate(outsider)
    before = _snapshot()
    one = api.post("/api/v1/measurements/", {"kpi": api_world["kpi_id"], "period": "2026-11-09", "value": 1},
                   format="json")
    bulk = api.post("/api/v1/measurements/bulk/", {"items": [{"kpi": api_world["kpi_id"], "period": "2026-11-09",
                                                              "value": 1}]}, format="json")
    assert one.status_code == 400 and bulk.status_code == 400
    assert bulk.json()["errors"]["items"]["0"]["kpi"] == ["Unknown KPI."]
    assert _snapshot() == before


def test_api_outsider_cannot_create_kpi_in_our_product(api, outsider, api_world):
    api.force_authenticate(outsider)
    response = api.post("/api/v1/kpis/", {"product": api_world["product_id"], "name": "x"}, format="json")
    assert response.status_code == 404
    assert Kpi.objects.count() == 1


def test_kpi_current_date_is_untouched_by_refused_writes(world):
    assert Kpi.objects.get().current_at == date(2026, 11, 1)
