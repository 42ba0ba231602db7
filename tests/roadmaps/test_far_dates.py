"""Pages survive any stored date: a release or initiative saved at the ends of the calendar
(before the bounds of pmhub.bounds existed, or by a data import) still draws on the timeline,
the public share page and the timeline API; new writes refuse such dates with a 400."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from roadmaps import services
from roadmaps.models import Initiative, Release

pytestmark = pytest.mark.django_db

FAR = [date(9999, 12, 31), date(1, 1, 1)]


@pytest.fixture
def far_world(world):
    product = world["products"]
    # Saved through the ORM on purpose: the API and forms refuse these dates now.
    Release.objects.create(product=product, name="Someday", release_date=date(9999, 12, 31))
    Initiative.objects.create(product=product, title="Forever", start_date=date(1, 1, 1),
                              end_date=date(9999, 12, 31))
    Initiative.objects.create(product=product, title="Last day", start_date=date(9999, 12, 31))
    return product


@time_machine.travel("2026-12-05 10:00Z", tick=False)
def test_timeline_page_draws_dates_at_the_ends_of_the_calendar(client_as, editor, far_world):
    url = reverse("roadmaps:timeline", kwargs={"ws": far_world.workspace.slug, "product_id": far_world.pk})
    for scale in ("month", "quarter"):
        response = client_as(editor).get(url, {"scale": scale})
        assert response.status_code == 200
        assert "Forever" in response.content.decode()


@time_machine.travel("2026-12-05 10:00Z", tick=False)
def test_share_page_draws_dates_at_the_ends_of_the_calendar(client, editor, far_world):
    _, raw = services.share_link_create(actor=editor, product=far_world, days=2)
    response = client.get(reverse("share:timeline", kwargs={"token": raw}))
    assert response.status_code == 200 and "Forever" in response.content.decode()


@time_machine.travel("2026-12-05 10:00Z", tick=False)
def test_timeline_api_answers_with_dates_at_the_ends_of_the_calendar(api, editor, far_world):
    api.force_authenticate(editor)
    response = api.get(reverse("product-timeline", kwargs={"pk": far_world.pk}))
    assert response.status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31", "2201-01-01"])
def test_release_with_a_far_date_is_refused_and_nothing_is_stored(api, editor, world, day):
    api.force_authenticate(editor)
    before = Release.objects.count()
    response = api.post("/api/v1/releases/", {"product": world["products"].pk, "name": "Far", "release_date": day})
    assert response.status_code == 400 and "release_date" in response.json()["errors"]
    assert Release.objects.count() == before


def test_release_at_the_last_allowed_day_is_accepted(api, editor, world):
    api.force_authenticate(editor)
    response = api.post("/api/v1/releases/", {"product": world["products"].pk, "name": "Far",
                                               "release_date": "2200-12-31"})
    assert response.status_code == 201, response.content
    assert Release.objects.get(name="Far").release_date == date(2200, 12, 31)
