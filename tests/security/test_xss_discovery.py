"""Every payload of xss_corpus.py in the discovery app's text fields (company name, domain, plan,
tier, external id; person name and e-mail's local part; insight title, text and author; highlight
passage; the segment name it shows) comes out inert in the companies, company, inbox and insight
pages, the header search and the activity log; the API returns the payloads as JSON data."""

from decimal import Decimal

import pytest
from django.urls import reverse

from backlog.models import Story
from discovery import services
from discovery.models import Company, Insight
from roadmaps.models import Product, Segment

from .xss_cases import CASES, assert_json_data, browsable_inert, browser, get_inert, payload

pytestmark = pytest.mark.django_db

FIELDS = ["company.name", "company.plan", "company.tier", "company.external_id", "person.name", "insight.title",
          "insight.text", "insight.author_name", "highlight.passage", "segment.name", "story.title",
          "bulk.text", "bulk.name"]


def _discovery(case, workspace, admin):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    product = Product.objects.create(workspace=workspace, name="Acme")
    segment = Segment.objects.create(product=product, name=p["segment.name"][:120])
    company = services.company_create(user=admin, product=product, data={
        "name": p["company.name"][:160], "domain": "acme.example", "segment": segment, "revenue": Decimal("1000"),
        "plan": p["company.plan"][:80], "tier": p["company.tier"][:80], "external_id": p["company.external_id"][:100]})
    services.person_create(user=admin, product=product, data={"email": "ada@acme.example",
                                                              "name": p["person.name"][:160]})
    insight = services.insight_create(user=admin, product=product, data={
        "title": p["insight.title"][:200], "text": p["insight.text"], "author_name": p["insight.author_name"][:160],
        "author_email": "ada@acme.example"})
    story = Story.objects.create(product=product, title=p["story.title"][:200])
    services.highlight_create(user=admin, insight=insight, passage=p["highlight.passage"], importance=5,
                              story=story)
    services.insights_intake(product=product, user=admin, items=[
        {"id": "x1", "text": p["bulk.text"], "name": p["bulk.name"][:160], "email": "bo@acme.example"}])
    return {"product": product, "company": company, "insight": insight, "p": p}


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_discovery_fields_are_inert_in_pages(case, admin, workspace):
    world = _discovery(case, workspace, admin)
    kw = {"ws": workspace.slug, "product_id": world["product"].id}
    client = browser(admin)
    urls = [reverse("discovery:companies", kwargs=kw), reverse("discovery:inbox", kwargs=kw),
            reverse("discovery:inbox", kwargs=kw) + "?state=reviewed",
            reverse("discovery:company", kwargs=kw | {"company_id": world["company"].id}),
            *[reverse("discovery:insight", kwargs=kw | {"insight_id": i})
              for i in Insight.objects.values_list("id", flat=True)],
            reverse("activity", kwargs={"ws": workspace.slug}), reverse("search") + "?q=acme"]
    for url in urls:
        html = get_inert(client, url)
        assert 'href="javascript' not in html.lower()


@pytest.mark.parametrize("case", CASES[::9])
def test_payloads_in_discovery_fields_come_back_as_json_data(case, api_as, admin, workspace):
    world = _discovery(case, workspace, admin)
    api = api_as(admin)
    company = Company.objects.get(pk=world["company"].pk)
    assert_json_data(api.get(f"/api/v1/companies/{company.id}/"), company.name, company.plan, company.tier)
    insight = Insight.objects.get(pk=world["insight"].pk)
    assert_json_data(api.get(f"/api/v1/insights/{insight.id}/"), insight.title, insight.text, insight.author_name)
    browsable_inert(browser(admin), f"/api/v1/insights/?product={world['product'].id}")
    browsable_inert(browser(admin), f"/api/v1/companies/?product={world['product'].id}")


