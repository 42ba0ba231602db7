"""Files an import cannot read are refused with a message that says why (pmhub.textfiles), never
a 500: UTF-16 is decoded through its byte-order mark, while UTF-16 without one, NUL bytes,
binary files and fields over 128 KB are refused; nothing is staged. Delivery's import reads the
file in the worker, so a refused file is a `failed` job carrying the message (the upload itself is
accepted with 202). Both importers: delivery's
Jira CSV (API and service) and metrics' measurement CSV (page)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from delivery.models import ImportJob
from metrics.models import MeasurementUpload
from pmhub.textfiles import FileRefused, decode_text
from tests.delivery.factories import staged_import
from tests.metrics.factories import KpiFactory

pytestmark = pytest.mark.django_db

JIRA = "Summary,Issue key,Status\nCafé signup,PM-1,To Do\n"
REFUSED = [
    ("utf-16 without a mark", JIRA.encode("utf-16-le"), "UTF-16 without a byte-order mark"),
    ("NUL bytes", b"Summary,Status\nA\x00B,To Do\n", "NUL bytes"),
    ("binary", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG image"),
    ("xlsx", b"PK\x03\x04" + bytes(range(256)), "Excel workbook"),
    ("oversize field", b"Summary,Status\n\"" + b"x" * 200_000 + b"\",To Do\n", "longer than 128 KB"),
    ("utf-16 with NUL text", "\ufeffSummary\nA\x00B\n".encode("utf-16"), "NUL characters"),
]


@pytest.mark.parametrize("name,data,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_unreadable_import_fails_with_its_reason_and_nothing_is_staged(api, editor, product, name, data,
                                                                           message, django_capture_on_commit_callbacks):
    api.force_authenticate(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/imports/", {
            "product": product.id, "file": SimpleUploadedFile("export.csv", data, content_type="text/csv")},
            format="multipart")
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert job.status == "failed" and message in job.error
    assert (job.headers, job.rows, bytes(job.raw)) == ([], [], b"")
    status = api.get(f"/api/v1/imports/{job.id}/").json()
    assert status["status"] == "failed" and message in status["error"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_import_with_a_byte_order_mark_is_decoded(editor, product, encoding):
    data = ("\ufeff" + JIRA).encode(encoding.replace("-sig", "")) if encoding != "utf-8-sig" else JIRA.encode(encoding)
    job = staged_import(actor=editor, product=product, filename="export.csv", data=data)
    assert job.headers == ["Summary", "Issue key", "Status"]
    assert job.rows == [["Café signup", "PM-1", "To Do"]]


def test_decode_text_names_the_fallback_it_used():
    assert decode_text("Café".encode("cp1252")) == ("Café", "cp1252")
    assert decode_text("Café".encode()) == ("Café", "utf-8")
    with pytest.raises(FileRefused):
        decode_text(b"\xff\xfeA\x00\x00\xd8", fallbacks=())  # a UTF-16 mark, then a lone surrogate


@pytest.mark.parametrize("name,data,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_unreadable_measurement_csv_is_reported_not_a_500(client_as, editor, product, name, data, message,
                                                          django_capture_on_commit_callbacks):
    kpi = KpiFactory(product=product)
    url = reverse("metrics_upload_create", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                   "kpi_id": kpi.id})
    with django_capture_on_commit_callbacks(execute=True):  # the worker reads the file on commit
        response = client_as(editor).post(url, {"file": SimpleUploadedFile("values.csv", data,
                                                                           content_type="text/csv")})
    assert response.status_code == 302
    upload = MeasurementUpload.objects.get()
    assert upload.rows == [] and message in upload.errors[0]["reason"]


def test_measurement_csv_in_utf16_with_its_mark_is_read(client_as, editor, product,
                                                        django_capture_on_commit_callbacks):
    kpi = KpiFactory(product=product)
    url = reverse("metrics_upload_create", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                   "kpi_id": kpi.id})
    data = "\ufeffperiod,value\n2026-11-01,10\n".encode("utf-16")
    with django_capture_on_commit_callbacks(execute=True):
        client_as(editor).post(url, {"file": SimpleUploadedFile("values.csv", data, content_type="text/csv")})
    upload = MeasurementUpload.objects.get()
    assert upload.errors == [] and [r["value"] for r in upload.rows] == ["10"]
