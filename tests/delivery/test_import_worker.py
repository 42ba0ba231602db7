"""The upload request only stores the file; the worker (delivery.tasks.import_parse) decodes and
parses it (docs/decisions/1213). Captured on-commit callbacks stand for the queue: not executed,
the job is exactly what the request left; executed, it is what the worker makes of it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from delivery import services, tasks
from delivery.models import ImportJob
from pmhub.models import Activity

from .factories import staged_import

pytestmark = pytest.mark.django_db

JIRA = b"Summary,Issue key,Status,Story Points\nCafe signup,PM-1,To Do,3\nExport,PM-2,Done,5\n"


def _post(client, product, data=JIRA, name="export.csv"):
    return client.post("/api/v1/imports/", {"product": product.id,
                                            "file": SimpleUploadedFile(name, data, content_type="text/csv")},
                       format="multipart")


def test_upload_stores_the_file_and_queues_the_parse_without_parsing(api_as, editor, product,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(api_as(editor), product)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "parsing" and body["headers"] == [] and body["status_url"].endswith(
        f"/api/v1/imports/{body['id']}/")
    job = ImportJob.objects.get()
    assert (job.status, bytes(job.raw), job.rows, job.encoding) == ("parsing", JIRA, [], "")
    assert len(callbacks) == 1  # import_parse, sent on commit

    callbacks[0]()  # the worker's turn (eager)
    job.refresh_from_db()
    assert (job.status, job.encoding, bytes(job.raw)) == ("uploaded", "utf-8", b"")
    assert job.headers == ["Summary", "Issue key", "Status", "Story Points"]
    assert job.rows == [["Cafe signup", "PM-1", "To Do", "3"], ["Export", "PM-2", "Done", "5"]]
    assert job.mapping["title"] == [0] and job.mapping["points"] == [3]
    preview = services.import_preview(actor=editor, job=job)
    assert preview["valid_rows"] == 2 and preview["errors"] == []
    assert Activity.objects.filter(verb="uploaded import").exists()


def test_a_job_still_being_read_cannot_be_previewed_or_confirmed(api_as, editor, product,
                                                                 django_capture_on_commit_callbacks):
    client = api_as(editor)
    with django_capture_on_commit_callbacks(execute=False):
        job_id = _post(client, product).json()["id"]
    for action in ("preview", "confirm"):
        response = client.post(f"/api/v1/imports/{job_id}/{action}/", {}, format="json")
        assert response.status_code == 400 and "still being read" in str(response.json()), action
    assert ImportJob.objects.get().status == "parsing"


def test_a_file_without_data_rows_fails_with_its_reason(api_as, editor, product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(api_as(editor), product, data=b"Summary,Status\n")
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.error == "No header row and data rows were found in this CSV."
    response = api_as(editor).post(f"/api/v1/imports/{job.id}/preview/", {}, format="json")
    assert response.status_code == 400 and "could not be read" in str(response.json())


def test_empty_and_oversize_uploads_are_refused_in_the_request_and_store_nothing(api_as, editor, product,
                                                                                 monkeypatch):
    monkeypatch.setattr(services, "MAX_IMPORT_BYTES", 100)
    client = api_as(editor)
    empty = _post(client, product, data=b"")
    assert empty.status_code == 400 and "file" in empty.json()["errors"]
    big = _post(client, product, data=b"Summary\n" + b"x" * 200)
    assert big.status_code == 400 and "larger than 20 MB" in str(big.json()["errors"]["file"])
    assert not ImportJob.objects.exists()
    assert _post(client, product, data=b"Summary\nOne\n").status_code == 202  # the same, small enough


def test_a_second_run_of_the_parse_does_nothing(editor, product):
    job = staged_import(actor=editor, product=product, filename="a.csv", data=JIRA)
    services.import_preview(actor=editor, job=job)  # someone moved on: previewed, mapping edited
    job.refresh_from_db()
    before = (job.status, job.headers, job.rows, job.mapping, job.preview)
    assert tasks.import_parse.apply(args=[job.id]).get() == "skipped"  # a redelivered message
    job.refresh_from_db()
    assert (job.status, job.headers, job.rows, job.mapping, job.preview) == before
    assert services.import_parse(import_job_id=job.id + 1000) == "skipped"  # deleted meanwhile


def test_a_crashed_parse_fails_the_job_instead_of_polling_forever(editor, product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.import_upload(actor=editor, product=product, filename="a.csv", data=JIRA)
    services.import_parse_give_up(import_job_id=job.id)
    job.refresh_from_db()
    assert job.status == "failed" and "Upload it again" in job.error and bytes(job.raw) == b""


def test_page_shows_reading_your_file_and_polls_until_it_is_read(client_as, editor, product, workspace,
                                                                 django_capture_on_commit_callbacks):
    client = client_as(editor)
    base = f"/w/{workspace.slug}/products/{product.id}/import/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(base, {"file": SimpleUploadedFile("export.csv", JIRA, content_type="text/csv")})
    job = ImportJob.objects.get()
    detail = f"{base}{job.id}/"
    assert response.status_code == 302 and response["Location"] == detail
    page = client.get(detail).content.decode()
    assert "Reading your file…" in page and f'hx-get="{detail}reading/"' in page and 'hx-trigger="every 1s"' in page
    assert "Map columns" not in page and "None" not in page
    poll = client.get(f"{detail}reading/", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and "HX-Refresh" not in poll and "every 1s" in poll.content.decode()

    callbacks[0]()
    poll = client.get(f"{detail}reading/", HTTP_HX_REQUEST="true")
    assert poll["HX-Refresh"] == "true" and "every 1s" not in poll.content.decode()
    page = client.get(detail).content.decode()
    assert "Map columns" in page and "Story Points (column 4)" in page and "Reading your file" not in page


def test_page_shows_why_a_file_was_refused(client_as, editor, product, workspace, django_capture_on_commit_callbacks):
    client = client_as(editor)
    base = f"/w/{workspace.slug}/products/{product.id}/import/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(base, {"file": SimpleUploadedFile("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))})
    job = ImportJob.objects.get()
    page = client.get(f"{base}{job.id}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "This file could not be read: This is a PNG image, not a CSV file." in body
    assert "Upload another file" in body and "Map columns" not in body


def test_another_workspaces_import_is_not_found(api_as, client_as, outsider, editor, product, workspace,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.import_upload(actor=editor, product=product, filename="a.csv", data=JIRA)
    assert api_as(outsider).get(f"/api/v1/imports/{job.id}/").status_code == 404
    reading = f"/w/{workspace.slug}/products/{product.id}/import/{job.id}/reading/"
    assert client_as(outsider).get(reading).status_code == 404
    assert client_as(editor).get(reading).status_code == 200  # its own workspace's editor sees it


def test_viewer_cannot_upload(api_as, client_as, viewer, editor, product, workspace,
                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _post(api_as(viewer), product).status_code == 403
        page = client_as(viewer).post(f"/w/{workspace.slug}/products/{product.id}/import/",
                                      {"file": SimpleUploadedFile("a.csv", JIRA)})
        assert page.status_code == 403
    assert not ImportJob.objects.exists() and callbacks == []
    with django_capture_on_commit_callbacks(execute=False):
        assert _post(api_as(editor), product).status_code == 202  # the same upload from an editor
    assert ImportJob.objects.count() == 1