PORTAL_FIELDS = ["portal.name", "portal.intro", "idea.title", "idea.description", "comment.body", "visitor.name",
                 "note.title", "note.body", "team.comment"]


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_ideas_and_the_portal_are_inert_in_portal_pages_workspace_pages_and_emails(
        case, admin, workspace, django_capture_on_commit_callbacks):
    from django.core import mail

    from backlog.models import Epic
    from discovery.models import Visitor
    from roadmaps import services as roadmap_services
    from roadmaps.models import Release

    from .xss_cases import assert_inert

    p = {name: payload(case, k) for k, name in enumerate(PORTAL_FIELDS)}
    product = Product.objects.create(workspace=workspace, name="Acme")
    portal = services.portal_save(user=admin, product=product, data={
        "slug": "acme", "name": p["portal.name"][:120], "intro": p["portal.intro"], "enabled": True})
    release = Release.objects.create(product=product, name="2.0")
    epic = Epic.objects.create(product=product, title="Epic", release=release)
    idea = services.idea_create(user=admin, product=product, data={
        "title": p["idea.title"][:160], "description": p["idea.description"], "published": True, "epics": [epic]})
    visitor = Visitor.objects.create(portal=portal, email="ana@globex.com", name=p["visitor.name"][:80])
    services.idea_vote(visitor=visitor, idea=idea, importance=3)
    services.idea_comment(visitor=visitor, idea=idea, body=p["comment.body"])
    services.idea_comment(user=admin, idea=idea, body=p["team.comment"])
    services.release_note_create(user=admin, portal=portal, title=p["note.title"][:160], body=p["note.body"])
    with django_capture_on_commit_callbacks(execute=True):
        roadmap_services.release_mark_released(actor=admin, release=release)
    anonymous = browser()
    for url in [f"/portal/{portal.slug}/", f"/portal/{portal.slug}/ideas/{idea.id}/", f"/portal/{portal.slug}/roadmap/",
                f"/portal/{portal.slug}/releases/", f"/portal/{portal.slug}/signin/"]:
        get_inert(anonymous, url)
    member = browser(admin)
    kw = {"ws": workspace.slug, "product_id": product.id}
    for url in [reverse("discovery:ideas", kwargs=kw), reverse("discovery:idea", kwargs=kw | {"idea_id": idea.id}),
                reverse("discovery:portal", kwargs=kw)]:
        get_inert(member, url)
    feed = anonymous.get(f"/portal/{portal.slug}/releases/feed.atom").content.decode()
    assert "<script" not in feed.lower()
    shipped = [m for m in mail.outbox if m.to == ["ana@globex.com"]]
    assert len(shipped) == 1 and "\n" not in shipped[0].subject
    assert_inert(shipped[0].alternatives[0][0], "shipped e-mail")


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_csv_imports_are_inert_in_the_preview(case, admin, workspace, django_capture_on_commit_callbacks):
    import csv
    import io

    product = Product.objects.create(workspace=workspace, name="Acme")
    p = [payload(case, k) for k in range(8)]
    for kind, header, row in (
            ("companies", ["name", "domain", "plan", "tier", "external id", "segment"],
             [p[0][:160], "acme.example", p[1][:80], p[2][:80], p[3][:100], ""]),
            ("insights", ["id", "title", "text", "name"], [p[4][:100], p[5][:200], p[6], p[7][:160]])):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerow(row)
        writer.writerow(["", "not a domain" if kind == "companies" else ""] + [p[0][:50]] * (len(header) - 2))
        with django_capture_on_commit_callbacks(execute=True):
            job = services.csv_import_upload(user=admin, product=product, kind=kind, filename=p[1][:200],
                                             data=out.getvalue().encode())
        url = reverse("discovery:import", kwargs={"ws": workspace.slug, "product_id": product.id,
                                                  "import_id": job.id})
        get_inert(browser(admin), url)
    get_inert(browser(admin), reverse("discovery:imports", kwargs={"ws": workspace.slug, "product_id": product.id}))
