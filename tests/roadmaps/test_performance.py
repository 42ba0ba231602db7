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
    from roadmaps.views import TIMELINE_BARS

    html = response.content.decode()
    assert html.count('class="rm-bar ') == TIMELINE_BARS  # the first by start date
    assert f"Showing the first {TIMELINE_BARS} of 300 initiatives" in html and "300 initiatives ·" in html
    with django_assert_max_num_queries(PAGE_MAX):
        everything = client.get(url, {"all": "1"}).content.decode()
    assert everything.count('class="rm-bar ') == 300 and 'data-testid="timeline-more"' not in everything
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


def _initiatives(product, n, horizon="now"):
    return Initiative.objects.bulk_create(
        Initiative(product=product, title=f"Card {i:03d}", status="planned", horizon=horizon, rank=i)
        for i in range(n))


@pytest.mark.parametrize("n", [40, 200])
def test_board_shows_the_first_cards_of_a_column_and_fetches_the_rest(client_as, editor, product, n,
                                                                     django_assert_max_num_queries):
    from roadmaps.views import BOARD_COLUMN_CARDS

    made = _initiatives(product, n)
    client = client_as(editor)
    url = f"/w/{product.workspace.slug}/products/{product.pk}/roadmap/board/"
    client.get(url)
    with django_assert_max_num_queries(PAGE_MAX):
        html = client.get(url).content.decode()
    assert html.count('class="rm-card rm-draggable"') == BOARD_COLUMN_CARDS
    assert f'<span class="badge">{n}</span>' in html  # the column's count is every card's
    assert f"Show {n - BOARD_COLUMN_CARDS} more" in html
    first_hidden = made[BOARD_COLUMN_CARDS]
    assert f'data-next-rank="{first_hidden.rank:f}"' in html  # a drop after the last card shown ranks before it
    with django_assert_max_num_queries(PAGE_MAX):
        rest = client.get(url, {"column": "now", "from": f"{first_hidden.rank!r}:{first_hidden.id}"}).content.decode()
    assert rest.count('class="rm-card rm-draggable"') == n - BOARD_COLUMN_CARDS
    assert rest.index(f'data-id="{first_hidden.id}"') < rest.index(f'data-id="{made[-1].id}"')
    assert "<html" not in rest and 'name="next" value="/w/' in rest
    assert "roadmap/board/?" not in rest.split('name="next" value="')[1].split('"')[0]  # back to the board


def test_board_rest_of_a_column_keeps_the_filters_and_refuses_unknown_columns(client_as, viewer, product):
    _initiatives(product, 35, horizon="later")
    Initiative.objects.filter(title="Card 034").update(status="done")
    client = client_as(viewer)
    url = f"/w/{product.workspace.slug}/products/{product.pk}/roadmap/board/"
    html = client.get(url, {"status": "planned"}).content.decode()
    assert "Show 14 more" in html and "status=planned" in html.split('data-testid="more-later"')[0].rsplit("<button", 1)[1]
    more_url = html.split('data-testid="more-later"')[0].rsplit('data-more-url="', 1)[1].split('"')[0]
    rest = client.get(more_url.replace("&amp;", "&")).content.decode()
    assert rest.count('class="rm-card"') == 14 and "Card 034" not in rest and "Card 020" in rest
    assert 'name="horizon"' not in rest  # a viewer gets no move form
    assert client.get(url, {"column": "soon"}).status_code == 404
    assert client.get(url, {"column": "later", "from": "x"}).status_code == 200  # no cursor: the whole column


def _grow_roadmap(product, owner, start_at: int, n: int) -> None:
    """n more initiatives (dated, owned, in an objective, in the three horizons), a dependency
    between neighbours, an epic with stories each, a risk above appetite and a statement on some."""
    from governance.models import ImpactStatement, Risk

    start = date(2026, 1, 1)
    objective = Objective.objects.filter(product=product).first() or Objective.objects.create(
        product=product, title="Grow", start_date=start, end_date=start + timedelta(days=90))
    made = Initiative.objects.bulk_create(
        Initiative(product=product, title=f"I{k}", status="planned", horizon=["now", "next", "later"][k % 3],
                   start_date=start + timedelta(days=k), end_date=start + timedelta(days=k + 20), owner=owner,
                   labels=",big,", rank=k) for k in range(start_at, start_at + n))
    Initiative.objectives.through.objects.bulk_create(
        Initiative.objectives.through(initiative_id=i.id, objective_id=objective.id) for i in made)
    Dependency.objects.bulk_create(Dependency(blocker=a, blocked=b) for a, b in zip(made, made[1:], strict=False))
    epics = Epic.objects.bulk_create(Epic(product=product, initiative=i, title=f"E{i.title}") for i in made)
    Story.objects.bulk_create(Story(product=product, epic=e, title="s", status="done" if k % 2 else "idea", points=3)
                              for e in epics for k in range(3))
    risk = Risk.objects.create(product=product, title=f"Risk {start_at}", likelihood=5, impact=5)
    risk.initiatives.add(*made[:3])
    for i in made[:2]:
        ImpactStatement.objects.create(product=product, initiative=i, status=ImpactStatement.Status.AWAITING)


def test_roadmap_pages_have_the_same_queries_at_two_sizes(client_as, editor, product):
    """Timeline, board and the rest of a board column: the same number of queries with 30 and with
    300 initiatives (rows printed in Python, decision 1950; nothing is read per row)."""
    client = client_as(editor)
    base = f"/w/{product.workspace.slug}/products/{product.pk}/roadmap/"
    pages = {"timeline": (base + "timeline/", {}), "timeline, all": (base + "timeline/", {"all": "1"}),
             "timeline by owner": (base + "timeline/", {"group": "owner"}),
             "board": (base + "board/", {}), "board, rest of a column": (base + "board/", {"column": "now"})}
    counts = {}
    for size, (start_at, n) in (("small", (0, 30)), ("large", (30, 270))):
        _grow_roadmap(product, editor, start_at, n)
        for name, (url, params) in pages.items():
            client.get(url, params)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url, params)
            # The session and the unread-notifications count are cached in the shared Redis, which
            # another process may clear at any moment: not the page's own work, so not counted here.
            counts[name, size] = sum(not any(t in q["sql"] for t in ('"django_session"', '"pmhub_notification"'))
                                     for q in ctx.captured_queries)
            assert response.status_code == 200
    html = client.get(base + "timeline/", {"all": "1"}).content.decode()
    assert html.count('class="rm-bar ') == 300 and html.count('data-testid="risk-flag"') >= 6
    for name in pages:
        assert counts[name, "small"] == counts[name, "large"] <= PAGE_MAX, (name, sorted(counts.items()))
