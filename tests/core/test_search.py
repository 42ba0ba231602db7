"""Search (pmhub.search): ranking, scoping per registered kind, the API's answers, bounded queries."""

import itertools

import pytest
from django.db import connection
from django.urls import reverse

from discovery.models import Idea
from pmhub.models import Role
from pmhub.search import search, search_tsquery, search_words, searchables
from tests.delivery.factories import EpicFactory, StoryFactory
from tests.discovery.factories import CompanyFactory, InsightFactory
from tests.factories import MembershipFactory, UserFactory
from tests.governance.factories import RiskFactory
from tests.metrics.factories import KpiFactory
from tests.roadmaps.factories import InitiativeFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _product(workspace):
    return ProductFactory(workspace=workspace, name="Checkout")


_people = itertools.count()

# One maker per registered kind: an object in `workspace` whose title holds `word`.
MAKERS = {
    "product": lambda ws, word: ProductFactory(workspace=ws, name=f"{word} product"),
    "initiative": lambda ws, word: InitiativeFactory(product=_product(ws), title=f"{word} initiative"),
    "epic": lambda ws, word: EpicFactory(product=_product(ws), title=f"{word} epic"),
    "story": lambda ws, word: StoryFactory(product=_product(ws), title=f"{word} story"),
    "kpi": lambda ws, word: KpiFactory(product=_product(ws), name=f"{word} rate"),
    "risk": lambda ws, word: RiskFactory(product=_product(ws), title=f"{word} risk"),
    "company": lambda ws, word: CompanyFactory(product=_product(ws), name=f"{word} Industries"),
    "idea": lambda ws, word: Idea.objects.create(product=_product(ws), title=f"{word} idea", published=True),
    "insight": lambda ws, word: InsightFactory(product=_product(ws), title=f"{word} request",
                                               text="Please add exports."),
    "person": lambda ws, word: MembershipFactory(workspace=ws, role=Role.VIEWER,
                                                 user=UserFactory(email=f"{word}.{next(_people)}@example.test",
                                                                   name=f"{word} Person")),
}


def test_every_registered_kind_has_a_maker_in_this_test():
    assert {s.kind for s in searchables()} == set(MAKERS)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_each_kind_is_found_in_the_users_workspace_and_never_in_another(kind, workspace, other_workspace, viewer):
    MAKERS[kind](workspace, "zanzibar")
    MAKERS[kind](other_workspace, "zanzibar")

    hits = [h for h in search(user=viewer, q="zanzibar") if h.kind == kind]

    assert len(hits) == 1
    assert "/globex/" not in hits[0].url and "Globex" not in hits[0].subtitle
    assert "/acme/" in hits[0].url


def test_a_title_match_ranks_above_a_description_match(workspace, viewer):
    product = ProductFactory(workspace=workspace)
    StoryFactory(product=product, title="Export invoices", description="Customers asked for invoices as PDF.")
    StoryFactory(product=product, title="Billing page", description="Shows the latest invoices.")

    titles = [h.title for h in search(user=viewer, q="invoices", kinds=["story"])]

    assert titles == ["Export invoices", "Billing page"]


def test_the_last_word_matches_as_a_prefix_and_every_word_must_match(workspace, viewer):
    product = ProductFactory(workspace=workspace)
    StoryFactory(product=product, title="Roadmap timeline zoom")
    StoryFactory(product=product, title="Roadmap sharing")

    assert [h.title for h in search(user=viewer, q="roadmap tim", kinds=["story"])] == ["Roadmap timeline zoom"]


def test_a_deleted_products_work_is_not_found(workspace, viewer):
    from django.utils import timezone

    product = ProductFactory(workspace=workspace, deleted_at=timezone.now())
    StoryFactory(product=product, title="Gone story")

    assert search(user=viewer, q="gone") == []


def test_operators_and_punctuation_never_make_a_broken_query(workspace, viewer):
    StoryFactory(product=ProductFactory(workspace=workspace), title="Import from CSV")

    for q in ["csv & | ! ( :*", "'csv'", "csv:*", "\\csv", "import   csv!!"]:
        assert [h.title for h in search(user=viewer, q=q, kinds=["story"])] == ["Import from CSV"], q


def test_tsquery_text_is_words_only():
    assert search_words("Plan & road:* (x)") == ["plan", "road", "x"]
    assert search_tsquery(["plan", "road"]) == "plan & road:*"


def test_one_query_per_kind_at_most(workspace, viewer, django_assert_max_num_queries):
    for make in MAKERS.values():
        for _ in range(3):
            make(workspace, "quokka")

    with django_assert_max_num_queries(len(MAKERS) + 1):  # + the user's memberships
        hits = search(user=viewer, q="quokka", per_kind=2)

    assert {h.kind for h in hits} == set(MAKERS)
    assert all(sum(1 for h in hits if h.kind == k) <= 2 for k in MAKERS)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index exists on PostgreSQL only")
