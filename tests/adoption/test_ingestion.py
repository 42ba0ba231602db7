"""Bulk ingestion: idempotency, batch limits, per-item errors, key scope, time zones, late events."""

from datetime import date

import pytest
import time_machine
from django.db import connection

from adoption.models import FeatureDaily, IngestionKey, ProductDaily, TouchedDay, UsageEvent
from adoption.rollups import touched_days_mark
from tests.factories import make_token

from .factories import event, make_ingestion_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel("2026-11-25T12:00:00Z", tick=False):
        yield


def rollup_rows(product):
    return sorted(FeatureDaily.objects.filter(product=product).values_list("feature__key", "day", "users", "events",
                                                                           "users_7d"))


def test_valid_batch_is_stored_and_rolled_up_on_commit(product, key, ingest, django_capture_on_commit_callbacks):
    events = [event(1, actor="a"), event(2, actor="a"), event(3, actor="b"), event(4, feature="export", actor="b")]
    with django_capture_on_commit_callbacks(execute=True):
        response = ingest(key, events)
    assert response.status_code == 202
    assert response.json() == {"accepted": 4, "days": ["2026-11-20"], "rollups_queued": ["2026-11-20"]}
    assert UsageEvent.objects.filter(product=product).count() == 4
    assert rollup_rows(product) == [("export", date(2026, 11, 20), 1, 1, 1), ("search", date(2026, 11, 20), 2, 3, 2)]
    assert ProductDaily.objects.get(product=product).active_users == 2


def test_same_batch_twice_gives_same_event_count_and_same_rollups(product, key, ingest,
                                                                  django_capture_on_commit_callbacks):
    events = [event(i, actor=f"u{i % 3}", feature=("search", "export")[i % 2]) for i in range(10)]
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest(key, events).status_code == 202
    first = rollup_rows(product)
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest(key, events).status_code == 202
    assert UsageEvent.objects.filter(product=product).count() == 10
    assert rollup_rows(product) == first


def test_duplicate_ids_inside_one_batch_are_stored_once(product, key, ingest):
    assert ingest(key, [event(1), event(1), event(2)]).status_code == 202
    assert UsageEvent.objects.filter(product=product).count() == 2


def test_batch_over_the_limit_is_413_and_stores_nothing(product, key, ingest, settings):
    settings.API_MAX_BATCH_SIZE = 3
    response = ingest(key, [event(i) for i in range(4)])
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert "at most 3 events" in response.json()["detail"]
    assert not UsageEvent.objects.exists()


def test_mixed_batch_is_rejected_whole_with_errors_per_item(product, key, ingest):
    events = [event(1), {"id": "e2", "feature": "", "actor": "a", "occurred_at": "yesterday"}, event(3),
              {"feature": "search", "actor": "a", "occurred_at": "2026-11-20T10:00:00"}, "not an object"]
    response = ingest(key, events)
    assert response.status_code == 400
    errors = response.json()["errors"]["events"]
    assert set(errors) == {"1", "3", "4"}
    assert set(errors["1"]) == {"feature", "occurred_at"}
    assert set(errors["3"]) == {"id", "occurred_at"}  # missing id; naive date-time
    assert "non_field_errors" in errors["4"]
    assert not UsageEvent.objects.exists()
    assert not TouchedDay.objects.exists()


@pytest.mark.parametrize("body", [{"events": "nope"}, {}])
def test_payload_without_an_event_list_is_400(product, key, body):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post("/api/v1/events/bulk/", body, format="json")
    assert response.status_code == 400
    assert "events" in response.json()["errors"]


@pytest.mark.parametrize("raw", [b"[" * 1000 + b"]" * 1000, b'{"events": [' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"]}",
                                 b'{"events": [{"id": "e1", "value": NaN}]}', b'{"events": [{"id": "\\u0000"}]}'])
