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
    epic = backlog.epic_create(actor=editor, product=product, title="Checkout")
    return {"ws": workspace, "editor": editor, "product": product, "story": story, "iteration": iteration,
            "kpi": kpi, "initiative": initiative, "epic": epic}


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
        "epics": (reverse("backlog:epics", kwargs={"ws": ws, "product_id": p}), f"product:{p}", None,
                  f"epic:{w['epic'].id}"),
    }


@pytest.mark.parametrize("page", ["backlog", "status board", "story", "timeline", "roadmap board", "iteration",
                                  "product dashboard", "leadership dashboard", "epics"])
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


def _region(html, region_id):
    """The data-live-topic of the element with this id (None: not a live region)."""
    found = re.search(r'<[^>]+ id="' + re.escape(region_id) + r'"[^>]* data-live-topic="([^"]+)"', html)
    return found.group(1).split() if found else None


def test_the_story_page_follows_its_comments_and_criteria(world, client, django_capture_on_commit_callbacks):
    """The comments list and the criteria list are regions of the story's topic; the comment form is
    outside the comments region (what someone types is never replaced), and a comment or a criterion
    added, ticked or unticked reaches that topic without its text."""
    client.force_login(world["editor"])
    story, editor, p = world["story"], world["editor"], world["product"].id
    url = _pages(world)["story"][0]
    criterion = backlog.criterion_add(actor=editor, story=story, text="Given a visitor")
    comment = backlog.comment_create(actor=editor, story=story, body="Looks good")
    html = client.get(url).content.decode()
    assert _region(html, "story-comments") == [f"story:{story.id}"]
    assert _region(html, "story-criteria") == [f"story:{story.id}"]
    assert f'data-live-item="comment:{comment.id}"' in html and f'data-live-item="criterion:{criterion.id}"' in html
    comments = html[html.index('id="story-comments"'):]
    assert comments.index("</div>") < comments.index('name="body"')  # the form follows the region's end

    since = live.event_log().current(world["ws"].id)
    with django_capture_on_commit_callbacks(execute=True):
        backlog.comment_create(actor=editor, story=story, body="Second thoughts: ship Friday")
    with django_capture_on_commit_callbacks(execute=True):
        backlog.criterion_add(actor=editor, story=story, text="Then a welcome mail")
    with django_capture_on_commit_callbacks(execute=True):
        backlog.criterion_toggle(actor=editor, criterion=criterion, done=True)
    answer = client.get(reverse("live_poll", kwargs={"ws": world["ws"].slug}), {"since": since}).json()
    events = [(e["type"], e["topics"]) for e in answer["events"]]
    topics = [f"product:{p}", f"story:{story.id}"]
    assert events == [("story.commented", topics), ("story.criteria_changed", topics),
                      ("story.criteria_changed", topics)]
    assert "Friday" not in str(answer) and "welcome" not in str(answer)


def test_the_epics_list_follows_epic_events_of_its_product(world, client, django_capture_on_commit_callbacks):
    client.force_login(world["editor"])
    p, editor, epic = world["product"].id, world["editor"], world["epic"]
    since = live.event_log().current(world["ws"].id)
    with django_capture_on_commit_callbacks(execute=True):
        created = backlog.epic_create(actor=editor, product=world["product"], title="Search")
    with django_capture_on_commit_callbacks(execute=True):
        backlog.epic_update(actor=editor, epic=epic, data={"title": "Checkout v2"}, version=epic.version)
    with django_capture_on_commit_callbacks(execute=True):
        backlog.epics_link(actor=editor, product=world["product"], epic_ids=[epic.id], initiative=world["initiative"])
    events = _events_since(client, world, since)
    assert events == [("epic.created", [f"product:{p}", f"epic:{created.id}"]),
                      ("epic.updated", [f"product:{p}", f"epic:{epic.id}"]),
                      ("epic.updated", [f"product:{p}", f"epic:{epic.id}"])]
    html = client.get(_pages(world)["epics"][0]).content.decode()
    assert _region(html, "epic-rows") == [f"product:{p}"]
    assert f'data-live-item="epic:{created.id}"' in html


def test_the_iteration_burn_charts_follow_its_plan_and_its_stories_status(world, client,
                                                                         django_capture_on_commit_callbacks):
    """The burn region (its chart data and table) listens to the iteration's topic (a story planned
    or taken out) and to its product's (a story of the iteration changing status: story.updated)."""
    client.force_login(world["editor"])
    p, editor, story, iteration = world["product"].id, world["editor"], world["story"], world["iteration"]
    url = _pages(world)["iteration"][0]
    html = client.get(url).content.decode()
    burn = _region(html, "burn")
    assert set(burn) == {f"product:{p}", f"iteration:{iteration.id}"}
    burn_html = html[html.index('id="burn"'):]
    assert burn_html.index('id="burn-data"') < burn_html.index("</section>")  # the chart data is refreshed with it

    since = live.event_log().current(world["ws"].id)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.iteration_add_story(actor=editor, iteration=iteration, story_id=story.id)
    story.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        backlog.story_update(actor=editor, story=story, data={"status": "done"}, version=story.version)
    events = _events_since(client, world, since)
    planned = [t for e, t in events if e == "iteration.changed"]
    status = [t for e, t in events if e == "story.updated"]
    assert planned and set(planned[0]) & set(burn) and status and set(status[0]) & set(burn)
