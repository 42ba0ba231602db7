"""Discovery API: CRM upsert, people, bulk intake with idempotency keys, highlights, tenancy,
roles, versions and query counts of the lists."""

from decimal import Decimal

import pytest

from backlog.models import Story
from discovery.models import Company, Highlight, Insight

from .factories import CompanyFactory, InsightFactory

pytestmark = pytest.mark.django_db


def test_upsert_creates_then_updates(api_as, editor, product):
    api = api_as(editor)
    body = {"product": product.id, "external_id": "crm-1", "name": "Globex", "domain": "globex.com",
            "revenue": "120000.00", "currency": "EUR"}
    first = api.post("/api/v1/companies/upsert/", body, format="json")
    assert first.status_code == 201 and first.json()["created"] is True
    second = api.post("/api/v1/companies/upsert/", body | {"revenue": "150000.00"}, format="json")
    assert second.status_code == 200 and second.json()["created"] is False
    assert Company.objects.get().revenue == Decimal("150000.00")


def test_company_crud_and_versions(api_as, editor, product, segment):
    api = api_as(editor)
    created = api.post("/api/v1/companies/", {"product": product.id, "name": "Initech", "segment": segment.id},
                       format="json")
    assert created.status_code == 201, created.json()
    cid = created.json()["id"]
    assert api.patch(f"/api/v1/companies/{cid}/", {"name": "Renamed"}, format="json").status_code == 409
    ok = api.patch(f"/api/v1/companies/{cid}/", {"name": "Renamed", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["name"] == "Renamed"
    assert api.delete(f"/api/v1/companies/{cid}/").status_code == 204


def test_company_segment_of_another_product_is_400_and_nothing_changes(api_as, editor, product, other_product):
    from roadmaps.models import Segment

    foreign = Segment.objects.create(product=other_product, name="Theirs")
    response = api_as(editor).post("/api/v1/companies/", {"product": product.id, "name": "X", "segment": foreign.id},
                                   format="json")
    assert response.status_code == 400 and "segment" in response.json()["errors"]
    assert not Company.objects.exists()


def test_viewer_cannot_write_companies(api_as, viewer, product):
    response = api_as(viewer).post("/api/v1/companies/", {"product": product.id, "name": "X"}, format="json")
    assert response.status_code == 403
    assert not Company.objects.exists()


def test_outsider_sees_nothing(api_as, outsider, product):
    company = CompanyFactory(product=product)
    insight = InsightFactory(product=product)
    api = api_as(outsider)
    assert api.get(f"/api/v1/companies/{company.id}/").status_code == 404
    assert api.get(f"/api/v1/insights/{insight.id}/").status_code == 404
    assert api.get("/api/v1/companies/").json()["results"] == []
    assert api.get("/api/v1/insights/").json()["results"] == []
    response = api.post("/api/v1/insights/bulk/", {"product": product.id, "items": [{"text": "x"}]}, format="json")
    assert response.status_code == 404
    assert Insight.objects.count() == 1


def test_bulk_intake_returns_202_and_stores_once(api_as, editor, product):
    api = api_as(editor)
    body = {"product": product.id, "items": [{"id": "a", "text": "SSO", "email": "ana@globex.com"},
                                             {"id": "b", "text": "Dark mode"}]}
    first = api.post("/api/v1/insights/bulk/", body, format="json")
    assert first.status_code == 202 and first.json() == {"accepted": 2, "created": 2, "duplicates": 0}
    second = api.post("/api/v1/insights/bulk/", body, format="json")
    assert second.json() == {"accepted": 2, "created": 0, "duplicates": 2}
    assert Insight.objects.filter(channel="api").count() == 2


def test_bulk_intake_errors_per_item_and_nothing_stored(api_as, editor, product):
    response = api_as(editor).post("/api/v1/insights/bulk/", {"product": product.id, "items": [
        {"text": "ok"}, {"text": "x" * 20_001}]}, format="json")
    assert response.status_code == 400
    assert "text" in response.json()["errors"]["items"]["1"]
    assert not Insight.objects.exists()


def test_bulk_intake_too_large_is_413(api_as, editor, product, settings):
    settings.API_MAX_BATCH_SIZE = 1
    response = api_as(editor).post("/api/v1/insights/bulk/", {"product": product.id, "items": [{"text": "a"}] * 2},
                                   format="json")
    assert response.status_code == 413 and not Insight.objects.exists()


def test_insight_triage_and_highlight(api_as, editor, product):
    api = api_as(editor)
    story = Story.objects.create(product=product, title="SSO")
    created = api.post("/api/v1/insights/", {"product": product.id, "text": "We need SSO now",
                                             "author_email": "ana@globex.com"}, format="json")
    assert created.status_code == 201, created.json()
    iid = created.json()["id"]
    patched = api.patch(f"/api/v1/insights/{iid}/", {"state": "archived", "version": 1, "owner": editor.id},
                        format="json")
    assert patched.status_code == 200 and patched.json()["state"] == "archived"
    highlight = api.post(f"/api/v1/insights/{iid}/highlights/", {"passage": "SSO", "importance": 5,
                                                                "story": story.id}, format="json")
    assert highlight.status_code == 201, highlight.json()
    assert api.get(f"/api/v1/highlights/?insight={iid}").json()["results"][0]["importance"] == 5
    assert api.delete(f"/api/v1/highlights/{highlight.json()['id']}/").status_code == 204
    assert not Highlight.objects.exists()


def test_highlight_of_a_foreign_story_is_400(api_as, editor, product, other_product):
    foreign = Story.objects.create(product=other_product, title="Theirs")
    insight = InsightFactory(product=product)
    response = api_as(editor).post(f"/api/v1/insights/{insight.id}/highlights/",
                                   {"passage": "p", "story": foreign.id}, format="json")
    assert response.status_code == 400 and not Highlight.objects.exists()


def test_people_api_resolves_company_by_domain(api_as, editor, product):
    company = CompanyFactory(product=product, domain="hooli.com")
    response = api_as(editor).post("/api/v1/people/", {"product": product.id, "email": "g@hooli.com"}, format="json")
    assert response.status_code == 201 and response.json()["company"] == company.id


def test_unknown_ordering_is_400(api_as, viewer, product):
    assert api_as(viewer).get("/api/v1/companies/?ordering=bogus").status_code == 400
    assert api_as(viewer).get("/api/v1/companies/?ordering=-revenue").status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_insight_list_queries_do_not_grow(api_as, viewer, product, n, django_assert_max_num_queries):
    company = CompanyFactory(product=product)
    for _ in range(n):
        InsightFactory(product=product, company=company)
    api = api_as(viewer)
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/v1/insights/?product={product.id}")
    assert len(response.json()["results"]) == n
    with django_assert_max_num_queries(8):
        assert api.get(f"/api/v1/companies/?product={product.id}").status_code == 200


def test_schema_lists_discovery_endpoints(api_as, viewer):
    paths = api_as(viewer).get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in ("/api/v1/companies/upsert/", "/api/v1/insights/bulk/", "/api/v1/insights/{id}/highlights/",
                 "/api/v1/people/", "/api/v1/highlights/"):
        assert path in paths


def test_ideas_api_create_curate_merge_delete(api_as, editor, product):
    from backlog.models import Epic

    api = api_as(editor)
    epic = Epic.objects.create(product=product, title="SSO")
    a = api.post("/api/v1/ideas/", {"product": product.id, "title": "SSO", "epics": [epic.id], "published": True},
                 format="json")
    assert a.status_code == 201, a.json()
    b = api.post("/api/v1/ideas/", {"product": product.id, "title": "Single sign-on"}, format="json").json()
    patched = api.patch(f"/api/v1/ideas/{b['id']}/", {"status": "planned", "version": 1}, format="json")
    assert patched.status_code == 200 and patched.json()["status"] == "planned"
    merged = api.post(f"/api/v1/ideas/{b['id']}/merge/", {"into": a.json()["id"]}, format="json")
    assert merged.status_code == 200 and merged.json()["id"] == a.json()["id"]
    listed = api.get(f"/api/v1/ideas/?product={product.id}&ordering=-demand").json()["results"]
    assert {i["title"] for i in listed} == {"SSO", "Single sign-on"}
    assert api.delete(f"/api/v1/ideas/{b['id']}/").status_code == 204


def test_idea_links_of_another_product_are_400(api_as, editor, product, other_product):
    from backlog.models import Epic

    foreign = Epic.objects.create(product=other_product, title="Theirs")
    response = api_as(editor).post("/api/v1/ideas/", {"product": product.id, "title": "X", "epics": [foreign.id]},
                                   format="json")
    assert response.status_code == 400 and str(foreign.id) in str(response.json()["errors"])
