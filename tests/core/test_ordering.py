"""One ordering rule (pmhub/ordering.py): items without the figure come last in both directions,
on the page and in the API alike, and an unknown `?ordering=` is a 400 naming the allowed values
on every API list that accepts one."""

import pytest
from django.urls import reverse

from adoption.selectors import SORTS as ADOPTION_SORTS
from backlog import selectors, services
from pmhub.api.ordering import OrderingFilter
from pmhub.api.urls import router
from pmhub.ordering import nulls_last_key
from roadmaps.models import Product
from tests.backlog.factories import make_stories

pytestmark = pytest.mark.django_db

RICE = {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}
ORDERED_VIEWSETS = [(prefix, viewset, basename) for prefix, viewset, basename in router.registry
                    if OrderingFilter in getattr(viewset, "filter_backends", [])]


@pytest.fixture
def product(workspace):
    return Product.objects.create(workspace=workspace, name="Acme Analytics")


@pytest.fixture
def mixed(product, admin):
    """Six stories: three scored (reach 10, 30, 20) and estimated, three neither, interleaved in rank."""
    stories = make_stories(product, 6, actor=admin)
    for story, reach, points in zip(stories, [10, None, 30, None, 20, None], [3, None, 8, None, 5, None], strict=True):
        if reach is not None:
            services.story_update(actor=admin, story=story, version=None,
                                  data={"score_inputs": {**RICE, "reach": reach}, "points": points})
    return stories


def _api_titles(client, product, ordering) -> list[str]:
    """Every page of the cursor-paginated list, two at a time (so the cursor crosses the missing ones)."""
    titles, url = [], f"/api/v1/stories/?product={product.id}&ordering={ordering}&page_size=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        titles += [s["title"] for s in response.json()["results"]]
        url = response.json()["next"]
    return titles


def _page_titles(product, sort) -> list[str]:
    return list(selectors.stories_for_backlog(product=product, params={"sort": sort}).values_list("title", flat=True))


def test_unscored_stories_come_last_lowest_first(api, admin, product, mixed):
    api.force_authenticate(admin)
    assert _api_titles(api, product, "score") == ["Story 1", "Story 5", "Story 3", "Story 2", "Story 4", "Story 6"]


def test_unscored_stories_come_last_highest_first(api, admin, product, mixed):
    api.force_authenticate(admin)
    assert _api_titles(api, product, "-score") == ["Story 3", "Story 5", "Story 1", "Story 2", "Story 4", "Story 6"]


@pytest.mark.parametrize("name", selectors.STORY_ORDERINGS.names())
def test_the_api_and_the_page_give_the_same_order(api, admin, product, mixed, name):
    api.force_authenticate(admin)
    assert _api_titles(api, product, name) == _page_titles(product, name)


def test_the_page_offers_the_same_orderings_as_the_api(client_as, admin, product):
    response = client_as(admin).get(reverse("backlog:list", kwargs={"ws": product.workspace.slug,
                                                                    "product_id": product.id}))
    offered = [value for value, _ in response.context["sort_choices"] if "cf_" not in value]
    assert sorted(offered) == sorted(selectors.STORY_ORDERINGS.names())


def test_the_backlog_page_lists_unscored_stories_last(client_as, admin, product, mixed):
    response = client_as(admin).get(reverse("backlog:list", kwargs={"ws": product.workspace.slug, "product_id": product.id}) + "?sort=score")
    body = response.content.decode()
    positions = [body.index(f">Story {n}<") for n in (1, 5, 3, 2, 4, 6)]
    assert positions == sorted(positions)


def test_there_is_an_api_list_with_an_ordering_filter():
    # The generated tests below would pass vacuously without one.
    assert [prefix for prefix, _, _ in ORDERED_VIEWSETS] == ["stories", "companies", "insights", "ideas"]


@pytest.mark.parametrize("prefix,viewset,basename", ORDERED_VIEWSETS, ids=[p for p, _, _ in ORDERED_VIEWSETS])
def test_an_unknown_ordering_is_a_400_naming_the_allowed_values(api, admin, prefix, viewset, basename):
    api.force_authenticate(admin)
    response = api.get(reverse(f"{basename}-list") + "?ordering=priority")
    assert response.status_code == 400
    message = str(response.json())
    assert "ordering" in message
    assert all(name in message for name in viewset.orderings.names())


@pytest.mark.parametrize("prefix,viewset,basename", ORDERED_VIEWSETS, ids=[p for p, _, _ in ORDERED_VIEWSETS])
def test_every_allowed_ordering_is_accepted(api, admin, product, mixed, prefix, viewset, basename):
    api.force_authenticate(admin)
    for name in viewset.orderings.names():
        assert api.get(reverse(f"{basename}-list") + f"?ordering={name}").status_code == 200, name


def test_the_schema_lists_the_allowed_orderings(api, admin):
    api.force_authenticate(admin)
    schema = api.get("/api/schema/?format=json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/stories/"]["get"]["parameters"]}
    assert params["ordering"]["schema"]["enum"] == selectors.STORY_ORDERINGS.names()


def test_lists_sorted_in_python_put_missing_figures_last_both_ways():
    values = [2, None, 5, 1]
    assert sorted(values, key=lambda v: nulls_last_key(v, descending=False)) == [1, 2, 5, None]
    assert sorted(values, key=lambda v: nulls_last_key(v, descending=True)) == [5, 2, 1, None]
    rows = [{"percent": p, "trend": None, "feature": type("F", (), {"label": n})()}
            for p, n in ((None, "a"), (40, "b"), (90, "c"))]
    assert [r["feature"].label for r in sorted(rows, key=ADOPTION_SORTS["adoption"])] == ["c", "b", "a"]
    assert [r["feature"].label for r in sorted(rows, key=ADOPTION_SORTS["-adoption"])] == ["b", "c", "a"]