def test_deep_or_unstorable_json_is_400_before_parsing_and_stores_nothing(product, key, raw):
    """A 4 KB body nested 1,000 deep raised RecursionError inside the JSON parser (500)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post("/api/v1/events/bulk/", data=raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    assert not UsageEvent.objects.exists()


def test_events_in_the_far_future_are_refused(product, key, ingest):
    response = ingest(key, [event(1, at="2026-11-27T12:00:00Z")])
    assert response.status_code == 400
    assert "future" in response.json()["errors"]["events"]["0"]["occurred_at"][0]


def test_key_of_product_a_cannot_write_to_product_b(product, other_product, key, ingest):
    response = ingest(key, [event(1)], product=other_product.id)
    assert response.status_code == 403
    assert not UsageEvent.objects.exists()
    # Without naming a product, the events land in the key's own product only.
    assert ingest(key, [event(1)]).status_code == 202
    assert UsageEvent.objects.filter(product=product).count() == 1
    assert not UsageEvent.objects.filter(product=other_product).exists()


def test_same_idempotency_key_in_two_products_is_two_events(product, other_product, key, ingest):
    other_key = make_ingestion_key(other_product)
    assert ingest(key, [event(1)]).status_code == 202
    assert ingest(other_key, [event(1)]).status_code == 202
    assert UsageEvent.objects.count() == 2


def test_revoked_key_is_401(product, key, ingest):
    IngestionKey.objects.update(revoked_at="2026-11-24T00:00:00Z")
    response = ingest(key, [event(1)])
    assert response.status_code == 401
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize("raw", ["", "pmhi_wrong"])
def test_missing_or_unknown_key_is_401(product, ingest, raw):
    assert ingest(raw, [event(1)]).status_code == 401


def test_alternative_header_is_accepted(product, key, ingest):
    assert ingest(key, [event(1)], header="x").status_code == 202


def test_user_api_token_cannot_ingest(product, admin, workspace, api):
    api.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=admin, workspace=workspace)}")
    response = api.post("/api/v1/events/bulk/", {"events": [event(1)]}, format="json")
    assert response.status_code == 401
    assert not UsageEvent.objects.exists()


def test_ingestion_key_is_not_a_user_token_elsewhere(product, key, api):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/features/").status_code in (401, 403)
    assert api.get("/api/v1/workspaces/").status_code in (401, 403)


def test_event_at_2330_utc_in_tokyo_falls_on_the_next_local_day(product, workspace, key, ingest,
                                                               django_capture_on_commit_callbacks):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = ingest(key, [event(1, at="2026-11-20T23:30:00Z"), event(2, at="2026-11-20T14:59:00Z")])
    # 23:30 UTC is 08:30 on 21 Nov in Tokyo; 14:59 UTC is 23:59 on 20 Nov.
    assert response.json()["days"] == ["2026-11-20", "2026-11-21"]
    assert rollup_rows(product) == [("search", date(2026, 11, 20), 1, 1, 1), ("search", date(2026, 11, 21), 1, 1, 1)]


def test_late_event_for_a_past_day_recomputes_that_day(product, key, ingest, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(key, [event(1, actor="a", at="2026-11-20T10:00:00Z"), event(2, actor="a", at="2026-11-24T10:00:00Z")])
    assert FeatureDaily.objects.get(day=date(2026, 11, 20)).users == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = ingest(key, [event(3, actor="late", at="2026-11-20T18:00:00Z")])
    assert response.json()["rollups_queued"] == ["2026-11-20"]
    assert len(callbacks) == 1
    assert FeatureDaily.objects.get(day=date(2026, 11, 20)).users == 2
    # The weekly window of the later day includes the late actor too.
    later = FeatureDaily.objects.get(day=date(2026, 11, 24))
    assert (later.users, later.users_7d) == (1, 2)
    assert ProductDaily.objects.get(day=date(2026, 11, 24)).active_7d == 2


def test_a_pending_day_is_not_queued_twice(product):
    day = date(2026, 11, 20)
    assert touched_days_mark(product_id=product.id, days={day}) == [day]
    assert touched_days_mark(product_id=product.id, days={day}) == []
    TouchedDay.objects.update(pending=False)
    assert touched_days_mark(product_id=product.id, days={day, date(2026, 11, 21)}) == [day, date(2026, 11, 21)]


def test_ingesting_a_full_batch_takes_a_fixed_number_of_queries(product, key, ingest, django_assert_max_num_queries):
    events = [event(i, actor=f"u{i % 50}", feature=f"f{i % 5}", at=f"2026-11-2{i % 3}T10:00:00Z") for i in range(1000)]
    # PostgreSQL: one INSERT for the batch. SQLite caps the parameters of a statement, so its
    # bulk_create splits the 1,000 rows into a fixed number of INSERTs (7 columns each).
    inserts = 1 if connection.vendor == "postgresql" else -(-1000 * 7 // connection.features.max_query_params)
    with django_assert_max_num_queries(7 + inserts):
        response = ingest(key, events)
    assert response.status_code == 202
    assert UsageEvent.objects.count() == 1000
