"""Tenancy-matrix entries of the discovery app. Format: see tests/security/README.md.

Payloads of the refused page writes are valid forms, so a missing role check would really write
and the snapshot would see it.
"""

from django.forms.models import model_to_dict

from backlog.models import Story
from discovery.models import Company, CsvImport, Highlight, Idea, Insight
from tests.discovery.factories import CompanyFactory, InsightFactory, PersonFactory
from tests.roadmaps.factories import ProductFactory

from .matrix import Exempt, Route, VisitorRoute, VisitorSpace


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


def _portal(ws):
    from discovery.models import Portal

    product = _product(ws)
    return Portal.objects.create(product=product, slug=f"m{product.id}", name="Ideas", enabled=True)


def _release_note(ws):
    from django.utils import timezone

    from discovery.models import ReleaseNote

    return ReleaseNote.objects.create(portal=_portal(ws), title="2.0", body="Dark mode", published_at=timezone.now())


def _ideas_of(product):
    return (_row(product), sorted(Idea.objects.filter(product_id=product.id).values_list("id", "title")))


def _idea_and_comments(idea):
    return (_row(idea), sorted(idea.comments.values_list("id", "body")))


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
    # by product id: members read the settings, admins change them (viewers 403, outsiders 404)
    "discovery-portal": Route(build=_portal, payload=lambda p: {"name": "Pwned", "enabled": False,
                                                                "version": p.version}),
    "release-note": Route(build=_release_note),
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
    "discovery:similar": Exempt(
        "GET-only htmx partial: ProductPageMixin resolves the product before the method, so the IDOR case answers "
        "404 to POST where the matrix expects 405 (404 reveals less). Outsider 404 and the other product's rows "
        "never listed: tests/discovery/test_similar.py (test_inbox_suggests_similar_insights_while_typing, "
        "test_similar_partial_outsider_404)."),
    # Backlog › Feedback (discovery's page at the backlog's old address): a refused write files nothing.
    "discovery:feedback": Route(build=_product, payload=lambda p: {"customer": "Pwned", "quote": "Pwned",
                                                                   "importance": "3"}, snapshot=_insights_of),
    "discovery:inbox": Route(build=_product, payload=lambda p: {"text": "Pwned"}, snapshot=_insights_of),
    "discovery:insight": Route(build=_insight, kwargs=lambda i: {"product_id": i.product_id, "insight_id": i.id},
                               payload=lambda i: {"text": "Pwned", "state": "archived", "version": i.version},
                               snapshot=_insight_and_highlights),
}


# --- the public portal: a visitor space (tests/security/matrix.py VisitorSpace) -------------
# Portal A (workspace) is open with one published idea (voted, commented by its team, linked to
# an epic), an unpublished idea of another visitor, a merged idea, and release notes; product P2
# of the same workspace has a published idea but no portal; portal B (other workspace) has its
# own visitor, published idea, sign-in link and unsubscribe token. Canaries are text no portal
# answer may show to anyone: private titles, e-mail addresses, the workspace's own names.
_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                     "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def _visitor_cookie(client, visitor, portal):
    from django.core import signing

    from discovery.portal_views import COOKIE_SALT, _cookie_name

    name = _cookie_name(portal)
    client.cookies[name] = signing.get_cookie_signer(salt=name + COOKIE_SALT).sign(str(visitor.id))


def _signin_raw(visitor):
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    from discovery.models import MagicLink
    from discovery.services import _hash

    raw = secrets.token_urlsafe(32)
    MagicLink.objects.create(visitor=visitor, token_hash=_hash(raw), expires_at=timezone.now() + timedelta(minutes=30))
    return raw


def _portal_world(ws, other_ws):
    from types import SimpleNamespace

    from django.core import signing
    from django.utils import timezone

    from backlog.models import Epic
    from discovery.models import Comment, Portal, ReleaseNote, Visitor, Vote
    from pmhub.models import User

    product = ProductFactory(workspace=ws, name="Canary product Zircon")
    portal = Portal.objects.create(product=product, slug="ideas-a", name="Ideas", enabled=True, logo=_PNG,
                                   logo_type="image/png")
    own = Visitor.objects.create(portal=portal, email="own.visitor@canary-a.example", name="Own")
    voter = Visitor.objects.create(portal=portal, email="quiet.voter@canary-a.example", name="")
    author = Visitor.objects.create(portal=portal, email="author@canary-a.example", name="Author")
    epic = Epic.objects.create(product=product, title="Canary epic Quasar")
    from roadmaps.models import Initiative

    initiative = Initiative.objects.create(product=product, title="Canary initiative Orbit")
    visible = Idea.objects.create(product=product, title="Dark mode", published=True, status="planned",
                                  vote_count=2, initiative=initiative)
    visible.epics.add(epic)
    Vote.objects.create(idea=visible, visitor=own, importance=2)
    Vote.objects.create(idea=visible, visitor=voter, importance=3)
    team = User.objects.filter(memberships__workspace=ws).first()
    Comment.objects.create(idea=visible, user=team, body="We are on it.")
    Comment.objects.create(idea=visible, visitor=voter, body="Yes please")
    unpublished = Idea.objects.create(product=product, title="Canary unpublished Nebula", author=author)
    merged = Idea.objects.create(product=product, title="Canary merged Pulsar", published=True, merged_into=visible)
    InsightFactory(product=product, text="Canary insight Quokka",
                   company=CompanyFactory(product=product, name="Canary company Wombat"))
    ReleaseNote.objects.create(portal=portal, title="Dark mode is here", body="Thanks!", published_at=timezone.now())
    elsewhere = Idea.objects.create(product=ProductFactory(workspace=ws, name="Canary second product"),
                                    title="Canary other product Comet", published=True, status="planned")

    product_b = ProductFactory(workspace=other_ws, name="Canary product B")
    portal_b = Portal.objects.create(product=product_b, slug="ideas-b", name="Canary portal B", enabled=True)
    foreign = Visitor.objects.create(portal=portal_b, email="foreign@canary-b.example", name="Foreign")
    theirs = Idea.objects.create(product=product_b, title="Canary portal B idea Meteor", published=True,
                                 status="planned")
    Vote.objects.create(idea=theirs, visitor=foreign, importance=3)
    unsubscribe = lambda v: signing.dumps({"v": v.id}, salt="discovery.unsubscribe")  # noqa: E731
    return SimpleNamespace(
        portal=portal, portal_b=portal_b, own=own, foreign=foreign,
        visible={"idea": visible, "signin_link": _signin_raw(author), "unsubscribe": unsubscribe(voter)},
        hidden={"idea": [unpublished, merged, elsewhere, theirs], "signin_link": [_signin_raw(foreign)],
                "unsubscribe": [unsubscribe(foreign)]},
        canaries=[product.name, epic.title, initiative.title, unpublished.title, merged.title, elsewhere.title, theirs.title,
                  product_b.name, portal_b.name, "Canary insight Quokka", "Canary company Wombat",
                  own.email, voter.email, author.email, foreign.email, "canary-a.example", "canary-b.example",
                  ws.name, ws.slug, other_ws.name, other_ws.slug] + ([team.email, team.name] if team else []),
    )


