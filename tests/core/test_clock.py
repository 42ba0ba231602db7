"""The one "today": the local day of the workspace's zone, frozen with the clock in tests."""

from datetime import UTC, date, datetime

import time_machine

from pmhub.clock import today_in, workspace_today
from pmhub.models import Workspace


@time_machine.travel(datetime(2026, 12, 4, 23, 30, tzinfo=UTC), tick=False)
def test_today_is_the_local_day_of_the_workspace_zone():
    assert today_in("UTC") == date(2026, 12, 4)
    assert today_in("Pacific/Auckland") == date(2026, 12, 5)  # already tomorrow there
    assert today_in("America/Los_Angeles") == date(2026, 12, 4)


@time_machine.travel(datetime(2026, 12, 5, 3, 0, tzinfo=UTC), tick=False)
def test_yesterday_evening_in_los_angeles():
    assert today_in("America/Los_Angeles") == date(2026, 12, 4)


def test_an_explicit_moment_and_an_unknown_zone():
    moment = datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert today_in("Europe/Berlin", moment) == date(2026, 7, 1)
    assert today_in("Not/AZone", moment) == date(2026, 6, 30)  # read as UTC, not an error
    assert today_in("", moment) == date(2026, 6, 30)


@time_machine.travel(datetime(2026, 12, 4, 23, 30, tzinfo=UTC), tick=False)
def test_workspace_today_reads_the_workspace_zone():
    assert workspace_today(Workspace(name="Kiwi", slug="kiwi", time_zone="Pacific/Auckland")) == date(2026, 12, 5)
