"""A backlog of 20,000 stories (inserted with one SQL statement to keep the suite fast; the
importer path is covered in tests/backlog): the page renders the first 50 rows with the same
fixed number of queries, offers to load more on scroll, and a move is still one UPDATE."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
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
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO backlog_story (product_id, title, as_a, i_want, so_that, description, status, labels,"
            " rank, score_inputs, score, moscow, kano, demand, custom_values, version, created_at, updated_at)"
            " SELECT %s, 'Story ' || i, '', '', '', '', 'idea', '[]'::jsonb, 'n' || lpad(i::text, 5, '0') || '1',"
            " '{}'::jsonb, i, '', '', 0, '{}'::jsonb, 1, now(), now() FROM generate_series(0, 19999) AS i",
            [product.id])
    assert Story.objects.filter(product=product).count() == 20_000
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
    last, first = Story.objects.get(title="Story 19999"), Story.objects.get(title="Story 0")
    with CaptureQueriesContext(connection) as ctx:
        services.story_move(actor=pm, story=last, before=first.id)
    assert sum(1 for q in ctx.captured_queries if q["sql"].startswith('UPDATE "backlog_story"')) == 1
    assert Story.objects.filter(product=product).order_by("rank").first().id == last.id
