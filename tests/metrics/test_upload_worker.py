"""The measurements CSV upload only stores the file; the worker (metrics.tasks.measurement_upload_parse)
parses it (docs/decisions/1213). Captured on-commit callbacks stand for the queue."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics import services, tasks
from metrics.models import Measurement, MeasurementUpload

from .factories import staged_upload

pytestmark = pytest.mark.django_db

CSV = b"period,value\n2026-11-01,10\n2026-11-02,abc\n"


def _urls(workspace, product, kpi, upload_id=None):
    kw = {"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id}
    if upload_id is None:
        return reverse("metrics_upload_create", kwargs=kw)
    return (reverse("metrics_upload", kwargs=kw | {"upload_id": upload_id}),
            reverse("metrics_upload_reading", kwargs=kw | {"upload_id": upload_id}))


def test_upload_stores_the_file_and_the_worker_parses_it(client_as, editor, workspace, product, kpi,
                                                         django_capture_on_commit_callbacks):
    client = client_as(editor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_urls(workspace, product, kpi), {"file": SimpleUploadedFile("v.csv", CSV)})
    upload = MeasurementUpload.objects.get()
    assert (upload.status, bytes(upload.raw), upload.rows, upload.errors) == ("parsing", CSV, [], [])
    assert len(callbacks) == 1
    preview, reading = _urls(workspace, product, kpi, upload.id)
    assert response.status_code == 302 and response["Location"] == preview
    page = client.get(preview).content.decode()
    assert "Reading your file…" in page and f'hx-get="{reading}"' in page and 'hx-trigger="every 1s"' in page
    assert "Write " not in page and "None" not in page
    assert "HX-Refresh" not in client.get(reading, HTTP_HX_REQUEST="true")
    assert client.post(preview).status_code == 302 and not Measurement.objects.exists()  # not yet: still reading

    callbacks[0]()  # the worker's turn
    upload.refresh_from_db()
    assert (upload.status, bytes(upload.raw)) == ("ready", b"")
    assert [r["period"] for r in upload.rows] == ["2026-11-01"] and upload.errors[0]["line"] == 3
    assert client.get(reading, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"
    page = client.get(preview).content.decode()
    assert "Write 1 values" in page and "Reading your file" not in page
    client.post(preview)
    assert dict(Measurement.objects.values_list("period_start", "value")) == {date(2026, 11, 1): Decimal(10)}


def test_a_second_run_of_the_parse_does_nothing(editor, kpi):
    upload = staged_upload(user=editor, kpi=kpi, content=CSV)
    before = (upload.status, upload.rows, upload.errors)
    assert tasks.measurement_upload_parse.apply(args=[upload.id]).get() == "skipped"
    upload.refresh_from_db()
    assert (upload.status, upload.rows, upload.errors) == before
    assert services.upload_parse(upload_id=upload.id + 1000) == "skipped"


def test_a_crashed_parse_ends_with_a_reason_not_polling_forever(editor, kpi, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        upload = services.upload_stage(user=editor, kpi=kpi, content=CSV)
    services.upload_parse_give_up(upload_id=upload.id)
    upload.refresh_from_db()
    assert upload.status == "ready" and upload.rows == [] and "Upload it again" in upload.errors[0]["reason"]


def test_another_member_cannot_poll_my_upload_and_a_viewer_cannot_upload(client_as, editor, admin, viewer, outsider,
                                                                         workspace, product, kpi,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        upload = services.upload_stage(user=editor, kpi=kpi, content=CSV)
    _, reading = _urls(workspace, product, kpi, upload.id)
    assert client_as(outsider).get(reading).status_code == 404
    assert client_as(admin).get(reading).status_code == 404  # staged uploads belong to their author
    assert client_as(editor).get(reading).status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        refused = client_as(viewer).post(_urls(workspace, product, kpi), {"file": SimpleUploadedFile("v.csv", CSV)})
    assert refused.status_code == 403 and callbacks == [] and MeasurementUpload.objects.count() == 1
