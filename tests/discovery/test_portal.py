"""The public ideas portal: e-mail link sign-in (single use, expiring), submit, vote once with an
importance, follow, comment; what a visitor may see (published ideas of this portal only); PM
curation (publish, status, links, merge with nobody counted twice); demand by revenue; the loop
closed when the linked release ships (one e-mail per person, unsubscribe); release notes + Atom."""

import re
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from backlog.models import Epic
from discovery import services
from discovery.models import Comment, Follow, Idea, MagicLink, Portal, ShippedMail, Visitor, Vote
from roadmaps import services as roadmap_services
from roadmaps.models import Release
from tests.roadmaps.factories import ProductFactory

from .factories import CompanyFactory, InsightFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(admin, product):
    return services.portal_save(user=admin, product=product, data={"slug": "acme", "name": "Acme ideas",
                                                                   "enabled": True})


def _link_from_outbox() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://\S+/portal/\S+/signin/\S+/", body).group(0)


def _signed_in(client, portal, email="ana@globex.com", django_capture_on_commit_callbacks=None):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:signin", kwargs={"slug": portal.slug}), {"email": email})
    assert response.status_code == 200
    path = _link_from_outbox().split("://", 1)[1].split("/", 1)[1]
    assert client.post("/" + path).status_code == 302
    return Visitor.objects.get(portal=portal, email=email)


