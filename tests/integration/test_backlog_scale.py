"""A backlog of 20,000 stories: the importer path inserts them in bulk, the page renders the
first 50 rows with the same fixed number of queries and offers to load more on scroll."""

import pytest
from django.urls import reverse

from backlog import services
from backlog.models import Story
from pmhub.models import Membership, Role, User, Workspace
from roadmaps.models import Product
from tests.services import on_postgres, require

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_twenty_thousand_stories_first_page(client, django_assert_max_num_queries, settings):
    require(on_postgres(), "PostgreSQL")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ws = Workspace.objects.create(name="Acme", slug="acme")
    pm = User.objects.create(email="pm@acme.test")
    Membership.objects.create(user=pm, workspace=ws, role=Role.EDITOR)
    product = Product.objects.create(workspace=ws, name="Big")
    rows = [{"title": f"Story {i}", "score_inputs": {"reach": i, "impact": 1, "confidence": 100, "effort": 1}}
            for i in range(20_000)]
    services.stories_bulk_create(actor=pm, product=product, stories=rows)
    assert Story.objects.filter(product=product).count() == 20_000
    ranks = list(Story.objects.filter(product=product).values_list("rank", flat=True))
    assert len(set(ranks)) == 20_000 and max(len(r) for r in ranks) <= 5
    client.force_login(pm)
    url = reverse("backlog:list", kwargs={"ws": "acme", "product_id": product.id})
    with django_assert_max_num_queries(16):
        response = client.get(url + "?sort=-score")
    assert response.content.count(b'data-testid="story-row"') == 50
    assert b'hx-trigger="revealed"' in response.content
    assert response.context["stories"][0].title == "Story 19999"
    more = client.get(reverse("backlog:rows", kwargs={"ws": "acme", "product_id": product.id})
                      + "?sort=-score&offset=19950")
    assert more.content.count(b'data-testid="story-row"') == 50
