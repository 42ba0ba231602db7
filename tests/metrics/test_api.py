"""API: KPIs with optimistic locking, measurements (single and bulk upsert), health, action plans."""

from datetime import date

import pytest

from metrics.models import ActionPlan, Kpi, KpiHealth, Measurement

from .factories import KpiFactory

pytestmark = pytest.mark.django_db


def test_create_and_list_kpis(api_as, editor, product, workspace):
    api = api_as(editor)
    response = api.post("/api/v1/kpis/", {"product": product.id, "name": "Activation", "unit": "percent",
                                          "direction": "higher", "aggregation": "average", "cadence": "weekly",
                                          "target_value": "45", "target_date": "2027-03-31",
                                          "warning_threshold": "35", "critical_threshold": "30",
                                          "owner": editor.id}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["health"] == "unknown" and body["version"] == 1 and body["cadence"] == "weekly"
    assert api.get(f"/api/v1/kpis/?product={product.id}").json()["count"] == 1


def test_bad_kpi_input_is_400_with_field_errors(api_as, editor, product):
    response = api_as(editor).post("/api/v1/kpis/", {"product": product.id, "name": "X", "direction": "higher",
                                                     "warning_threshold": "10", "critical_threshold": "20",
                                                     "unit": "parsecs"}, format="json")
    assert response.status_code == 400
    assert "unit" in response.json()["errors"]
    response = api_as(editor).post("/api/v1/kpis/", {"product": product.id, "name": "X", "direction": "higher",
                                                     "warning_threshold": "10", "critical_threshold": "20"},
                                   format="json")
    assert response.status_code == 400 and "critical_threshold" in response.json()["errors"]
    assert not Kpi.objects.exists()


def test_stale_version_is_409_with_current_state(api_as, editor, kpi):
    api = api_as(editor)
    assert api.patch(f"/api/v1/kpis/{kpi.id}/", {"name": "Signups (web)", "version": 1},
                     format="json").status_code == 200
    response = api.patch(f"/api/v1/kpis/{kpi.id}/", {"name": "Stale", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["name"] == "Signups (web)"
    assert Kpi.objects.get().name == "Signups (web)"


def test_update_without_version_is_409_with_the_current_state(api_as, editor, kpi):
    response = api_as(editor).patch(f"/api/v1/kpis/{kpi.id}/", {"name": "New"}, format="json")
    assert response.status_code == 409 and response.json()["current"]["version"] == kpi.version
    kpi.refresh_from_db()
    assert kpi.name != "New"


def test_bulk_upsert_is_idempotent(api_as, editor, kpi, product):
    other = KpiFactory(product=product)
    payload = {"items": [{"kpi": kpi.id, "period": "2026-11-01", "value": "5"},
                         {"kpi": kpi.id, "timestamp": "2026-11-02T10:00:00Z", "value": "6"},
                         {"kpi": other.id, "period": "2026-11-01", "value": "7"}]}
    api = api_as(editor)
    for _ in range(2):
        response = api.post("/api/v1/measurements/bulk/", payload, format="json")
        assert response.status_code == 200 and response.json() == {"written": 3}
    assert Measurement.objects.count() == 3
    kpi.refresh_from_db()
    assert kpi.current_value == 6 and kpi.current_at == date(2026, 11, 2)


def test_bulk_upsert_reports_errors_per_item_and_writes_nothing(api_as, editor, kpi, foreign_product):
    foreign = KpiFactory(product=foreign_product)
    response = api_as(editor).post("/api/v1/measurements/bulk/", {"items": [
        {"kpi": kpi.id, "period": "2026-11-01", "value": "5"},
        {"kpi": kpi.id, "period": "2026-11-02", "value": "lots"},
        {"kpi": foreign.id, "period": "2026-11-01", "value": "1"},
        {"kpi": kpi.id, "value": "1"},
    ]}, format="json")
    assert response.status_code == 400
    items = response.json()["errors"]["items"]
    assert set(items) == {"1", "3"} and "value" in items["1"] and "period" in items["3"]
    assert not Measurement.objects.exists()
    response = api_as(editor).post("/api/v1/measurements/bulk/", {"items": [
        {"kpi": kpi.id, "period": "2026-11-01", "value": "5"}, {"kpi": foreign.id, "period": "2026-11-01",
                                                                 "value": "1"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["items"] == {"1": {"kpi": ["Unknown KPI."]}}
    assert not Measurement.objects.exists()


def test_single_measurement_upsert_and_delete(api_as, editor, kpi):
    api = api_as(editor)
    first = api.post("/api/v1/measurements/", {"kpi": kpi.id, "period": "2026-11-01", "value": "5"}, format="json")
    again = api.post("/api/v1/measurements/", {"kpi": kpi.id, "period": "2026-11-01", "value": "8"}, format="json")
    assert first.json()["id"] == again.json()["id"] and again.json()["value"] == "8.0000"
    assert api.delete(f"/api/v1/measurements/{first.json()['id']}/").status_code == 204
    kpi.refresh_from_db()
    assert kpi.current_value is None


def test_health_history_and_action_plans(api_as, editor, kpi, django_capture_on_commit_callbacks):
    kpi.critical_threshold = 10
    kpi.save()
    api = api_as(editor)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/measurements/", {"kpi": kpi.id, "period": "2026-11-01", "value": "5"}, format="json")
    history = api.get(f"/api/v1/kpi-health/?kpi={kpi.id}").json()["results"]
    assert [h["status"] for h in history] == ["off_track"]
    plans = api.get(f"/api/v1/action-plans/?kpi={kpi.id}").json()["results"]
    assert len(plans) == 1 and plans[0]["status"] == "open"
    response = api.patch(f"/api/v1/action-plans/{plans[0]['id']}/", {"status": "closed", "version": plans[0]["version"]},
                         format="json")
    assert response.status_code == 200 and response.json()["closed_reason"] == "manual"
    assert KpiHealth.objects.count() == 1 and ActionPlan.objects.get().status == "closed"


def test_kpi_list_query_count_is_fixed(api_as, editor, product, django_assert_max_num_queries):
    KpiFactory.create_batch(20, product=product)
    api = api_as(editor)
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/kpis/")
    assert response.json()["count"] == 20


def test_openapi_schema_has_no_warnings_for_metrics():
    from tests.schemacheck import spectacular_run

    run = spectacular_run()  # `manage.py spectacular --validate`, once per process
    metrics_lines = [line for problem in run.problems for line in problem.splitlines()
                     if "metrics" in line or "Kpi" in line or "Measurement" in line or "ActionPlan" in line]
    assert metrics_lines == []
