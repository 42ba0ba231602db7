"""The portal's settings and its release notes over the API (issue 16 item 8: an API for all of
it): members read, admins open or change the portal (with `version`), editors publish and remove
release notes, which then show on the portal and in its Atom feed."""

import pytest
from django.urls import reverse

from discovery.models import Portal, ReleaseNote
from roadmaps.models import Release

pytestmark = pytest.mark.django_db


def test_portal_api_sets_up_reads_and_changes_with_a_version(api_as, admin, editor, viewer, outsider, product):
    url = f"/api/v1/discovery-portals/{product.id}/"
    assert api_as(viewer).get(url).status_code == 404  # no portal yet
    assert api_as(editor).put(url, {"slug": "acme", "name": "Acme ideas"}, format="json").status_code == 403
    created = api_as(admin).put(url, {"slug": "acme", "name": "Acme ideas"}, format="json")
    assert created.status_code == 200, created.content
    assert (created.json()["enabled"], created.json()["url"].endswith("/portal/acme/")) == (False, True)
    read = api_as(viewer).get(url)
    assert read.status_code == 200 and read.json()["name"] == "Acme ideas" and read.json()["has_logo"] is False
    version = read.json()["version"]
    opened = api_as(admin).patch(url, {"enabled": True, "colour": "#aa3300", "version": version}, format="json")
    assert opened.status_code == 200 and opened.json()["enabled"] is True
    stale = api_as(admin).patch(url, {"name": "Old", "version": version}, format="json")
    assert stale.status_code == 409
    bad = api_as(admin).patch(url, {"colour": "red", "version": opened.json()["version"]}, format="json")
    assert bad.status_code == 400 and "colour" in bad.json()["errors"]
    assert api_as(outsider).get(url).status_code == 404
    assert api_as(outsider).patch(url, {"name": "Pwned", "version": 9}, format="json").status_code == 404
    assert Portal.objects.get(product=product).name == "Acme ideas"


def test_release_notes_api_publishes_lists_and_removes(api_as, client, admin, editor, viewer, outsider, product):
    body = {"product": product.id, "title": "2.0 is out", "body": "Single sign-on for everyone"}
    refused = api_as(editor).post("/api/v1/release-notes/", body, format="json")
    assert refused.status_code == 400 and "product" in refused.json()["errors"]  # no portal yet
    Portal.objects.create(product=product, slug="acme", name="Acme ideas", enabled=True)
    release = Release.objects.create(product=product, name="2.0")
    assert api_as(viewer).post("/api/v1/release-notes/", body, format="json").status_code == 403
    created = api_as(editor).post("/api/v1/release-notes/", body | {"release": release.id}, format="json")
    assert created.status_code == 201 and created.json()["release"] == release.id
    note_id = created.json()["id"]
    listed = api_as(viewer).get("/api/v1/release-notes/", {"product": product.id}).json()["results"]
    assert [n["id"] for n in listed] == [note_id]
    assert api_as(outsider).get("/api/v1/release-notes/").json()["results"] == []
    assert "2.0 is out" in client.get(reverse("portal:feed", kwargs={"slug": "acme"})).content.decode()
    assert api_as(viewer).delete(f"/api/v1/release-notes/{note_id}/").status_code == 403
    assert api_as(outsider).delete(f"/api/v1/release-notes/{note_id}/").status_code == 404
    assert api_as(editor).delete(f"/api/v1/release-notes/{note_id}/").status_code == 204
    assert not ReleaseNote.objects.exists()
    assert "2.0 is out" not in client.get(reverse("portal:feed", kwargs={"slug": "acme"})).content.decode()