def test_the_story_search_matches_with_the_expression_of_its_gin_index(workspace, viewer):
    """The WHERE of the search is the GIN index's expression, so PostgreSQL can use the index (the
    planner picks it at bench scale; on a near-empty table only when scans are off)."""
    from django.contrib.postgres.search import SearchQuery

    from backlog.models import Story
    from pmhub.search import search_vector

    qs = (Story.objects.annotate(_document=search_vector(("title", "description")))
          .filter(_document=SearchQuery("invoice:*", search_type="raw", config="english")))
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = qs.explain()
        finally:
            cursor.execute("SET enable_seqscan = on")
    assert "backlog_story_search_gin" in plan, plan


# --- the API -----------------------------------------------------------------------------------

def test_api_returns_ranked_typed_hits(workspace, viewer, api_as):
    product = ProductFactory(workspace=workspace, name="Mobile app")
    StoryFactory(product=product, title="Offline mode", description="Works without network.")

    response = api_as(viewer).get("/api/v1/search/", {"q": "offline"})

    assert response.status_code == 200
    assert response.json() == [{
        "kind": "story", "label": "Story", "title": "Offline mode", "subtitle": "Mobile app",
        "url": reverse("backlog:story", kwargs={"ws": "acme", "product_id": product.id,
                                                "story_id": product.stories.get().id}),
        "rank": response.json()[0]["rank"],
    }]


def test_api_filters_by_kind_and_limits_per_kind(workspace, viewer, api_as):
    product = ProductFactory(workspace=workspace)
    for n in range(4):
        StoryFactory(product=product, title=f"Pricing story {n}")
    EpicFactory(product=product, title="Pricing epic")

    response = api_as(viewer).get("/api/v1/search/?q=pricing&kind=story&limit=3")

    assert response.status_code == 200
    assert [h["kind"] for h in response.json()] == ["story"] * 3


@pytest.mark.parametrize("params, field", [
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "!!! ::"}, "q"),
    ({"q": "x" * 101}, "q"),
    ({"q": "ok", "limit": 0}, "limit"),
    ({"q": "ok", "kind": "planet"}, "kind"),
    ({}, "q"),
])
def test_api_rejects_bad_queries_with_a_field_error(params, field, viewer, api_as):
    response = api_as(viewer).get("/api/v1/search/", params)

    assert response.status_code == 400
    assert field in str(response.json())


def test_api_never_shows_another_workspaces_items(workspace, other_workspace, outsider, viewer, api_as):
    StoryFactory(product=ProductFactory(workspace=workspace), title="Secret acme plan")

    assert api_as(outsider).get("/api/v1/search/", {"q": "secret"}).json() == []
    assert len(api_as(viewer).get("/api/v1/search/", {"q": "secret"}).json()) == 1


def test_api_token_sees_only_its_own_workspace(workspace, other_workspace, viewer, api_as):
    MembershipFactory(user=viewer, workspace=other_workspace, role=Role.ADMIN)
    StoryFactory(product=ProductFactory(workspace=workspace), title="Acme tundra")
    StoryFactory(product=ProductFactory(workspace=other_workspace), title="Globex tundra")

    titles = [h["title"] for h in api_as(viewer, workspace=workspace).get("/api/v1/search/?q=tundra").json()]

    assert titles == ["Acme tundra"]


def test_api_refuses_anonymous_callers(api):
    assert api.get("/api/v1/search/", {"q": "x"}).status_code in (401, 403)


# --- the pages ----------------------------------------------------------------------------------

def test_search_page_groups_hits_by_kind(workspace, viewer, client_as):
    product = ProductFactory(workspace=workspace, name="Harbour")
    StoryFactory(product=product, title="Harbour map")

    response = client_as(viewer).get("/search/", {"q": "harbour"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "2 results for" in body and "<h2>Product</h2>" in body and "<h2>Story</h2>" in body


def test_search_page_without_words_explains_itself(viewer, client_as):
    body = client_as(viewer).get("/search/").content.decode()

    assert "Ctrl+K" in body and "result" not in body.split("<h1>Search</h1>")[1].split("Type words")[0]


def test_palette_partial_lists_options_and_a_link_to_all(workspace, viewer, client_as):
    StoryFactory(product=ProductFactory(workspace=workspace), title="Walrus <b>bold</b>")

    body = client_as(viewer).get("/search/", {"q": "walrus", "palette": "1"}).content.decode()

    assert body.count('role="option"') == 2
    assert "&lt;b&gt;bold&lt;/b&gt;" in body
    assert "See all results for" in body


def test_search_page_needs_sign_in(client):
    response = client.get("/search/", {"q": "x"})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_schema_describes_the_search_endpoint(api, viewer):
    api.force_authenticate(viewer)

    schema = api.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/search/"]["get"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"q", "kind", "limit"}
    assert {p["name"] for p in operation["parameters"] if p["in"] == "header"} == {"If-None-Match"}  # a list
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith("SearchHit")
