"""Discovery API: CSV imports (upload -> 202, status, confirm -> 202) and intake settings (admins)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from discovery import services
from discovery.models import Company, CsvImport, Intake

pytestmark = pytest.mark.django_db

CSV = b"Name,Domain,External ID\nGlobex,globex.com,crm-1\n,nameless.com,crm-2\nInitech,initech.com,crm-3\n"


def _upload(client, product, data=CSV, kind="companies"):
    return client.post("/api/v1/discovery-imports/",
                       {"product": product.id, "kind": kind, "file": SimpleUploadedFile("c.csv", data, "text/csv")},
                       format="multipart")


def test_upload_status_and_confirm_import_the_valid_rows(api_as, editor, product, django_capture_on_commit_callbacks):
    client = api_as(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, product)
    assert response.status_code == 202 and response.json()["status"] == "parsing"
    job_id = response.json()["id"]
    body = client.get(f"/api/v1/discovery-imports/{job_id}/").json()
    assert body["status"] == "ready" and body["row_count"] == 2 and set(body["errors"]) == {"3"}
    assert [r["name"] for r in body["rows"]] == ["Globex", "Initech"]
    assert client.get(f"/api/v1/discovery-imports/?product={product.id}").json()["results"][0]["id"] == job_id
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/discovery-imports/{job_id}/confirm/")
    assert response.status_code == 202 and response.json()["status"] == "applying"
    assert sorted(Company.objects.filter(product=product).values_list("name", flat=True)) == ["Globex", "Initech"]
    assert client.get(f"/api/v1/discovery-imports/{job_id}/").json()["status"] == "done"
    again = client.post(f"/api/v1/discovery-imports/{job_id}/confirm/")
    assert again.status_code == 400 and Company.objects.filter(product=product).count() == 2


def test_bad_uploads_are_400_with_field_errors_and_store_nothing(api_as, editor, product):
    client = api_as(editor)
    assert "kind" in _upload(client, product, kind="votes").json()["errors"]
    assert "file" in _upload(client, product, data=b"").json()["errors"]
    assert not CsvImport.objects.exists()


def test_imports_viewers_403_outsiders_404(api_as, viewer, outsider, editor, product, other_product):
    assert _upload(api_as(viewer), product).status_code == 403
    assert _upload(api_as(outsider), product).status_code in (400, 404)
    job = services.csv_import_upload(user=editor, product=product, kind="companies", filename="c.csv", data=CSV)
    assert api_as(outsider).get(f"/api/v1/discovery-imports/{job.id}/").status_code == 404
    assert api_as(outsider).post(f"/api/v1/discovery-imports/{job.id}/confirm/").status_code == 404
    assert api_as(viewer).get(f"/api/v1/discovery-imports/{job.id}/").status_code == 403
    assert not CsvImport.objects.exclude(pk=job.pk).exists()


def test_intake_settings_read_update_rotate(api_as, admin, product):
    client = api_as(admin)
    url = f"/api/v1/discovery-intake/{product.id}/"
    body = client.get(url).json()
    assert body["form_key"].startswith("pmhf_") and body["form_enabled"] is False and body["form_origins"] == []
    response = client.patch(url, {"form_enabled": True, "form_origins": ["https://App.example.com/"],
                                  "version": body["version"]}, format="json")
    assert response.status_code == 200, response.json()
    intake = Intake.objects.get(product=product)
    assert intake.form_enabled and intake.form_origins == "https://app.example.com"
    assert response.json()["form_origins"] == ["https://app.example.com"]
    stale = client.patch(url, {"form_enabled": False, "version": body["version"]}, format="json")
    assert stale.status_code == 409 and Intake.objects.get(product=product).form_enabled
    bad = client.patch(url, {"form_origins": ["javascript:alert(1)"], "version": intake.version}, format="json")
    assert bad.status_code == 400 and "form_origins" in bad.json()["errors"]
    assert Intake.objects.get(product=product).form_origins == "https://app.example.com"
    rotated = client.post(url + "rotate/").json()
    assert rotated["form_key"] != body["form_key"] and rotated["email_address"] != body["email_address"]


def test_intake_admins_only_outsiders_404(api_as, editor, viewer, outsider, admin, product):
    url = f"/api/v1/discovery-intake/{product.id}/"
    assert api_as(editor).get(url).status_code == 403 and not Intake.objects.exists()
    assert api_as(viewer).patch(url, {"form_enabled": True, "version": 1}, format="json").status_code == 403
    assert api_as(outsider).get(url).status_code == 404
    assert api_as(outsider).post(url + "rotate/").status_code == 404
    assert not Intake.objects.filter(product=product, form_enabled=True).exists()
