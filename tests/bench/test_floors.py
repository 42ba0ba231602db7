"""The floors of bench/floors.py (issue 23, target 1): the two fixed-body views of bench/urls.py
serve the same body, the DRF one through the real authentication and throttles; the summary
compares every case with its floor and fails a missed target."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.floors import summarize
from tests.factories import make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench.urls"


def test_both_floors_serve_the_same_body_and_only_drf_authenticates(client, api, admin, workspace, bench_urls):
    plain = client.get("/__bench__/plain/")
    assert plain.status_code == 200 and len(plain.content) > 70_000
    assert api.get("/__bench__/drf/").status_code == 401  # the real authentication
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace, scope='read')}")
    drf = api.get("/__bench__/drf/")
    assert drf.status_code == 200 and json.loads(drf.content) == json.loads(plain.content)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/__bench__/drf/").status_code == 200
    assert queries.captured_queries == []  # a cached token: no query on the hot path
    assert api.get("/api/v1/workspaces/").status_code == 200  # the real routes are there too


def test_the_drf_floor_is_throttled_like_every_api_view(api, admin, workspace, bench_urls, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"DEFAULT_THROTTLE_RATES": {"token": "2/min",
                                                                                    "address": "1000/min"}}
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace)}")
    assert [api.get("/__bench__/drf/").status_code for _ in range(3)] == [200, 200, 429]


def test_summary_ratios_and_verdicts():
    samples = {"plain floor": [0.001] * 3, "DRF floor": [0.0025] * 3, "bare SQL": [0.0005] * 3,
               "list 50": [0.005] * 3, "list 200": [0.009] * 3, "get": [0.004] * 3, "move": [0.0065] * 3,
               "create": [0.006] * 3}
    rows = {r["case"]: r for r in summarize(samples, {})}
    assert rows["DRF floor"]["x_plain"] == pytest.approx(2.5) and rows["DRF floor"]["verdict"] == "FAIL"
    assert rows["list 50"]["x_drf"] == pytest.approx(2.0) and rows["list 50"]["verdict"] == "PASS"
    assert rows["move"]["verdict"] == "FAIL" and rows["list 200"]["verdict"] == "PASS"
    assert rows["bare SQL"]["verdict"] == "—" and rows["list 50"]["x_sql"] == pytest.approx(10)


def test_pages_are_held_to_three_times_list_50():
    from bench.floors import PAGES, page_limit, targets_for

    samples = {
        "plain floor": [0.001],
        "DRF floor": [0.002],
        "bare SQL": [0.0005],
        "list 50": [0.010],
        "page: backlog": [0.029],
        "page: story": [0.031],
    }
    rows = {r["case"]: r for r in summarize(samples, {}, targets_for("full"))}
    assert rows["page: backlog"]["verdict"] == "PASS" and rows["page: story"]["verdict"] == "FAIL"
    assert rows["page: story"]["target"] == "≤3x list 50"
    assert page_limit("full") == 3.0 and page_limit("tiny") == 3.0
    assert page_limit("huge") == 5.0  # 100,003 stories in the workspace, 10,000 in the measured backlog
    assert {name for name, _ in PAGES} >= {"page: backlog", "page: status board", "page: story", "page: iteration"}


@pytest.mark.django_db(transaction=True)
def test_the_bench_browser_signs_in_over_http_and_every_page_answers(live_server, admin, workspace):
    """sign_in goes through the real login form (CSRF included); the session it returns opens
    every page of PAGES on the data page_data adds (a story, an iteration with stories)."""
    from urllib.parse import urlsplit

    from bench.floors import ITERATION_STORIES, PAGES, Client, page_data, sign_in
    from delivery.models import IterationItem
    from tests.backlog.factories import make_stories
    from tests.factories import PASSWORD
    from tests.metrics.factories import KpiFactory
    from tests.roadmaps.factories import ProductFactory

    product = ProductFactory(workspace=workspace)
    make_stories(product, ITERATION_STORIES + 5, actor=admin)
    kpi = KpiFactory(product=product)
    data = page_data({"workspace": workspace.slug, "product": product.pk, "kpi_ids": [kpi.pk]})
    assert IterationItem.objects.filter(iteration_id=data["iteration"]).count() == ITERATION_STORIES
    port = urlsplit(live_server.url).port
    with pytest.raises(SystemExit):
        sign_in(port, admin.email, "not-the-password")
    browser = Client(port, cookie=sign_in(port, admin.email, PASSWORD))
    for name, build in PAGES:
        elapsed, _, size = browser.send("GET", build(data))
        assert size > 1000, name
    anonymous = Client(port, cookie="sessionid=nope")
    with pytest.raises(SystemExit):  # not signed in: the login redirect, which the bench refuses
        anonymous.send("GET", PAGES[0][1](data))


def test_floors_ab_refuses_a_page_the_floors_bench_does_not_measure():
    """bench/floors_ab.py names pages as bench/floors.py PAGES does, and says which one it lacks
    before it starts anything."""
    import pytest

    from bench import floors_ab

    with pytest.raises(SystemExit, match="not in PAGES: page: nowhere"):
        floors_ab.main(["--before-root", "/nonexistent", "--before-db", "x", "--after-db", "y", "--data", "z",
                        "--pages", "page: KPI,page: nowhere"])
