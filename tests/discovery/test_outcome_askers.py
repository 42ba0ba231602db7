"""Adoption among the companies that asked, beside adoption among everyone, on adoption's outcome
review page (issue #16 item 7): a discovery panel in adoption's page (pmhub.panels). Figures by hand."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from adoption.models import Feature, OutcomeReview, UsageEvent
from backlog.models import Epic, Story
from discovery import services
from discovery.models import Highlight, Portal, Visitor
from discovery.selectors import outcome_askers_adoption
from metrics.models import Kpi

from .factories import CompanyFactory, InsightFactory

pytestmark = pytest.mark.django_db
RELEASED = datetime(2026, 9, 1, 12, tzinfo=UTC)


@pytest.fixture
def reviewed(admin, product):
    kpi = Kpi.objects.create(product=product, name="Weekly SSO logins", current_value=Decimal("10"),
                             current_at=RELEASED.date())
    epic = Epic.objects.create(product=product, title="Single sign-on")
    story = Story.objects.create(product=product, title="SAML", epic=epic)
    OutcomeReview.objects.create(product=product, epic=epic, kpi=kpi, released_at=RELEASED)
    Feature.objects.create(product=product, key="sso.login", kpi=kpi)
    companies = {x: CompanyFactory(product=product, external_id=x, domain=f"{x}.example") for x in "abcdef"}
    # Askers: a (insight highlighted for the epic), b (for its story), c (voted for a linked idea).
    Highlight.objects.create(insight=InsightFactory(product=product, company=companies["a"]), passage="x", epic=epic)
    Highlight.objects.create(insight=InsightFactory(product=product, company=companies["b"]), passage="x", story=story)
    portal = Portal.objects.create(product=product, slug="acme", name="Acme", enabled=True)
    idea = services.idea_create(user=admin, product=product, data={"title": "SSO", "published": True, "epics": [epic]})
    services.idea_vote(visitor=Visitor.objects.create(portal=portal, email="li@c.example"), idea=idea, importance=3)
    n = 0

    def event(company, key, when):
        nonlocal n
        n += 1
        UsageEvent.objects.create(product=product, event_id=f"e{n}", feature_key=key, actor="u",
                                  occurred_at=when, properties={"company": company})

    after, before = RELEASED + timedelta(days=3), RELEASED - timedelta(days=3)
    event("a", "sso.login", after)
    event("b", "reports.view", after)
    event("b", "sso.login", before)  # before the release: not adoption
    event("d", "sso.login", after)
    event("e", "reports.view", after)
    event("f", "reports.view", after)
    return epic


def test_askers_adoption_beside_everyone_by_hand(product, reviewed, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):  # seven for companies, three for people (decision 1614)
        rows = outcome_askers_adoption(product=product)
    [row] = rows
    # Askers a, b, c; seen since the release: a, b (c sent nothing); adopted: a -> 1 of 2 = 50 %.
    assert (row["askers"], row["askers_seen"], row["askers_adopted"], row["askers_percent"]) == (3, 2, 1, 50.0)
    # Everyone seen since the release: a, b, d, e, f; adopted: a, d -> 2 of 5 = 40 %.
    assert (row["everyone"], row["everyone_adopted"], row["everyone_percent"]) == (5, 2, 40.0)
    assert row["features"] == ["sso.login"]


def test_outcomes_page_shows_the_askers_panel(client_as, viewer, workspace, product, reviewed):
    url = reverse("outcomes", kwargs={"ws": workspace.slug, "product_id": product.id})
    page = client_as(viewer).get(url).content.decode()
    assert 'data-testid="askers-adoption-row"' in page
    assert "50 %" in page and "40 %" in page and "1 of 2 companies seen" in page


def test_outcomes_page_without_reviews_explains(client_as, viewer, workspace, product):
    url = reverse("outcomes", kwargs={"ws": workspace.slug, "product_id": product.id})
    assert "No shipped epic with a measured feature yet" in client_as(viewer).get(url).content.decode()