def _portal_sign_in(client, world, who):
    if who == "own":
        _visitor_cookie(client, world.own, world.portal)
    elif who == "foreign":  # signed in to portal B: its own cookie, sent along
        _visitor_cookie(client, world.foreign, world.portal_b)
    elif who == "forged":  # portal B's signed visitor id, replayed under portal A's cookie name
        from discovery.portal_views import _cookie_name

        _visitor_cookie(client, world.foreign, world.portal_b)
        client.cookies[_cookie_name(world.portal)] = client.cookies[_cookie_name(world.portal_b)].value


def _portal_close(world):
    type(world.portal).objects.filter(pk=world.portal.pk).update(enabled=False)


def _portal_snapshot(world):
    from discovery.models import Comment, Follow, MagicLink, Portal, Visitor, Vote

    products = [world.portal.product_id, world.portal_b.product_id]
    workspaces = [world.portal.product.workspace_id, world.portal_b.product.workspace_id]

    def rows(qs, *fields):
        return sorted(qs.order_by("pk").values_list("pk", *fields))

    return (
        rows(Idea.objects.filter(product__workspace__in=workspaces), "title", "published", "status", "vote_count",
             "merged_into_id"),
        rows(Vote.objects, "idea_id", "visitor_id", "importance"),
        rows(Follow.objects, "idea_id", "visitor_id"),
        rows(Comment.objects, "idea_id", "visitor_id", "body"),
        rows(Visitor.objects, "portal_id", "email", "unsubscribed"),
        rows(MagicLink.objects, "visitor_id", "used_at"),
        rows(Portal.objects.filter(product_id__in=products), "name", "enabled", "version"),
    )


VISITOR_SPACE = VisitorSpace(prefix="portal/<slug:slug>/", build=_portal_world, sign_in=_portal_sign_in,
                             close=_portal_close, snapshot=_portal_snapshot)


def _slug(world, _target):
    return {"slug": world.portal.slug}


_WRITE = lambda _w, _t: {"title": "Canary typed", "description": "Pwned", "action": "vote",  # noqa: E731
                         "importance": "3", "body": "Pwned"}

# Portal routes: URL name -> VisitorRoute (every route under /portal/<slug>/ must be here).
VISITOR_PAGES = {
    "portal:home": VisitorRoute(kwargs=_slug, payload=_WRITE),
    "portal:signin": VisitorRoute(kwargs=_slug, payload=lambda _w, _t: {"email": "someone@example.org"},
                                  anonymous_may={"post": "anyone may ask for a sign-in link (it creates the visitor "
                                                         "row and mails the link; the answer is the same for any "
                                                         "address)"}),
    "portal:link": VisitorRoute(kwargs=lambda w, t: {"slug": w.portal.slug, "token": t}, names="signin_link",
                                anonymous_may={"post": "the single-use link is the credential"},
                                # the page only shows a button, whatever the token; portal B's link is refused
                                # like a used one and stays unused
                                hidden_status={"get": 200, "post": 400}),
    "portal:signout": VisitorRoute(kwargs=_slug,
                                   anonymous_may={"post": "drops this portal's cookie; nothing stored changes"}),
    "portal:idea": VisitorRoute(kwargs=lambda w, t: {"slug": w.portal.slug, "idea_id": t.id}, names="idea",
                                payload=_WRITE),
    "portal:similar": VisitorRoute(kwargs=_slug, payload=lambda _w, _t: {"title": "Canary"}),
    "portal:logo": VisitorRoute(kwargs=_slug),
    "portal:roadmap": VisitorRoute(kwargs=_slug),
    "portal:releases": VisitorRoute(kwargs=_slug),
    "portal:feed": VisitorRoute(kwargs=_slug),
    "portal:unsubscribe": VisitorRoute(kwargs=lambda w, t: {"slug": w.portal.slug, "token": t}, names="unsubscribe",
                                       anonymous_may={"post": "the signed token from the e-mail is the credential"},
                                       # the page only shows a button, whatever the token; portal B's token is
                                       # refused and its visitor stays subscribed
                                       hidden_status={"get": 200, "post": 404}),
}
