"""The pages issue 22 names declare their live regions, items and presence (static/js/live.js reads
these attributes), and the changes those pages show reach them as events with the right topics
(read through the polling endpoint, the same events a socket gets)."""

import re
from datetime import date

import pytest
from django.urls import reverse

from backlog import services as backlog
from delivery import services as delivery
from metrics import services as metrics
from pmhub import live
from pmhub.models import Role
from roadmaps import services as roadmaps
from roadmaps.models import Product
from tests.delivery.factories import IterationFactory
from tests.factories import MembershipFactory, UserFactory
from tests.metrics.factories import KpiFactory


@pytest.fixture
def world(workspace):
    editor = UserFactory(email="ed@acme.test", name="Ed Editor")
    MembershipFactory(user=editor, workspace=workspace, role=Role.EDITOR)
    product = Product.objects.create(workspace=workspace, name="Analytics")
    story = backlog.story_create(actor=editor, product=product, title="First")
    iteration = IterationFactory(product=product, start_date=date(2026, 11, 2), end_date=date(2026, 11, 13))
    kpi = KpiFactory(product=product, name="Signups", owner=editor)
    initiative = roadmaps.initiative_create(actor=editor, product=product, data={
        "title": "Onboarding", "start_date": date(2026, 11, 1), "end_date": date(2027, 1, 31)})
    return {"ws": workspace, "editor": editor, "product": product, "story": story, "iteration": iteration,
            "kpi": kpi, "initiative": initiative}


def _pages(w):
    ws, p = w["ws"].slug, w["product"].id
    return {
        "backlog": (reverse("backlog:list", kwargs={"ws": ws, "product_id": p}), f"product:{p}", f"backlog:{p}",
                    f"story:{w['story'].id}"),
        "status board": (reverse("backlog:board", kwargs={"ws": ws, "product_id": p}), f"product:{p}",
                         f"board:{p}", f"story:{w['story'].id}"),
        "story": (reverse("backlog:story", kwargs={"ws": ws, "product_id": p, "story_id": w["story"].id}),
                  f"story:{w['story'].id}", f"story:{w['story'].id}", None),
        "timeline": (reverse("roadmaps:timeline", kwargs={"ws": ws, "product_id": p}), f"product:{p}",
                     f"roadmap:{p}", f"initiative:{w['initiative'].id}"),
        "roadmap board": (reverse("roadmaps:board", kwargs={"ws": ws, "product_id": p}), f"product:{p}",
                          f"roadmap:{p}", f"initiative:{w['initiative'].id}"),
        "iteration": (reverse("delivery:iteration", kwargs={"ws": ws, "product_id": p,
                                                            "iteration_id": w["iteration"].id}),
                      f"product:{p}", f"iteration:{w['iteration'].id}", None),
        "product dashboard": (reverse("metrics_product_dashboard", kwargs={"ws": ws, "product_id": p}),
                              f"product:{p}", None, f"kpi:{w['kpi'].id}"),
        "leadership dashboard": (reverse("metrics_workspace_dashboard", kwargs={"ws": ws}), f"product:{p}", None,
                                 f"kpi:{w['kpi'].id}"),
    }


@pytest.mark.parametrize("page", ["backlog", "status board", "story", "timeline", "roadmap board", "iteration",
                                  "product dashboard", "leadership dashboard"])
def test_each_live_page_declares_its_regions_items_and_presence(page, world, client):
    url, topic, presence, item = _pages(world)[page]
    client.force_login(world["editor"])
    html = client.get(url).content.decode()
    regions = re.findall(r'<[^>]+ id="[\w-]+"[^>]* data-live-topic="([^"]+)"', html)
    assert regions and all(topic in r.split() for r in regions), regions
    if presence:
        assert f'data-presence-topic="{presence}"' in html
    if item:
        assert f'data-live-item="{item}"' in html
    assert 'data-live-transport="poll"' in html  # the test client is not ASGI: such a page polls


def test_the_story_form_carries_its_object_and_version_for_the_stale_warning(world, client):
    client.force_login(world["editor"])
    story = world["story"]
    html = client.get(_pages(world)["story"][0]).content.decode()
    assert f'data-live-object="story:{story.id}" data-live-version="{story.version}"' in html


def test_every_form_that_keeps_a_version_names_its_object(world, client):
    """templates/_version.html: the iteration's edit form (and every other form including it)."""
    client.force_login(world["editor"])
    html = client.get(_pages(world)["iteration"][0]).content.decode()
    version = world["iteration"].version
    assert (f'<input type="hidden" name="version" value="{version}" '
            f'data-live-object="iteration:{world["iteration"].id}">') in html


def _events_since(client, world, since):
    answer = client.get(reverse("live_poll", kwargs={"ws": world["ws"].slug}), {"since": since}).json()
    return [(e["type"], e["topics"]) for e in answer["events"]]


def test_what_each_page_shows_reaches_it_with_its_topics(world, client, django_capture_on_commit_callbacks):
    client.force_login(world["editor"])
    p, editor = world["product"].id, world["editor"]
    since = live.event_log().current(world["ws"].id)
    with django_capture_on_commit_callbacks(execute=True):
        second = backlog.story_create(actor=editor, product=world["product"], title="Second")
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_move(actor=editor, story=second, before=world["story"].id)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.iteration_add_story(actor=editor, iteration=world["iteration"], story_id=second.id)
    with django_capture_on_commit_callbacks(execute=True):
        metrics.measurements_upsert(user=editor, kpi=world["kpi"], items=[{"period": "2026-11-20", "value": "5"}])
    with django_capture_on_commit_callbacks(execute=True):
        roadmaps.initiative_move(actor=editor, initiative=world["initiative"], horizon="next",
                                 version=world["initiative"].version)
    events = _events_since(client, world, since)
    assert ("story.created", [f"product:{p}", f"story:{second.id}"]) in events
    assert ("story.moved", [f"product:{p}", f"story:{second.id}"]) in events
    assert ("iteration.changed", [f"product:{p}", f"iteration:{world['iteration'].id}"]) in events
    assert ("kpi.measured", [f"product:{p}", f"kpi:{world['kpi'].id}"]) in events
    assert ("initiative.changed", [f"product:{p}", f"initiative:{world['initiative'].id}"]) in events
