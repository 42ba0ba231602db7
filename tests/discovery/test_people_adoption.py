"""Did the PEOPLE who asked adopt it? (decision 1614) Per person beside per company, on a shipped
idea's page and on adoption's outcome review: an event's person is `properties.person` when given,
else its actor; the askers are people of the product with an external id who voted (by e-mail) or
wrote an insight highlighted for the work. Figures by hand."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from adoption.models import Feature, OutcomeReview, UsageEvent
from backlog.models import Epic, Story
from discovery import services
from discovery.models import Highlight, Idea, Portal, Visitor
from discovery.selectors import askers_adoption, outcome_askers_adoption
from metrics.models import Kpi

from .factories import InsightFactory, PersonFactory

pytestmark = pytest.mark.django_db
SHIPPED = datetime(2026, 9, 1, 12, tzinfo=UTC)


@pytest.fixture
def asked(admin, product):
    """Epic SSO (story SAML) shipped; its idea voted for by ana (person p-ana) and by an unknown
    visitor; an insight by bo (p-bo) highlighted for the epic, one by cy (no external id) for its story."""
    kpi = Kpi.objects.create(product=product, name="SSO logins", current_value=Decimal("1"),
                             current_at=SHIPPED.date())
    epic = Epic.objects.create(product=product, title="SSO")
    kpi.epics.add(epic)
    story = Story.objects.create(product=product, title="SAML", epic=epic)
    OutcomeReview.objects.create(product=product, epic=epic, kpi=kpi, released_at=SHIPPED)
    Feature.objects.create(product=product, key="sso.login", kpi=kpi)
    PersonFactory(product=product, email="ana@globex.example", external_id="p-ana")
    bo = PersonFactory(product=product, email="bo@initech.example", external_id="p-bo")
    cy = PersonFactory(product=product, email="cy@initech.example", external_id="")
    Highlight.objects.create(insight=InsightFactory(product=product, person=bo), passage="x", epic=epic)
    Highlight.objects.create(insight=InsightFactory(product=product, person=cy), passage="x", story=story)
    portal = Portal.objects.create(product=product, slug="acme", name="Acme", enabled=True)
    idea = services.idea_create(user=admin, product=product, data={"title": "SSO", "published": True,
                                                                   "epics": [epic]})
    for email in ("ana@globex.example", "zed@nowhere.example"):
        services.idea_vote(visitor=Visitor.objects.create(portal=portal, email=email), idea=idea, importance=2)
    Idea.objects.filter(pk=idea.pk).update(status="shipped", shipped_at=SHIPPED)
    after, before = SHIPPED + timedelta(days=2), SHIPPED - timedelta(days=2)
    events = [
        ("p-ana", {}, "sso.login", after),                      # ana adopted (her id as the event's user)
        ("device-9", {"person": "p-bo"}, "reports.view", after),  # bo seen (named by properties.person), not adopted
        ("p-bo", {}, "sso.login", before),                      # before shipping: not adoption
        ("u1", {}, "sso.login", after),                         # others: u1 adopted, u2 and u3 seen
        ("u2", {}, "reports.view", after),
        ("u3", {"person": ""}, "reports.view", after),
    ]
    for n, (actor, properties, key, when) in enumerate(events):
        UsageEvent.objects.create(product=product, event_id=f"e{n}", feature_key=key, actor=actor,
                                  occurred_at=when, properties=properties)
    return Idea.objects.get(pk=idea.pk)


def test_idea_people_adoption_by_hand(asked, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        figures = askers_adoption(idea=asked)
    # People who asked: p-ana (voter) and p-bo (highlighted insight); cy has no external id, zed is no person.
    # Seen since shipping: both; adopted: p-ana -> 1 of 2 = 50 %.
    assert (figures["people"], figures["people_seen"], figures["people_adopted"], figures["people_percent"]) == (
        2, 2, 1, 50.0)
    # Everyone seen since shipping: p-ana, p-bo, u1, u2, u3 (a blank person is its user); adopted p-ana, u1.
    assert (figures["everyone_people"], figures["everyone_people_adopted"], figures["everyone_people_percent"]) == (
        5, 2, 40.0)


def test_outcome_review_people_adoption_by_hand(product, asked, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        [row] = outcome_askers_adoption(product=product)
    assert (row["people"], row["people_seen"], row["people_adopted"], row["people_percent"]) == (2, 2, 1, 50.0)
    assert (row["everyone_people"], row["everyone_people_adopted"], row["everyone_people_percent"]) == (5, 2, 40.0)


def test_pages_show_people_beside_companies(client_as, viewer, workspace, product, asked):
    kw = {"ws": workspace.slug, "product_id": product.id}
    idea_page = client_as(viewer).get(reverse("discovery:idea", kwargs=kw | {"idea_id": asked.id})).content.decode()
    assert "People who asked" in idea_page and "50% (1 of 2 seen)" in idea_page and "40% (2 of 5 people)" in idea_page
    outcomes = client_as(viewer).get(reverse("outcomes", kwargs=kw)).content.decode()
    assert "1 of 2 people seen" in outcomes and "2 of 5 people" in outcomes


def test_outcome_queries_do_not_grow_with_reviews(product, asked, django_assert_max_num_queries):
    kpi = Kpi.objects.get(product=product)
    for n in range(4):
        epic = Epic.objects.create(product=product, title=f"E{n}")
        OutcomeReview.objects.create(product=product, epic=epic, kpi=kpi, released_at=SHIPPED + timedelta(days=n))
    with django_assert_max_num_queries(10):
        rows = outcome_askers_adoption(product=product)
    assert len(rows) == 5 and all(r["people"] == 0 for r in rows if r["review"].epic.title.startswith("E"))
