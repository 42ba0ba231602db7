"""Tenancy-matrix entries of the discovery app. Format: see tests/security/README.md.

Payloads of the refused page writes are valid forms, so a missing role check would really write
and the snapshot would see it.
"""

from django.forms.models import model_to_dict

from backlog.models import Story
from discovery.models import Company, CsvImport, Highlight, Idea, Insight
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


def _idea(ws):
    return Idea.objects.create(product=_product(ws), title="Dark mode", published=True)


def _ideas_of(product):
    return (_row(product), sorted(Idea.objects.filter(product_id=product.id).values_list("id", "title")))


def _idea_and_comments(idea):
    return (_row(idea), sorted(idea.comments.values_list("id", "body")))


PORTAL_TENANCY = ("tests/discovery/test_portal.py (test_visitors_see_only_published_ideas_of_their_portal: a "
                  "visitor of portal A sees and votes on nothing of portal B or unpublished ideas; "
                  "test_closed_portal_is_404; test_voters_emails_are_never_shown)")

# API: router basename -> Route (covers every detail route of the viewset, incl. @action(detail=True)).
API = {
    "company": Route(build=_company, payload=lambda c: {"name": "Pwned", "revenue": "1", "version": c.version}),
    "person": Route(build=_person, payload=lambda p: {"name": "Pwned", "version": p.version}),
    # insight-detail and insight-highlights
    "insight": Route(build=_insight, payload=lambda i: {"text": "Pwned", "state": "archived", "passage": "Pwned",
                                                       "story": _story_of(i).id, "version": i.version},
                     snapshot=_insight_and_highlights),
    "highlight": Route(build=_highlight),
    "idea": Route(build=_idea, payload=lambda i: {"title": "Pwned", "status": "shipped", "into": i.id,
                                                 "version": i.version}),
    "discovery-import": Exempt(
        "CSV imports (CsvImportViewSet) are for editors only by design, even list/retrieve (the preview shows "
        "the uploaded rows), so a viewer's GET is 403 where the matrix asserts 200. Outsider 404 on retrieve and "
        "confirm, viewer 403 on upload and retrieve with nothing stored: tests/discovery/"
        "test_api_imports_intake.py (test_imports_viewers_403_outsiders_404)."),
    "discovery-intake": Exempt(
        "Intake settings (IntakeViewSet, by product id) are for admins only, even reading (the e-mail address and "
        "form key are credentials), so a viewer's GET is 403 where the matrix asserts 200. Outsider 404 on "
        "retrieve and rotate, editor 403 with no intake made, viewer 403 on update: tests/discovery/"
        "test_api_imports_intake.py (test_intake_admins_only_outsiders_404)."),
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
    "discovery:ideas": Route(build=_product, payload=lambda p: {"title": "Pwned", "status": "planned"},
                             snapshot=_ideas_of),
    "discovery:idea": Route(build=_idea, kwargs=lambda i: {"product_id": i.product_id, "idea_id": i.id},
                            payload=lambda i: {"title": "Pwned", "status": "shipped", "version": i.version,
                                               "action": "comment", "body": "Pwned"},
                            snapshot=_idea_and_comments),
    "discovery:portal": Exempt(
        "Editor-only page (viewers get 403 on GET, where the matrix asserts 200). Outsider 404 and editor 403 on "
        "the admin's portal settings with nothing stored: tests/discovery/test_portal.py "
        "(test_portal_settings_need_an_admin, test_portal_settings_outsider_404_viewer_403)."),
    "portal:home": Exempt("Public portal page (no workspace in the URL; visitors by signed cookie): " + PORTAL_TENANCY),
    "portal:signin": Exempt("Public portal sign-in (e-mail link): " + PORTAL_TENANCY),
    "portal:link": Exempt("Public portal: the single-use, expiring token in the URL is the credential "
                          "(test_signin_link_is_single_use_and_signs_in, test_signin_link_expires)."),
    "discovery:similar": Exempt(
        "GET-only htmx partial: ProductPageMixin resolves the product before the method, so the IDOR case answers "
        "404 to POST where the matrix expects 405 (404 reveals less). Outsider 404 and the other product's rows "
        "never listed: tests/discovery/test_similar.py (test_inbox_suggests_similar_insights_while_typing, "
        "test_similar_partial_outsider_404)."),
    "portal:similar": Exempt("Public portal partial (published ideas of this portal only): "
                             "test_portal_suggests_only_published_ideas_of_its_product, " + PORTAL_TENANCY),
    "portal:logo": Exempt("Public image of an open portal (GET only, nothing of the workspace but the logo its "
                          "admins published): tests/discovery/test_portal_logo.py (closed portal 404, type by content, "
                          "nosniff; editors 403 and outsiders 404 on the upload)."),
    "portal:signout": Exempt("Public portal: drops the visitor's cookie of this portal only."),
    "portal:idea": Exempt("Public portal page: " + PORTAL_TENANCY),
    "portal:roadmap": Exempt("Public portal page (published ideas only): " + PORTAL_TENANCY),
    "portal:releases": Exempt("Public portal page (release notes of this portal): " + PORTAL_TENANCY),
    "portal:feed": Exempt("Public Atom feed of this portal's release notes (test_release_notes_on_the_portal_and_in_atom)."),
    "portal:unsubscribe": Exempt("Public: the signed token from the e-mail is the authority "
                                 "(test_shipping_the_linked_release_ships_the_idea_and_mails_each_person_once)."),
    "discovery:inbox": Route(build=_product, payload=lambda p: {"text": "Pwned"}, snapshot=_insights_of),
    "discovery:insight": Route(build=_insight, kwargs=lambda i: {"product_id": i.product_id, "insight_id": i.id},
                               payload=lambda i: {"text": "Pwned", "state": "archived", "version": i.version},
                               snapshot=_insight_and_highlights),
}
