"""A measurement dated after today (in the workspace's time zone) is refused with a field error on
every way in (API, bulk API, page form, CSV import) and changes nothing; today itself is accepted;
a future row stored before this rule never becomes the KPI's current value."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics import services
from metrics.models import Measurement, MeasurementUpload

pytestmark = pytest.mark.django_db

# 23:30 UTC on 4 Dec 2026: already 5 Dec in Auckland, still 4 Dec in UTC and Los Angeles.
LATE_EVENING = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)


@pytest.fixture
def late_evening():
    with time_machine.travel(LATE_EVENING, tick=False):
        yield


def test_api_refuses_a_value_for_tomorrow_with_a_field_error(api_as, editor, kpi, late_evening):
    response = api_as(editor).post("/api/v1/measurements/", {"kpi": kpi.id, "period": "2026-12-05", "value": "5"},
                                   format="json")
    assert response.status_code == 400
    assert "after today (2026-12-04 in UTC)" in response.json()["errors"]["period"][0]
    assert not Measurement.objects.exists()
    kpi.refresh_from_db()
    assert kpi.current_value is None


def test_api_accepts_a_value_for_today(api_as, editor, kpi, late_evening):
    response = api_as(editor).post("/api/v1/measurements/", {"kpi": kpi.id, "period": "2026-12-04", "value": "5"},
                                   format="json")
    assert response.status_code == 201
    kpi.refresh_from_db()
    assert (kpi.current_value, kpi.current_at) == (Decimal(5), date(2026, 12, 4))


def test_api_refuses_a_timestamp_later_than_now_on_another_local_day(api_as, editor, kpi, late_evening):
    response = api_as(editor).post("/api/v1/measurements/", {"kpi": kpi.id, "timestamp": "2026-12-05T08:00:00Z",
                                                             "value": "5"}, format="json")
    assert response.status_code == 400 and "period" in response.json()["errors"]
    assert not Measurement.objects.exists()


def test_today_is_the_workspace_day_not_the_server_day(api_as, editor, kpi, workspace, late_evening):
    workspace.time_zone = "Pacific/Auckland"
    workspace.save(update_fields=["time_zone"])
    api = api_as(editor)
    ok = api.post("/api/v1/measurements/", {"kpi": kpi.id, "period": "2026-12-05", "value": "5"}, format="json")
    assert ok.status_code == 201  # 5 Dec has begun in Auckland
    refused = api.post("/api/v1/measurements/", {"kpi": kpi.id, "period": "2026-12-06", "value": "5"}, format="json")
    assert refused.status_code == 400
    assert "after today (2026-12-05 in Pacific/Auckland)" in refused.json()["errors"]["period"][0]
    assert list(Measurement.objects.values_list("period_start", flat=True)) == [date(2026, 12, 5)]


def test_bulk_api_names_the_future_item_and_writes_nothing(api_as, editor, kpi, late_evening):
    response = api_as(editor).post("/api/v1/measurements/bulk/", {"items": [
        {"kpi": kpi.id, "period": "2026-12-01", "value": "5"},
        {"kpi": kpi.id, "period": "2030-01-01", "value": "9"}]}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]["items"]) == ["1"]
    assert "period" in response.json()["errors"]["items"]["1"]
    assert not Measurement.objects.exists()


def test_bulk_api_accepts_values_up_to_today(api_as, editor, kpi, late_evening):
    response = api_as(editor).post("/api/v1/measurements/bulk/", {"items": [
        {"kpi": kpi.id, "period": "2026-12-01", "value": "5"},
        {"kpi": kpi.id, "period": "2026-12-04", "value": "9"}]}, format="json")
    assert response.status_code == 200
    assert Measurement.objects.count() == 2


def test_page_form_shows_the_error_beside_the_period(client_as, editor, workspace, product, kpi, late_evening):
    url = reverse("metrics_measurement_add", kwargs={"ws": workspace.slug, "product_id": product.id,
                                                     "kpi_id": kpi.id})
    response = client_as(editor).post(url, {"period": "2030-01-01", "value": "42"})
    assert response.status_code == 400
    assert response.context["measurement_form"].errors["period"][0].startswith("2030-01-01 is after today")
    assert b"is after today" in response.content
    assert not Measurement.objects.exists()
    assert client_as(editor).post(url, {"period": "2026-12-04", "value": "42"}).status_code == 302
    assert Measurement.objects.get().value == 42


def test_csv_import_reports_future_rows_per_line_and_keeps_the_others(client_as, editor, workspace, product, kpi,
                                                                      late_evening, django_capture_on_commit_callbacks):
    csv = b"period,value\n2026-12-03,10\n2026-12-05,11\n2030-06-01,12\n2026-12-04,13\n"
    c = client_as(editor)
    url = reverse("metrics_upload_create", kwargs={"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id})
    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the file on commit
        response = c.post(url, {"file": SimpleUploadedFile("values.csv", csv, content_type="text/csv")})
    upload = MeasurementUpload.objects.get()
    assert [(e["line"], e["reason"][:29]) for e in upload.errors] == [
        (3, "2026-12-05 is after today (20"), (4, "2030-06-01 is after today (20")]
    assert c.post(response.url).status_code == 302
    assert dict(Measurement.objects.values_list("period_start", "value")) == {
        date(2026, 12, 3): Decimal(10), date(2026, 12, 4): Decimal(13)}


def test_a_future_row_stored_before_the_rule_is_never_current(kpi, editor, late_evening):
    Measurement.objects.create(kpi=kpi, period_start=date(2030, 1, 1), value=Decimal(99))
    services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": "2026-12-02", "value": "7"}])
    kpi.refresh_from_db()
    assert (kpi.current_value, kpi.current_at) == (Decimal(7), date(2026, 12, 2))
