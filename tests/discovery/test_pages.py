"""Discovery pages: tenancy (404 for outsiders, 403 for viewers' writes), forms, query counts."""

import pytest
from django.urls import reverse

from backlog.models import Story
from discovery.models import Company, Highlight, Insight, Person

from .factories import CompanyFactory, InsightFactory

pytestmark = pytest.mark.django_db


def urls(workspace, product, company, insight):
    kw = {"ws": workspace.slug, "product_id": product.id}
    return {
        "companies": reverse("discovery:companies", kwargs=kw),
        "company": reverse("discovery:company", kwargs=kw | {"company_id": company.id}),
        "inbox": reverse("discovery:inbox", kwargs=kw),
        "insight": reverse("discovery:insight", kwargs=kw | {"insight_id": insight.id}),
    }


@pytest.fixture
def world(workspace, product):
    company = CompanyFactory(product=product, name="Globex")
    insight = InsightFactory(product=product, company=company, text="We need SSO")
    return urls(workspace, product, company, insight), company, insight


@pytest.mark.parametrize("page", ["companies", "company", "inbox", "insight"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_outsider_gets_404_on_every_page(client_as, outsider, world, page, method):
    response = getattr(client_as(outsider), method)(world[0][page], {"name": "pwned", "text": "pwned"})
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["companies", "company", "inbox", "insight"])
def test_viewer_reads_but_writes_are_403_and_change_nothing(client_as, viewer, world, page):
    client = client_as(viewer)
    assert client.get(world[0][page]).status_code == 200
    before = (Company.objects.count(), Insight.objects.count(), list(Company.objects.values_list("name", flat=True)))
    assert client.post(world[0][page], {"name": "Pwned", "text": "Pwned", "state": "archived"}).status_code == 403
    after = (Company.objects.count(), Insight.objects.count(), list(Company.objects.values_list("name", flat=True)))
    assert before == after


def test_add_company_then_person_on_its_page(client_as, editor, world, segment):
    client = client_as(editor)
    response = client.post(world[0]["companies"], {"name": "Hooli", "domain": "hooli.com", "segment": segment.id,
                                                   "revenue": "250000", "currency": "EUR"})
    assert response.status_code == 302
    company = Company.objects.get(name="Hooli")
    page = response.url
    assert client.post(page, {"action": "person", "email": "gavin@hooli.com", "name": "Gavin"}).status_code == 302
    assert Person.objects.get(email="gavin@hooli.com").company_id == company.id
    html = client.get(page).content.decode()
    assert "Gavin" in html and "250,000 EUR" in html


def test_company_form_keeps_what_was_typed_on_error(client_as, editor, world):
    response = client_as(editor).post(world[0]["companies"], {"name": "Typed name", "domain": "not a domain",
                                                              "currency": "EUR"})
    assert response.status_code == 400
    assert 'value="Typed name"' in response.content.decode()


def test_stale_company_edit_is_409(client_as, editor, world):
    url, company = world[0]["company"], world[1]
    response = client_as(editor).post(url, {"name": "New", "currency": "EUR", "version": "0"})
    assert response.status_code == 409
    company.refresh_from_db()
    assert company.name == "Globex"


def test_file_triage_and_highlight_an_insight(client_as, editor, world, product):
    client = client_as(editor)
    story = Story.objects.create(product=product, title="Single sign-on")
    response = client.post(world[0]["inbox"], {"text": "Audit log please", "author_email": "li@initech.com"})
    assert response.status_code == 302
    insight = Insight.objects.get(text="Audit log please")
    assert insight.channel == "manual" and insight.person.email == "li@initech.com"
    assert client.post(response.url, {"action": "highlight", "passage": "Audit log", "importance": "4",
                                      "story": story.id}).status_code == 302
    assert Highlight.objects.get().story_id == story.id
    assert client.post(response.url, {"state": "archived", "text": "Audit log please",
                                      "version": Insight.objects.get(pk=insight.pk).version}).status_code == 302
    insight.refresh_from_db()
    assert insight.state == "archived"
    archived = client.get(world[0]["inbox"] + "?state=archived").content.decode()
    assert "Audit log please" in archived


@pytest.mark.parametrize("n", [3, 30])
def test_inbox_and_companies_queries_do_not_grow(client_as, viewer, workspace, product, n,
                                                 django_assert_max_num_queries):
    for _ in range(n):
        company = CompanyFactory(product=product)
        InsightFactory(product=product, company=company)
    client = client_as(viewer)
    kw = {"ws": workspace.slug, "product_id": product.id}
    with django_assert_max_num_queries(25):
        assert client.get(reverse("discovery:inbox", kwargs=kw)).status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(reverse("discovery:companies", kwargs=kw)).status_code == 200


def test_import_pages_outsider_404_viewer_403(client_as, outsider, viewer, editor, workspace, product):
    from discovery.models import CsvImport

    job = CsvImport.objects.create(product=product, kind="insights", status="ready",
                                   rows=[{"key": "", "title": "", "text": "Hello", "author_name": "",
                                          "author_email": "", "company_external_id": "", "line": 2}])
    kw = {"ws": workspace.slug, "product_id": product.id}
    pages = [reverse("discovery:imports", kwargs=kw), reverse("discovery:import", kwargs=kw | {"import_id": job.id}),
             reverse("discovery:import_reading", kwargs=kw | {"import_id": job.id})]
    for url in pages:
        assert client_as(outsider).get(url).status_code == 404
        assert client_as(outsider).post(url, {"kind": "insights"}).status_code == 404
        assert client_as(viewer).get(url).status_code == 403
        assert client_as(editor).get(url).status_code == 200
    assert client_as(viewer).post(pages[1]).status_code == 403
    job.refresh_from_db()
    assert job.status == "ready" and not Insight.objects.exists()


def test_insight_company_is_named_by_domain_or_external_id(client_as, editor, world, product):
    company = CompanyFactory(product=product, domain="hooli.com", external_id="crm-77")
    url = world[0]["inbox"]
    assert client_as(editor).post(url, {"text": "Typed", "company": "nowhere.com"}).status_code == 400
    assert client_as(editor).post(url, {"text": "By id", "company": "crm-77"}).status_code == 302
    assert Insight.objects.get(text="By id").company_id == company.id
