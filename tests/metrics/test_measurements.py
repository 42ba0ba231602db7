"""Measurements: upsert per (kpi, period), aggregation within a batch, current value, CSV staging."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics import services
from metrics.models import Kpi, Measurement, MeasurementUpload
from tests.metrics.factories import staged_upload

pytestmark = pytest.mark.django_db


def test_same_value_sent_twice_is_one_row(kpi, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": "2026-11-02", "value": "7"}])
    assert Measurement.objects.filter(kpi=kpi).count() == 1


def test_resent_period_updates_the_value_and_the_current_value(kpi, editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": "2026-11-01", "value": "1"},
                                                                  {"period": "2026-11-02", "value": "7"}])
        services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": "2026-11-02", "value": "9"}])
    assert Measurement.objects.get(kpi=kpi, period_start=date(2026, 11, 2)).value == 9
    kpi.refresh_from_db()
    assert (kpi.current_value, kpi.current_at) == (Decimal(9), date(2026, 11, 2))


@pytest.mark.parametrize(("aggregation", "expected"), [("sum", 9), ("average", 3), ("last", 5),
                                                       ("count_distinct", 2)])
def test_values_of_one_batch_in_one_period_are_combined_by_the_aggregation(kpi, editor, aggregation, expected):
    kpi.aggregation, kpi.cadence = aggregation, Kpi.Cadence.WEEKLY
    kpi.save()
    services.measurements_upsert(user=editor, kpi=kpi, items=[
        {"period": "2026-11-23", "value": "2"}, {"period": "2026-11-24", "value": "2"},
        {"period": "2026-11-26", "value": "5"}])
    assert Measurement.objects.get(kpi=kpi).value == expected


def test_deleting_the_latest_value_moves_current_back(kpi, editor):
    services.measurements_upsert(user=editor, kpi=kpi, items=[{"period": "2026-11-01", "value": "1"},
                                                              {"period": "2026-11-02", "value": "7"}])
    services.measurement_delete(user=editor, measurement=Measurement.objects.get(period_start=date(2026, 11, 2)))
    kpi.refresh_from_db()
    assert (kpi.current_value, kpi.current_at) == (Decimal(1), date(2026, 11, 1))


CSV = b"period,value\n2026-11-01,10\n2026-11-02,abc\nnot-a-date,3\n2026-11-03,\n2026-11-04,12.5\n"


def test_csv_bad_rows_are_reported_per_row_and_nothing_is_written_before_confirming(
        client_as, editor, workspace, product, kpi, django_capture_on_commit_callbacks):
    c = client_as(editor)
    url = reverse("metrics_upload_create", kwargs={"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id})
    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the file on commit
        response = c.post(url, {"file": SimpleUploadedFile("values.csv", CSV, content_type="text/csv")})
    assert response.status_code == 302
    upload = MeasurementUpload.objects.get()
    assert [(e["line"], e["reason"]) for e in upload.errors] == [
        (3, "value 'abc' is not a number"),
        (4, "date 'not-a-date' is not an ISO date (YYYY-MM-DD) or timestamp"),
        (5, "value is empty"),
    ]
    assert [r["period"] for r in upload.rows] == ["2026-11-01", "2026-11-04"]
    assert not Measurement.objects.exists()

    preview = c.get(response.url)
    assert preview.status_code == 200
    assert b"value &#x27;abc&#x27; is not a number" in preview.content
    assert not Measurement.objects.exists()

    confirm = c.post(response.url)
    assert confirm.status_code == 302
    assert dict(Measurement.objects.values_list("period_start", "value")) == {
        date(2026, 11, 1): Decimal(10), date(2026, 11, 4): Decimal("12.5")}
    # A second confirmation writes nothing more.
    c.post(response.url)
    assert Measurement.objects.count() == 2


def test_csv_without_header_is_one_error(kpi, editor):
    upload = staged_upload(user=editor, kpi=kpi, content=b"2026-11-01,1\n")
    assert upload.rows == [] and upload.errors[0]["line"] == 1


def test_another_user_cannot_confirm_my_upload(client_as, editor, admin, workspace, product, kpi):
    upload = staged_upload(user=editor, kpi=kpi, content=CSV)
    url = reverse("metrics_upload", kwargs={"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id,
                                            "upload_id": upload.id})
    assert client_as(admin).post(url).status_code == 404
    assert not Measurement.objects.exists()


def test_entering_a_value_in_the_browser(client_as, editor, workspace, product, kpi):
    url = reverse("metrics_measurement_add", kwargs={"ws": workspace.slug, "product_id": product.id,
                                                     "kpi_id": kpi.id})
    assert client_as(editor).post(url, {"period": "2026-11-20", "value": "42"}).status_code == 302
    assert Measurement.objects.get().value == 42
    response = client_as(editor).post(url, {"period": "", "value": "x"})
    assert response.status_code == 400
    assert Measurement.objects.count() == 1
