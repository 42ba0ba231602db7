"""The timeline of a big roadmap (300 initiatives, 200 dependencies, 20 releases) renders with a
fixed number of queries, page and API alike."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog.models import Epic, Story
from roadmaps.models import Dependency, Initiative, Objective, Release

pytestmark = pytest.mark.django_db

PAGE_MAX = 16
# The timeline API also returns each release's progress (workflows, epics' stories, stories added
# one by one): a fixed three queries more than the initiatives' alone, never one per row.
API_MAX = 12


@pytest.fixture
def big_roadmap(product, editor):
    start = date(2026, 1, 1)
    objectives = Objective.objects.bulk_create(
        Objective(product=product, title=f"O{i}", start_date=start, end_date=start + timedelta(days=90))
        for i in range(5))
    releases = Release.objects.bulk_create(
        Release(product=product, name=f"R{i}", release_date=start + timedelta(days=15 * i)) for i in range(20))
    initiatives = Initiative.objects.bulk_create(
        Initiative(product=product, title=f"I{i}", status="planned", horizon=["now", "next", "later"][i % 3],
                   start_date=start + timedelta(days=i), end_date=start + timedelta(days=i + 20 + i % 7),
                   owner=editor if i % 2 else None, labels=",big,", release=releases[i % 20])
        for i in range(300))
    Initiative.objectives.through.objects.bulk_create(
        Initiative.objectives.through(initiative_id=ini.id, objective_id=objectives[n % 5].id)
        for n, ini in enumerate(initiatives))
    Dependency.objects.bulk_create(Dependency(blocker=initiatives[i], blocked=initiatives[i + 1]) for i in range(200))
    epics = Epic.objects.bulk_create(Epic(product=product, initiative=initiatives[i], title=f"E{i}")
                                     for i in range(0, 300, 3))
    Story.objects.bulk_create(Story(product=product, epic=e, title="s", status="done" if n % 2 else "idea",
                                    points=n % 5 or None) for n, e in enumerate(epics))
    return product


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    return response, len(ctx.captured_queries)


def test_timeline_page_has_fixed_queries(client_as, editor, big_roadmap, django_assert_max_num_queries):
    client = client_as(editor)
    url = f"/w/{big_roadmap.workspace.slug}/products/{big_roadmap.pk}/roadmap/timeline/"
    client.get(url)  # warm the session
    with django_assert_max_num_queries(PAGE_MAX):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="rm-bar ') == 300  # one bar per initiative
    _, n = _count(lambda: client.get(url))
    print(f"\ntimeline page queries at 300/200/20: {n}")


def test_timeline_endpoint_has_fixed_queries(api, editor, big_roadmap, django_assert_max_num_queries):
    api.force_authenticate(editor)
    url = f"/api/v1/products/{big_roadmap.pk}/timeline/"
    with django_assert_max_num_queries(API_MAX):
        response = api.get(url)
    body = response.json()
    assert len(body["initiatives"]) == 300 and len(body["dependencies"]) == 200 and len(body["releases"]) == 20
    assert sum(d["conflict"] for d in body["dependencies"]) > 0
    _, n = _count(lambda: api.get(url))
    print(f"\ntimeline endpoint queries at 300/200/20: {n}")


@pytest.mark.parametrize("name", ["board", "list"])
def test_board_and_list_have_fixed_queries(client_as, editor, big_roadmap, django_assert_max_num_queries, name):
    client = client_as(editor)
    url = f"/w/{big_roadmap.workspace.slug}/products/{big_roadmap.pk}/roadmap/{name}/"
    client.get(url)
    with django_assert_max_num_queries(PAGE_MAX):
        assert client.get(url).status_code == 200


def test_initiative_api_list_has_fixed_queries(api, editor, big_roadmap, django_assert_max_num_queries):
    api.force_authenticate(editor)
    with django_assert_max_num_queries(API_MAX):
        response = api.get(f"/api/v1/initiatives/?product={big_roadmap.pk}")
    assert response.json()["count"] == 300
