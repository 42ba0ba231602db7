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
