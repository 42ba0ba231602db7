"""The register's API: create, filter, order, update with versions, the mediation log, the appetite."""

import pytest
from django.urls import reverse

from governance.models import IssueNote, ProductGovernance, Risk
from tests.roadmaps.factories import InitiativeFactory

from .factories import RiskFactory, appetite

pytestmark = pytest.mark.django_db
LIST = "/api/v1/risks/"


def test_create_returns_score_appetite_and_flag(api_as, editor, product):
    initiative = InitiativeFactory(product=product)
    r = api_as(editor).post(LIST, {"product": product.id, "title": "Vendor sunset", "likelihood": 4, "impact": 4,
                                   "initiatives": [initiative.id]}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["score"], body["appetite"], body["above_appetite"], body["initiatives"]) == (16, 12, True,
                                                                                             [initiative.id])


def test_bad_input_is_a_400_with_field_errors_and_nothing_written(api_as, editor, product):
    r = api_as(editor).post(LIST, {"product": product.id, "title": "", "likelihood": 6, "impact": 0}, format="json")
    assert r.status_code == 400
    assert {"title", "likelihood", "impact"} <= set(r.json()["errors"])
    assert not Risk.objects.exists()


def test_a_foreign_initiative_is_refused_like_a_missing_one(api_as, editor, product, foreign_product):
    foreign = InitiativeFactory(product=foreign_product)
    r = api_as(editor).post(LIST, {"product": product.id, "title": "X", "initiatives": [foreign.id]}, format="json")
    assert r.status_code == 400 and "initiatives" in r.json()["errors"]


def test_list_filters_and_orders(api_as, viewer, product):
    RiskFactory(product=product, likelihood=1, impact=2, title="Low")
    RiskFactory(product=product, likelihood=5, impact=5, title="Top")
    RiskFactory(product=product, kind="issue", likelihood=5, impact=1, title="Issue")
    client = api_as(viewer)
    titles = [x["title"] for x in client.get(LIST, {"product": product.id}).json()["results"]]
    assert titles == ["Top", "Issue", "Low"]
    assert [x["title"] for x in client.get(LIST, {"kind": "issue"}).json()["results"]] == ["Issue"]
    assert [x["title"] for x in client.get(LIST, {"ordering": "score"}).json()["results"]] == ["Low", "Issue", "Top"]
    assert client.get(LIST, {"ordering": "nonsense"}).status_code == 400


def test_update_needs_the_version_read(api_as, editor, product):
    risk = RiskFactory(product=product)
    url = f"{LIST}{risk.id}/"
    client = api_as(editor)
    assert client.patch(url, {"impact": 5}, format="json").status_code == 409
    r = client.patch(url, {"impact": 5, "version": risk.version}, format="json")
    assert r.status_code == 200 and r.json()["score"] == 15 and r.json()["version"] == 2
    assert client.patch(url, {"impact": 1, "version": 1}, format="json").status_code == 409
    assert Risk.objects.get(pk=risk.pk).impact == 5


def test_viewer_may_read_but_not_write(api_as, viewer, product):
    risk = RiskFactory(product=product)
    client = api_as(viewer)
    assert client.get(f"{LIST}{risk.id}/").status_code == 200
    assert client.patch(f"{LIST}{risk.id}/", {"title": "X", "version": 1}, format="json").status_code == 403
    assert client.post(f"{LIST}{risk.id}/notes/", {"text": "x"}, format="json").status_code == 403
    assert Risk.objects.get(pk=risk.pk).title == risk.title


def test_notes_are_appended_to_the_mediation_log(api_as, editor, product):
    issue = RiskFactory(product=product, kind="issue", likelihood=5)
    r = api_as(editor).post(f"{LIST}{issue.id}/notes/", {"text": "Agreed a hotfix."}, format="json")
    assert r.status_code == 201
    assert IssueNote.objects.get(risk=issue).author == editor
    assert api_as(editor).get(f"{LIST}{issue.id}/").json()["notes"][0]["text"] == "Agreed a hotfix."


def test_appetite_is_set_by_an_admin_then_updated_with_its_version(api_as, admin, editor, product):
    url = "/api/v1/risk-appetites/"
    assert api_as(editor).post(url, {"product": product.id, "risk_appetite": 8}, format="json").status_code == 403
    r = api_as(admin).post(url, {"product": product.id, "risk_appetite": 8}, format="json")
    assert r.status_code == 201 and r.json()["risk_appetite"] == 8
    row = ProductGovernance.objects.get(product=product)
    assert api_as(admin).patch(f"{url}{row.id}/", {"risk_appetite": 30, "version": row.version},
                               format="json").status_code == 400
    assert api_as(admin).patch(f"{url}{row.id}/", {"risk_appetite": 10, "version": row.version},
                               format="json").status_code == 200
    assert ProductGovernance.objects.get(product=product).risk_appetite == 10


def test_the_register_list_is_a_fixed_number_of_queries(api_as, viewer, product, django_assert_max_num_queries):
    appetite(product, 10)
    client = api_as(viewer)
    for n in (2, 20):
        for _ in range(n):
            risk = RiskFactory(product=product)
            risk.initiatives.add(InitiativeFactory(product=product))
        with django_assert_max_num_queries(14):
            assert client.get(LIST, {"page_size": 100}).status_code == 200


def test_the_schema_documents_the_register():
    from django.test import Client

    schema = Client().get(reverse("schema"), {"format": "json"}).json()
    assert "/api/v1/risks/" in schema["paths"] and "/api/v1/risks/{id}/notes/" in schema["paths"]
    assert "/api/v1/risk-appetites/" in schema["paths"]
