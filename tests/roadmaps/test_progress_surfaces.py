"""One built scenario, one progress number on every surface: timeline (page and API), board,
list, initiative page, release pages (roadmap and delivery), objectives, API, share page, report."""

import re
from datetime import date

import pytest
from django.urls import reverse

from backlog.models import Epic, Story
from delivery.models import ReleaseScopeItem
from reports import sections
from roadmaps import services
from roadmaps.models import Initiative, Objective, Release

pytestmark = pytest.mark.django_db

INITIATIVE_PERCENT = 37  # 3 done of 8 points (8 won't-do points left out): 37.5 %, rounded down
RELEASE_PERCENT = 50     # + an epic in the release (0 of 2) + a story added one by one (4 of 4): 7 / 14


@pytest.fixture
def scenario(product, editor):
    objective = Objective.objects.create(product=product, title="Self-serve", start_date=date(2026, 10, 1),
                                         end_date=date(2026, 12, 31))
    release = Release.objects.create(product=product, name="2.0", release_date=date(2026, 12, 1))
    initiative = Initiative.objects.create(product=product, title="Dashboard builder", horizon="now",
                                           start_date=date(2026, 10, 1), end_date=date(2026, 11, 30), release=release)
    initiative.objectives.add(objective)
    epic = Epic.objects.create(product=product, title="Charts", initiative=initiative)
    Story.objects.create(product=product, epic=epic, title="a", status="done", points=3, rank="a")
    Story.objects.create(product=product, epic=epic, title="b", status="in_progress", points=5, rank="b")
    Story.objects.create(product=product, epic=epic, title="c", status="wont_do", points=8, rank="c")
    in_release = Epic.objects.create(product=product, title="Exports", release=release)
    Story.objects.create(product=product, epic=in_release, title="d", status="idea", points=2, rank="d")
    loose = Story.objects.create(product=product, title="e", status="done", points=4, rank="e")
    ReleaseScopeItem.objects.create(release=release, story=loose)
    return {"product": product, "initiative": initiative, "release": release, "objective": objective}


def _percents(html: str) -> set[int]:
    return {int(p) for p in re.findall(r'data-percent="(\d+)"', html)}


@pytest.mark.parametrize("page", ["timeline", "board", "list"])
def test_roadmap_views_show_the_initiative_percent(client_as, viewer, scenario, page):
    p = scenario["product"]
    html = client_as(viewer).get(reverse(f"roadmaps:{page}", kwargs={"ws": p.workspace.slug,
                                                                       "product_id": p.id})).content.decode()
    assert _percents(html) == {INITIATIVE_PERCENT}


def test_initiative_page_shows_the_same_percent(client_as, viewer, scenario):
    p, i = scenario["product"], scenario["initiative"]
    html = client_as(viewer).get(reverse("roadmaps:initiative_work", kwargs={
        "ws": p.workspace.slug, "product_id": p.id, "initiative_id": i.id})).content.decode()
    assert INITIATIVE_PERCENT in _percents(html) and "3/8 pts" in html


def test_release_pages_show_the_release_percent(client_as, viewer, scenario):
    p, r = scenario["product"], scenario["release"]
    kwargs = {"ws": p.workspace.slug, "product_id": p.id}
    client = client_as(viewer)
    detail = client.get(reverse("roadmaps:release", kwargs=kwargs | {"release_id": r.id})).content.decode()
    assert re.search(r'data-testid="release-progress">Progress: <span class="work-progress" data-testid="work-progress"'
                     rf' data-percent="{RELEASE_PERCENT}"', detail)
    assert INITIATIVE_PERCENT in _percents(detail)
    listing = client.get(reverse("roadmaps:releases", kwargs=kwargs)).content.decode()
    assert _percents(listing) == {RELEASE_PERCENT}
    scope = client.get(reverse("delivery:release_scope", kwargs=kwargs | {"release_id": r.id})).content.decode()
    assert _percents(scope) == {RELEASE_PERCENT} and "(4 stories, 14 points)" in scope


def test_objectives_page_shows_the_work_percent(client_as, viewer, scenario):
    p = scenario["product"]
    html = client_as(viewer).get(reverse("roadmaps:objectives", kwargs={"ws": p.workspace.slug,
                                                                          "product_id": p.id})).content.decode()
    assert _percents(html) == {INITIATIVE_PERCENT}


def test_api_shows_the_same_numbers(api, viewer, scenario):
    api.force_authenticate(viewer)
    p, i, r, o = scenario["product"], scenario["initiative"], scenario["release"], scenario["objective"]
    assert api.get(f"/api/v1/initiatives/{i.id}/").json()["work"]["percent"] == INITIATIVE_PERCENT
    assert api.get(f"/api/v1/initiatives/?product={p.id}").json()["results"][0]["work"]["percent"] == INITIATIVE_PERCENT
    assert api.get(f"/api/v1/initiatives/{i.id}/work/").json()["work"]["percent"] == INITIATIVE_PERCENT
    release = api.get(f"/api/v1/releases/{r.id}/").json()
    assert release["work"]["percent"] == RELEASE_PERCENT and release["progress"] == 0.5
    assert api.get(f"/api/v1/objectives/{o.id}/").json()["work"]["percent"] == INITIATIVE_PERCENT
    timeline = api.get(f"/api/v1/products/{p.id}/timeline/").json()
    assert timeline["initiatives"][0]["work"]["percent"] == INITIATIVE_PERCENT
    assert timeline["initiatives"][0]["progress"] == 0.375
    assert timeline["releases"][0]["work"]["percent"] == RELEASE_PERCENT
    scope = api.get(f"/api/v1/release-scopes/{r.id}/").json()
    assert scope["current_points"] == 14 and len(scope["stories"]) == 5  # the won't-do story is listed
    assert scope["work"]["percent"] == RELEASE_PERCENT
    listed = api.get(f"/api/v1/release-scopes/?product={p.id}").json()["results"]
    assert (listed[0]["scope_count"], listed[0]["scope_points"]) == (4, 14)


def test_share_page_shows_the_same_percent(client, editor, scenario):
    _, raw = services.share_link_create(actor=editor, product=scenario["product"])
    html = client.get(reverse("share:timeline", kwargs={"token": raw})).content.decode()
    assert _percents(html) == {INITIATIVE_PERCENT}


def test_progress_report_shows_the_same_numbers(scenario):
    products = [scenario["product"]]
    roadmap = sections.roadmap(products=products, today=date(2026, 11, 1), previous=None)
    assert [i["work"]["percent"] for i in roadmap["items"]] == [INITIATIVE_PERCENT]
    releases = sections.releases(products=products, today=date(2026, 11, 1), previous=None)
    assert [r["work"]["percent"] for r in releases["upcoming"]] == [RELEASE_PERCENT]
    objectives = sections.objectives(products=products, today=date(2026, 11, 1), previous=None)
    assert [o["work"]["percent"] for o in objectives["items"]] == [INITIATIVE_PERCENT]
