"""The API throttles on sliding-window counters (pmhub/api/throttling.py): counted before
authentication per address and per token (by the key's hash), in one Redis round trip."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from pmhub.api.throttling import throttle_check
from tests.factories import make_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/workspaces/"


@pytest.fixture
def rates(settings):
    def set_rates(token="3/min", address="1000/min"):
        settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
            "DEFAULT_THROTTLE_RATES": {"token": token, "address": address}}

    return set_rates


def test_all_limits_are_counted_only_when_all_allow():
    start = datetime(2026, 12, 5, 10, 0, 10, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        assert throttle_check([("a:1", (2, 60)), ("b:1", (5, 60))]) == [None, None]
        assert throttle_check([("a:1", (2, 60)), ("b:1", (5, 60))]) == [None, None]
        refused = throttle_check([("a:1", (2, 60)), ("b:1", (5, 60))])
        assert refused[0] == 50 and refused[1] is None  # wait until the window turns
        # b was not counted by the refused call: three more fit under its limit of 5.
        assert [throttle_check([("b:1", (5, 60))]) for _ in range(4)] == [[None], [None], [None], [50]]


def test_the_previous_window_weighs_by_its_overlap():
    start = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(4):
            assert throttle_check([("c:1", (4, 60))]) == [None]
        clock.move_to(start + timedelta(seconds=75))  # 15 s into the next window: 3/4 of 4 = 3 still count
        assert throttle_check([("c:1", (4, 60))]) == [None]
        assert throttle_check([("c:1", (4, 60))]) != [None]
        clock.move_to(start + timedelta(seconds=125))
        assert throttle_check([("c:1", (4, 60))]) == [None]


def test_a_guessed_token_is_throttled_before_authentication(api, rates):
    rates(token="3/min")
    api.credentials(HTTP_AUTHORIZATION="Token pmh_guessing")
    for _ in range(3):
        assert api.get(URL).status_code == 401
    response = api.get(URL)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_a_session_caller_is_throttled_per_user(api, admin, rates):
    rates(token="2/min")
    api.force_login(admin)
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 429]


def test_token_throttle_is_per_token_not_per_user(api, admin, workspace, rates):
    rates(token="2/min")
    first, second = make_token(user=admin, workspace=workspace), make_token(user=admin, workspace=workspace)
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    api.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api.get(URL).status_code == 200


def test_a_subclass_keyed_its_own_way_is_counted_by_its_key(rf):
    """discovery's per-e-mail sign-in limit overrides get_cache_key: one address, two inboxes."""
    from pmhub.api.throttling import AddressRateThrottle

    class PerEmail(AddressRateThrottle):
        scope = "test_per_email"

        def get_rate(self):
            return "2/min"

        def get_cache_key(self, request, view):
            return f"email:{request.GET['e']}"

    first, second = (rf.get("/", {"e": e}, REMOTE_ADDR="10.0.0.1") for e in ("a@example.com", "b@example.com"))
    assert [PerEmail().allow_request(first, None) for _ in range(3)] == [True, True, False]
    assert PerEmail().allow_request(second, None) is True
