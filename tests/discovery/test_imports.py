"""CSV imports of companies and insights: stored by the request, read into a preview by the
worker (docs/decisions/1213), written by the worker after confirmation; idempotent."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from discovery import services
from discovery.models import Company, CsvImport, Insight

from .factories import CompanyFactory

pytestmark = pytest.mark.django_db

COMPANIES_CSV = (
    b"Name,Domain,Segment,Revenue,Currency,Plan,External ID\n"
    b"Globex,globex.com,Enterprise,\"1,200,000\",eur,Enterprise,crm-1\n"
    b"Initech,initech.com,,48000,EUR,Team,crm-2\n"
    b",nameless.com,,,,,crm-3\n"
    b"Hooli,hooli.com,Nowhere,10,EUR,,crm-4\n"
    b"Bad,not a domain,,,,,crm-5\n"
)


def _staged(user, product, kind, data, capture):
    with capture(execute=True):
        job = services.csv_import_upload(user=user, product=product, kind=kind, filename="f.csv", data=data)
    job.refresh_from_db()
    return job


def test_companies_csv_is_read_into_a_preview_and_imported_on_confirm(editor, product, segment,
                                                                     django_capture_on_commit_callbacks):
    existing = CompanyFactory(product=product, external_id="crm-2", name="Old Initech", domain="")
    job = _staged(editor, product, "companies", COMPANIES_CSV, django_capture_on_commit_callbacks)
    assert job.status == "ready" and job.raw is None
    assert [r["name"] for r in job.rows] == ["Globex", "Initech"]
    assert set(job.errors) == {"4", "5", "6"}  # no name, unknown segment, bad domain
    assert Company.objects.count() == 1  # nothing written before confirmation
    with django_capture_on_commit_callbacks(execute=True):
        services.csv_import_confirm(user=editor, csv_import=job)
    job.refresh_from_db()
    assert job.status == "done" and job.result == {"created": 1, "updated": 1}
    globex = Company.objects.get(external_id="crm-1")
    assert (globex.revenue, globex.currency, globex.segment_id) == (Decimal("1200000.00"), "EUR", segment.id)
    existing.refresh_from_db()
    assert (existing.name, existing.domain) == ("Initech", "initech.com")
    assert services.csv_import_apply(import_id=job.id) == "skipped"  # a retry does nothing twice


def test_insights_csv_files_rows_once_per_id(editor, product, django_capture_on_commit_callbacks):
    data = b"id,text,email,name\nr1,SSO please,ana@globex.com,Ana\nr2,,x@y.com,\nr3,Dark mode,,\n"
    for _ in range(2):
        job = _staged(editor, product, "insights", data, django_capture_on_commit_callbacks)
        assert len(job.rows) == 2 and set(job.errors) == {"3"}
        with django_capture_on_commit_callbacks(execute=True):
            services.csv_import_confirm(user=editor, csv_import=job)
    assert Insight.objects.filter(channel="csv").count() == 2
    assert Insight.objects.get(key="r1").person.email == "ana@globex.com"


def test_binary_file_fails_with_the_reason(editor, product, django_capture_on_commit_callbacks):
    job = _staged(editor, product, "companies", b"PK\x03\x04binary", django_capture_on_commit_callbacks)
    assert job.status == "failed" and "Excel" in job.error


def test_missing_required_column_is_one_error(editor, product, django_capture_on_commit_callbacks):
    job = _staged(editor, product, "insights", b"title,email\nHi,a@b.co\n", django_capture_on_commit_callbacks)
    assert job.status == "ready" and not job.rows and "text" in job.errors["1"]["file"][0]


def test_confirm_twice_is_refused(editor, product, django_capture_on_commit_callbacks):
    job = _staged(editor, product, "insights", b"text\nHello\n", django_capture_on_commit_callbacks)
    services.csv_import_confirm(user=editor, csv_import=job)
    with pytest.raises(Exception):
        services.csv_import_confirm(user=editor, csv_import=job)


def test_viewer_cannot_upload(viewer, product):
    with pytest.raises(Exception):
        services.csv_import_upload(user=viewer, product=product, kind="companies", filename="f.csv", data=b"name\nA\n")
    assert not CsvImport.objects.exists()


def test_upload_page_to_preview_to_import(client_as, editor, workspace, product, django_capture_on_commit_callbacks):
    client = client_as(editor)
    kw = {"ws": workspace.slug, "product_id": product.id}
    upload = SimpleUploadedFile("companies.csv", b"name,domain,revenue\nAcme,acme.com,5000\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("discovery:imports", kwargs=kw), {"kind": "companies", "file": upload})
    assert response.status_code == 302
    preview = client.get(response.url).content.decode()
    assert "Acme" in preview and "Import 1 row" in preview
    job = CsvImport.objects.get()
    reading = client.get(reverse("discovery:import_reading", kwargs=kw | {"import_id": job.id}))
    assert reading["HX-Refresh"] == "true"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(response.url).status_code == 302
    assert "1 company added" in client.get(response.url).content.decode()
    assert Company.objects.get().revenue == Decimal("5000.00")


def test_upload_form_keeps_the_kind_and_names_the_empty_file(client_as, editor, workspace, product):
    kw = {"ws": workspace.slug, "product_id": product.id}
    upload = SimpleUploadedFile("empty.csv", b"", "text/csv")
    response = client_as(editor).post(reverse("discovery:imports", kwargs=kw), {"kind": "insights", "file": upload})
    assert response.status_code == 400 and not CsvImport.objects.exists()
