"""Query counts of the main backlog endpoints and pages are fixed: the same number of queries with
10 stories as with 120 (related epics, assignees, labels and scores on every row), so a per-row
query (N+1) fails here whatever the budget, and pages stay within their budget. Issue 23,
targets 2 and 3."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog.models import Epic, Story

from .factories import make_stories

pytestmark = pytest.mark.django_db
RICE = {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}
SIZES = (10, 120)


def _fill(product, n, admin, editor):
    epics = [Epic.objects.create(product=product, title=f"Epic {i}") for i in range(3)]
    make_stories(product, n, actor=admin, score_inputs=RICE, labels=["ux", "api"])
    ids = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    for i, story_id in enumerate(ids):
        Story.objects.filter(pk=story_id).update(epic=epics[i % 3], assignee=(admin, editor)[i % 2])
    return ids


def _count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code in (200, 201), response.content[:300]
    return len(queries.captured_queries)


def _api_calls(api_as, admin, editor, workspace, n) -> dict:
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name=f"Product {n}")
    ids = _fill(product, n, admin, editor)
    client = api_as(admin)
    client.get(f"/api/v1/stories/?product={product.id}")
    return {
        "list": lambda i: client.get(f"/api/v1/stories/?product={product.id}&page_size=200"),
        "get": lambda i: client.get(f"/api/v1/stories/{ids[i]}/"),
        "move": lambda i: client.post(f"/api/v1/stories/{ids[-1 - i]}/move/", {"before": ids[0]}, format="json"),
        "create": lambda i: client.post("/api/v1/stories/", {"product": product.id, "title": f"New {i}"},
                                        format="json"),
    }


def _api_count(api_as, admin, editor, workspace, n, endpoint) -> int:
    calls = _api_calls(api_as, admin, editor, workspace, n)
    _count(lambda: calls[endpoint](1))  # warm the process caches (content types, ...)
    return _count(lambda: calls[endpoint](2))


def _iteration_of(product, ids, admin) -> int:
    from delivery import services as delivery_services

    iteration = delivery_services.iteration_create(actor=admin, product=product, name="Sprint", start_date=START,
                                                   end_date=START + timedelta(days=13), capacity_points=20)
    for story_id in ids[: len(ids) // 2]:  # half planned: both columns grow with the rows
        delivery_services.iteration_add_story(actor=admin, iteration=iteration, story_id=story_id)
    return iteration.id


START = date(2026, 11, 30)
# page -> (its path under the product from (product, story ids, admin), at most this many queries).
# Issue 23, target 3: fixed per page whatever the number of rows.
PAGES = {
    "backlog": (lambda product, ids, admin: "backlog/", 8),
    "status board": (lambda product, ids, admin: "backlog/board/", 5),
    "story": (lambda product, ids, admin: f"backlog/stories/{ids[len(ids) // 2]}/", 14),
    "iteration": (lambda product, ids, admin: f"iterations/{_iteration_of(product, ids, admin)}/", 11),
    "iteration backlog chunk": (lambda product, ids, admin:
                                f"iterations/{_iteration_of(product, ids, admin)}/backlog/?offset=5", 6),
}


def _page_count(client_as, admin, editor, workspace, n, page) -> int:
    from roadmaps.models import Product

    product = Product.objects.create(workspace=workspace, name=f"Product {n}")
    ids = _fill(product, n, admin, editor)
    client = client_as(admin)
    url = f"/w/{workspace.slug}/products/{product.id}/{PAGES[page][0](product, ids, admin)}"
    client.get(url)  # warm the session and the per-user caches
    return _count(lambda: client.get(url))


@pytest.mark.parametrize("endpoint", ["list", "get", "move", "create"])
def test_api_query_counts_do_not_grow_with_rows(api_as, admin, editor, workspace, endpoint):
    small, large = (_api_count(api_as, admin, editor, workspace, n, endpoint) for n in SIZES)
    assert small == large, f"{endpoint}: {small} queries with {SIZES[0]} stories, {large} with {SIZES[1]}"


# The budgets of issue 23 (savepoints included; decisions 1960-1963). list: the page (values() rows).
# get: the story with product, workspace, scoring model, criteria and who asked (one query). move:
# savepoint; [commit mode, product lock, the story with its product and the anchor and neighbour
# ranks] in one round trip; [the update, activity] in one; release. create: savepoint; [lock, the
# product with settings and scoring model, the last rank and the new id]; [the insert, status
# event, activity, the normalised columns read back]; release (decisions 2200-2201: the story's and
# the product's reads folded into the first batch). Custom fields and subscriber lookups
# (webhooks, channels, Jira) come from the cache (pmhub/subscribers.py).
BUDGETS = {"list": 1, "get": 1, "move": 4, "create": 4}


@pytest.mark.parametrize("endpoint", list(BUDGETS))
def test_api_query_budgets_at_two_sizes(api_as, admin, editor, workspace, endpoint, django_assert_max_num_queries):
    for n in SIZES:
        calls = _api_calls(api_as, admin, editor, workspace, n)
        calls[endpoint](1)  # warm the process caches (content types, subscriber summaries, ...)
        with django_assert_max_num_queries(BUDGETS[endpoint]):
            response = calls[endpoint](2)
        assert response.status_code in (200, 201), response.content[:300]


@pytest.mark.parametrize("page", list(PAGES))
@time_machine.travel(datetime(2026, 12, 2, 9, tzinfo=UTC), tick=False)
def test_page_query_counts_do_not_grow_with_rows(client_as, admin, editor, workspace, page):
    small, large = (_page_count(client_as, admin, editor, workspace, n, page) for n in SIZES)
    assert small == large, f"{page}: {small} queries with {SIZES[0]} stories, {large} with {SIZES[1]}"
    assert large <= PAGES[page][1], f"{page}: {large} queries, budget {PAGES[page][1]}"