def test_signin_link_is_single_use_and_signs_in(client, portal, django_capture_on_commit_callbacks):
    visitor = _signed_in(client, portal, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    home = client.get(reverse("portal:home", kwargs={"slug": portal.slug})).content.decode()
    assert "Suggest an idea" in home
    path = "/" + _link_from_outbox().split("://", 1)[1].split("/", 1)[1]
    from django.test import Client

    again = Client().post(path)
    assert again.status_code == 400  # used already
    assert MagicLink.objects.get(visitor=visitor).used_at is not None


def test_signin_link_expires(client, portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:signin", kwargs={"slug": portal.slug}), {"email": "li@initech.com"})
    path = "/" + _link_from_outbox().split("://", 1)[1].split("/", 1)[1]
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert client.post(path).status_code == 400
    assert client.get(reverse("portal:home", kwargs={"slug": portal.slug})).content.decode().count("Suggest") == 0


def test_signin_is_rate_limited_and_has_a_honeypot(client, portal, settings, django_capture_on_commit_callbacks):
    settings.DISCOVERY_PUBLIC_RATE = "2/min"
    url = reverse("portal:signin", kwargs={"slug": portal.slug})
    with django_capture_on_commit_callbacks(execute=True):
        codes = [client.post(url, {"email": "a@b.co"}).status_code for _ in range(3)]
        trap = client.post(url, {"email": "c@d.co", "website": "x"}, REMOTE_ADDR="10.9.9.9")
    assert codes == [200, 200, 429] and trap.status_code == 200
    assert len(mail.outbox) == 2 and not Visitor.objects.filter(email="c@d.co").exists()


def test_visitor_submits_votes_once_follows_and_comments(client, portal, product,
                                                         django_capture_on_commit_callbacks):
    visitor = _signed_in(client, portal, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    home = reverse("portal:home", kwargs={"slug": portal.slug})
    response = client.post(home, {"title": "Dark mode", "description": "For the wall display"})
    assert response.status_code == 302
    idea = Idea.objects.get()
    assert (idea.author_id, idea.published, idea.vote_count) == (visitor.id, False, 1)
    url = reverse("portal:idea", kwargs={"slug": portal.slug, "idea_id": idea.id})
    assert client.post(url, {"action": "vote", "importance": "3"}).status_code == 302
    assert client.post(url, {"action": "vote", "importance": "1"}).status_code == 302
    assert Vote.objects.get().importance == 1 and Idea.objects.get().vote_count == 1
    assert client.post(url, {"action": "comment", "body": "Please!"}).status_code == 302
    assert Comment.objects.get().visitor_id == visitor.id
    assert client.post(url, {"action": "unfollow"}).status_code == 302
    assert not Follow.objects.exists()
    assert client.post(url, {"action": "vote", "importance": "9"}).status_code == 400


def test_visitors_see_only_published_ideas_of_their_portal(client, portal, product, admin, workspace,
                                                           django_capture_on_commit_callbacks):
    published = services.idea_create(user=admin, product=product, data={"title": "Published one",
                                                                         "published": True})
    hidden = services.idea_create(user=admin, product=product, data={"title": "Hidden one"})
    other_product = ProductFactory(workspace=workspace)
    other = services.portal_save(user=admin, product=other_product, data={"slug": "other", "name": "Other",
                                                                          "enabled": True})
    theirs = services.idea_create(user=admin, product=other_product, data={"title": "Theirs", "published": True})
    _signed_in(client, portal, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    home = client.get(reverse("portal:home", kwargs={"slug": portal.slug})).content.decode()
    assert "Published one" in home and "Hidden one" not in home and "Theirs" not in home
    for idea, code in ((published, 200), (hidden, 404), (theirs, 404)):
        url = reverse("portal:idea", kwargs={"slug": portal.slug, "idea_id": idea.id})
        assert client.get(url).status_code == code
        if code == 404:
            assert client.post(url, {"action": "vote", "importance": "2"}).status_code == 404
    # Signed in to portal A only: portal B sees an anonymous visitor.
    other_home = client.get(reverse("portal:home", kwargs={"slug": other.slug})).content.decode()
    assert "Suggest an idea" not in other_home
    assert not Vote.objects.filter(idea__in=[hidden, theirs]).exists()


def test_closed_portal_is_404(client, portal):
    Portal.objects.filter(pk=portal.pk).update(enabled=False)
    assert client.get(reverse("portal:home", kwargs={"slug": portal.slug})).status_code == 404


def test_voters_emails_are_never_shown(client, portal, admin, product, django_capture_on_commit_callbacks):
    idea = services.idea_create(user=admin, product=product, data={"title": "Exports", "published": True})
    visitor = _signed_in(client, portal, email="secret.person@globex.com",
                         django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    services.idea_comment(visitor=visitor, idea=idea, body="Me too")
    services.idea_vote(visitor=visitor, idea=idea, importance=2)
    page = client.get(reverse("portal:idea", kwargs={"slug": portal.slug, "idea_id": idea.id})).content.decode()
    assert "secret.person" not in page and "globex.com" not in page


def test_merge_combines_votes_and_followers_counting_nobody_twice(admin, product, portal):
    a = services.idea_create(user=admin, product=product, data={"title": "CSV export", "published": True})
    b = services.idea_create(user=admin, product=product, data={"title": "Export to CSV", "published": True})
    v1 = Visitor.objects.create(portal=portal, email="one@x.com")
    v2 = Visitor.objects.create(portal=portal, email="two@x.com")
    services.idea_vote(visitor=v1, idea=a, importance=1)
    services.idea_vote(visitor=v1, idea=b, importance=3)
    services.idea_vote(visitor=v2, idea=b, importance=2)
    services.idea_merge(user=admin, idea=b, into=a)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.vote_count == 2 and b.merged_into_id == a.id and not b.published
    assert dict(Vote.objects.filter(idea=a).values_list("visitor__email", "importance")) == {"one@x.com": 3,
                                                                                          "two@x.com": 2}
    assert Follow.objects.filter(idea=a).count() == 2 and not Follow.objects.filter(idea=b).exists()


def test_demand_weights_votes_by_company_revenue_and_segment(admin, product, portal, segment):
    from backlog.models import BacklogSettings

    BacklogSettings.objects.update_or_create(product=product, defaults={"segment_weights": {"Enterprise": 2}})
    CompanyFactory(product=product, domain="globex.com", revenue=Decimal("90000"), segment=segment)
    idea = services.idea_create(user=admin, product=product, data={"title": "SSO", "published": True})
    services.idea_vote(visitor=Visitor.objects.create(portal=portal, email="a@globex.com"), idea=idea, importance=3)
    services.idea_vote(visitor=Visitor.objects.create(portal=portal, email="b@gmail.com"), idea=idea, importance=1)
    idea.refresh_from_db()
    assert idea.demand == Decimal("13.00")  # 3 x 2 (segment) x 2 (revenue factor) + 1 x 1 x 1


def test_shipping_the_linked_release_ships_the_idea_and_mails_each_person_once(
        admin, product, portal, django_capture_on_commit_callbacks):
    release = Release.objects.create(product=product, name="2.0")
    epic = Epic.objects.create(product=product, title="SSO", release=release)
    sso = services.idea_create(user=admin, product=product, data={"title": "SSO", "published": True,
                                                                  "epics": [epic]})
    audit = services.idea_create(user=admin, product=product, data={"title": "Audit log", "published": True,
                                                                    "epics": [epic]})
    ana = Visitor.objects.create(portal=portal, email="ana@globex.com")
    services.idea_vote(visitor=ana, idea=sso, importance=3)
    services.idea_follow(visitor=ana, idea=audit)
    insight = InsightFactory(product=product, author_email="li@initech.com")
    services.highlight_create(user=admin, insight=insight, passage="SSO", importance=4, epic=epic)
    with django_capture_on_commit_callbacks(execute=True):
        roadmap_services.release_mark_released(actor=admin, release=release)
    assert set(Idea.objects.values_list("status", flat=True)) == {"shipped"}
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@globex.com", "li@initech.com"]
    ana_mail = next(m for m in mail.outbox if m.to == ["ana@globex.com"])
    assert "SSO" in ana_mail.body and "Audit log" in ana_mail.body and "unsubscribe" in ana_mail.body.lower()
    assert services.ideas_shipped_mail(idea_ids=[sso.id, audit.id]) == 0  # nobody twice
    assert ShippedMail.objects.count() == 4  # (ana, li) x (SSO, audit log): the highlight names the epic of both
    token_url = ana_mail.extra_headers["List-Unsubscribe"].strip("<>")
    path = "/" + token_url.split("://", 1)[1].split("/", 1)[1]
    from django.test import Client

    assert Client().post(path).status_code == 200
    assert Visitor.objects.get(pk=ana.pk).unsubscribed


def test_release_notes_on_the_portal_and_in_atom(client, admin, product, portal):
    services.release_note_create(user=admin, portal=portal, title="2.0 is out", body="SSO & audit log <b>now</b>")
    page = client.get(reverse("portal:releases", kwargs={"slug": portal.slug})).content.decode()
    assert "2.0 is out" in page and "<b>now</b>" not in page
    feed = client.get(reverse("portal:feed", kwargs={"slug": portal.slug}))
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert b"<title>2.0 is out</title>" in feed.content


def test_pm_curates_on_the_idea_page(client_as, editor, viewer, workspace, product, portal):
    idea = Idea.objects.create(product=product, title="Slack alerts")
    epic = Epic.objects.create(product=product, title="Alerts")
    url = reverse("discovery:idea", kwargs={"ws": workspace.slug, "product_id": product.id, "idea_id": idea.id})
    assert client_as(viewer).post(url, {"title": "Pwned", "status": "planned", "version": 1}).status_code == 403
    response = client_as(editor).post(url, {"title": "Slack alerts", "status": "planned", "published": "on",
                                            "epics": [epic.id], "version": idea.version})
    assert response.status_code == 302
    idea.refresh_from_db()
    assert (idea.status, idea.published, list(idea.epics.all())) == ("planned", True, [epic])
    roadmap = client_as(editor).get(reverse("portal:roadmap", kwargs={"slug": portal.slug})).content.decode()
    assert "Slack alerts" in roadmap


@pytest.mark.parametrize("size", [5, 40])
def test_ideas_page_lists_by_demand_in_a_fixed_number_of_queries(client_as, viewer, workspace, product, portal,
                                                                 size, django_assert_max_num_queries):
    for n in range(size):
        Idea.objects.create(product=product, title=f"Idea {n}", demand=n, published=True)
    url = reverse("discovery:ideas", kwargs={"ws": workspace.slug, "product_id": product.id})
    with django_assert_max_num_queries(28):  # the same at both sizes (the add-idea form's lists included)
        html = client_as(viewer).get(url).content.decode()
    assert html.index(f"Idea {size - 1}<") < html.index("Idea 3<")


def test_portal_settings_need_an_admin(client_as, editor, admin, workspace, product):
    url = reverse("discovery:portal", kwargs={"ws": workspace.slug, "product_id": product.id})
    body = {"enabled": "on", "name": "Ideas", "slug": "acme-ideas", "colour": "#112233"}
    assert client_as(editor).post(url, body).status_code == 403
    assert not Portal.objects.exists()
    assert client_as(admin).post(url, body).status_code == 302
    assert Portal.objects.get().slug == "acme-ideas"


def test_visitor_unvotes(admin, product, portal):
    idea = services.idea_create(user=admin, product=product, data={"title": "Exports", "published": True})
    visitor = Visitor.objects.create(portal=portal, email="a@b.co")
    services.idea_vote(visitor=visitor, idea=idea, importance=2)
    services.idea_unvote(visitor=visitor, idea=idea)
    idea.refresh_from_db()
    assert idea.vote_count == 0 and not Vote.objects.exists()


def test_portal_settings_outsider_404_viewer_403(client_as, outsider, viewer, workspace, product):
    url = reverse("discovery:portal", kwargs={"ws": workspace.slug, "product_id": product.id})
    body = {"enabled": "on", "name": "Ideas", "slug": "pwned", "colour": "#112233"}
    assert client_as(outsider).get(url).status_code == 404
    assert client_as(outsider).post(url, body).status_code == 404
    assert client_as(viewer).get(url).status_code == 403
    assert client_as(viewer).post(url, body).status_code == 403
    assert not Portal.objects.exists()


def test_most_requested_in_a_segment(client_as, viewer, admin, workspace, product, portal, segment):
    CompanyFactory(product=product, domain="globex.com", segment=segment, revenue=Decimal("500000"))
    sso = services.idea_create(user=admin, product=product, data={"title": "SSO for enterprise", "published": True})
    dark = services.idea_create(user=admin, product=product, data={"title": "Dark mode", "published": True})
    services.idea_vote(visitor=Visitor.objects.create(portal=portal, email="ana@Globex.com"), idea=sso, importance=3)
    services.idea_vote(visitor=Visitor.objects.create(portal=portal, email="bo@gmail.com"), idea=dark, importance=3)
    url = reverse("discovery:ideas", kwargs={"ws": workspace.slug, "product_id": product.id})
    html = client_as(viewer).get(url, {"segment": segment.id}).content.decode()
    assert "SSO for enterprise" in html and "Dark mode" not in html
    everyone = client_as(viewer).get(url).content.decode()
    assert everyone.index("SSO for enterprise") < everyone.index("Dark mode")  # revenue-weighted demand


def test_revenue_change_recomputes_idea_demand_in_the_worker(admin, product, portal,
                                                            django_capture_on_commit_callbacks):
    company = CompanyFactory(product=product, domain="globex.com")
    idea = services.idea_create(user=admin, product=product, data={"title": "SSO", "published": True})
    services.idea_vote(visitor=Visitor.objects.create(portal=portal, email="a@globex.com"), idea=idea, importance=1)
    idea.refresh_from_db()
    assert idea.demand == Decimal("1.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.company_update(user=admin, company=company, data={"revenue": Decimal("990000")},
                                version=company.version)
    idea.refresh_from_db()
    assert idea.demand == Decimal("3.00")


def test_adoption_among_askers_beside_everyone(client_as, viewer, admin, workspace, product, portal):
    from datetime import datetime

    from adoption.models import Feature, UsageEvent
    from metrics.models import Kpi

    epic = Epic.objects.create(product=product, title="SSO")
    kpi = Kpi.objects.create(product=product, name="SSO adoption")
    kpi.epics.add(epic)
    Feature.objects.create(product=product, key="sso.login", kpi=kpi)
    CompanyFactory(product=product, domain="globex.com", external_id="crm-1")
    CompanyFactory(product=product, domain="initech.com", external_id="crm-2")
    idea = services.idea_create(user=admin, product=product, data={"title": "SSO", "published": True,
                                                                   "epics": [epic]})
    for email in ("a@globex.com", "b@initech.com"):
        services.idea_vote(visitor=Visitor.objects.create(portal=portal, email=email), idea=idea, importance=2)
    shipped = datetime(2026, 11, 1, tzinfo=UTC)
    Idea.objects.filter(pk=idea.pk).update(status="shipped", shipped_at=shipped)
    at = datetime(2026, 11, 5, tzinfo=UTC)
    rows = [("e1", "sso.login", "crm-1"), ("e2", "dashboards", "crm-2"), ("e3", "sso.login", "crm-9"),
            ("e4", "dashboards", "crm-8"), ("e5", "dashboards", "crm-7"), ("e6", "sso.login", None)]
    for event_id, feature, company in rows:
        UsageEvent.objects.create(product=product, event_id=event_id, feature_key=feature, actor="u",
                                  occurred_at=at, properties={"company": company} if company else {})
    from discovery.selectors import askers_adoption

    figures = askers_adoption(idea=Idea.objects.get(pk=idea.pk))
    assert (figures["askers_percent"], figures["askers_adopted"], figures["askers_seen"]) == (50.0, 1, 2)
    assert (figures["everyone_percent"], figures["everyone_adopted"], figures["everyone"]) == (40.0, 2, 5)
    url = reverse("discovery:idea", kwargs={"ws": workspace.slug, "product_id": product.id, "idea_id": idea.id})
    html = client_as(viewer).get(url).content.decode()
    assert "50% (1 of 2 seen)" in html and "40% (2 of 5)" in html
