"""Tenancy-matrix entries of the discovery app. Format: see tests/security/README.md.

Payloads of the refused page writes are valid forms, so a missing role check would really write
and the snapshot would see it.
"""

from django.forms.models import model_to_dict

from backlog.models import Story
from discovery.models import Company, CsvImport, Highlight, Insight
from tests.discovery.factories import CompanyFactory, InsightFactory, PersonFactory
from tests.roadmaps.factories import ProductFactory

from .matrix import Exempt, Route


def _row(obj):
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _product(ws):
    return ProductFactory(workspace=ws)


def _company(ws):
    return CompanyFactory(product=_product(ws))


def _person(ws):
    company = _company(ws)
    return PersonFactory(product=company.product, company=company)


def _insight(ws):
    company = _company(ws)
    return InsightFactory(product=company.product, company=company)


def _highlight(ws):
    insight = _insight(ws)
    story = Story.objects.create(product=insight.product, title="Single sign-on")
    return Highlight.objects.create(insight=insight, passage="SSO", importance=4, story=story)


def _story_of(insight):
    return Story.objects.get_or_create(product_id=insight.product_id, title="Matrix story")[0]


def _companies_of(product):
    return (_row(product), sorted(Company.objects.filter(product_id=product.id).values_list("id", "name")))


def _insights_of(product):
    return (_row(product), sorted(Insight.objects.filter(product_id=product.id).values_list("id", "text", "state")))


def _insight_and_highlights(insight):
    return (_row(insight), sorted(Highlight.objects.filter(insight_id=insight.id).values_list("id", "passage")))


def _company_and_people(company):
    return (_row(company), sorted(company.people.values_list("id", "email")))


def _import(ws):
    return CsvImport.objects.create(product=_product(ws), kind="insights", status="ready",
                                    rows=[{"key": "", "title": "", "text": "Hello", "author_name": "",
                                           "author_email": "", "company_external_id": "", "line": 2}])


def _imports_of(product):
    return (_row(product), sorted(CsvImport.objects.filter(product_id=product.id).values_list("id", "status")))


# API: router basename -> Route (covers every detail route of the viewset, incl. @action(detail=True)).
API = {
    "company": Route(build=_company, payload=lambda c: {"name": "Pwned", "revenue": "1", "version": c.version}),
    "person": Route(build=_person, payload=lambda p: {"name": "Pwned", "version": p.version}),
    # insight-detail and insight-highlights
    "insight": Route(build=_insight, payload=lambda i: {"text": "Pwned", "state": "archived", "passage": "Pwned",
                                                       "story": _story_of(i).id, "version": i.version},
                     snapshot=_insight_and_highlights),
    "highlight": Route(build=_highlight),
}

# Pages: URL name -> Route.
PAGES = {
    "discovery:companies": Route(build=_product, payload=lambda p: {"name": "Pwned", "currency": "EUR"},
                                 snapshot=_companies_of),
    "discovery:company": Route(build=_company, kwargs=lambda c: {"product_id": c.product_id, "company_id": c.id},
                               payload=lambda c: {"name": "Pwned", "currency": "EUR", "version": c.version},
                               snapshot=_company_and_people),
    "discovery:imports": Exempt(
        "Editor-only page (viewers get 403 on GET, where the matrix asserts 200). Outsider 404 on GET/POST and "
        "viewer 403 with nothing stored: tests/discovery/test_pages.py (test_import_pages_outsider_404_viewer_403)."),
    "discovery:import": Exempt(
        "Editor-only page (viewers get 403 on GET, where the matrix asserts 200). Outsider 404 on GET/POST and "
        "viewer 403 with the import unchanged: tests/discovery/test_pages.py "
        "(test_import_pages_outsider_404_viewer_403)."),
    "discovery:import_reading": Exempt(
        "Editor-only htmx partial (GET only). Outsider 404 and viewer 403: tests/discovery/test_pages.py "
        "(test_import_pages_outsider_404_viewer_403)."),
    "discovery:intake": Exempt(
        "Admin-only page (members below admin get 403 on GET, where the matrix asserts 200). Outsider 404 on "
        "GET/POST and editor 403 with nothing changed: tests/discovery/test_intake.py "
        "(test_intake_page_outsider_404_editor_403)."),
    "discovery:inbox": Route(build=_product, payload=lambda p: {"text": "Pwned"}, snapshot=_insights_of),
    "discovery:insight": Route(build=_insight, kwargs=lambda i: {"product_id": i.product_id, "insight_id": i.id},
                               payload=lambda i: {"text": "Pwned", "state": "archived", "version": i.version},
                               snapshot=_insight_and_highlights),
}
