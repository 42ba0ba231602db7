"""Subscriber lookups on the write path come from the cache (pmhub/subscribers.py) and are never
stale: every test writes a subscriber and emits at once, through the real cache (Redis) and
database. Issue 23, target 2; decision 1931."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import services as backlog
from backlog.models import Story
from integrations import services as integrations
from integrations.jira.models import JiraConnection, JiraOutbox, JiraProjectLink
from pmhub.secretbox import seal
from pmhub.subscribers import subscribers_cached, subscribers_changed
from reports.models import WebhookDelivery, WebhookEndpoint
from roadmaps.models import Product
from tests.backlog.factories import make_stories

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop"


@pytest.fixture
def story(workspace, admin):
    product = Product.objects.create(workspace=workspace, name="Acme Analytics")
    return make_stories(product, 3, actor=admin)[0]


def _move(story, admin):
    other = Story.objects.filter(product=story.product).exclude(pk=story.pk).order_by("rank").last()
    story = Story.objects.select_related("product").get(pk=story.pk)
    backlog.story_move(actor=admin, story=story, after=other.id)


def _queries(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries]


def test_no_subscriber_no_lookup_query(story, admin):
    _move(story, admin)  # fills the summaries
    sql = _queries(lambda: _move(story, admin))
    assert not [q for q in sql if "reports_webhookendpoint" in q or "integrations_channel" in q]


def test_a_webhook_created_after_a_cached_answer_gets_the_next_event(story, admin, workspace):
    _move(story, admin)
    assert WebhookDelivery.objects.count() == 0
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.acme.test/in", events=["story.moved"]
    )
    _move(story, admin)
    assert list(WebhookDelivery.objects.values_list("endpoint_id", "event")) == [(endpoint.id, "story.moved")]

    endpoint.active = False
    endpoint.save()
    _move(story, admin)
    assert WebhookDelivery.objects.count() == 1  # paused: nothing more

    endpoint.active, endpoint.events = True, ["story.created"]
    endpoint.save()
    _move(story, admin)
    assert WebhookDelivery.objects.count() == 1  # another event selected
    endpoint.delete()  # invalidates: the next lookup loads again
    assert subscribers_cached("webhooks", workspace.id, lambda ws: frozenset({"reloaded"})) == {"reloaded"}


def test_a_channel_created_after_a_cached_answer_gets_the_next_event(story, admin, workspace):
    _move(story, admin)
    channel = integrations.channel_create(
        user=admin, workspace=workspace, kind="slack", name="#eng", url=HOOK, events=["story.moved"], product=None
    )
    _move(story, admin)
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [channel.endpoint_id]
    integrations.channel_update(user=admin, channel=channel, data={"active": False}, version=channel.version)
    _move(story, admin)
    assert WebhookDelivery.objects.count() == 1


def test_a_jira_link_created_after_a_cached_answer_gets_the_next_change(story, admin, workspace):
    backlog.story_update(actor=admin, story=story, data={"title": "First"}, version=story.version)
    assert JiraOutbox.objects.count() == 0
    jira = JiraConnection.objects.create(
        workspace=workspace,
        name="Jira",
        base_url="https://acme.atlassian.net",
        email="a@b.c",
        token_sealed=seal("t"),
        hook_token="h",
        secret_sealed=seal("s"),
    )
    link = JiraProjectLink.objects.create(connection=jira, product=story.product, project_key="ENG")
    story.refresh_from_db()
    backlog.story_update(actor=admin, story=story, data={"title": "Second"}, version=story.version)
    assert list(JiraOutbox.objects.values_list("link_id", "story_id")) == [(link.id, story.id)]
    jira.delete()  # cascades to the link
    assert subscribers_cached("jira", workspace.id, lambda ws: frozenset({-1})) == frozenset({-1})


def test_a_change_while_a_summary_loads_is_not_stored_as_current(workspace):
    """A reader that read the rows before a concurrent write committed keeps its answer only for
    itself: the write's bump makes the next reader load again."""
    loads = []

    def load(workspace_id):
        loads.append(workspace_id)
        if len(loads) == 1:
            subscribers_changed("test", workspace_id)  # another process's write lands meanwhile
        return frozenset({f"load {len(loads)}"})

    assert subscribers_cached("test", workspace.id, load) == {"load 1"}
    assert subscribers_cached("test", workspace.id, load) == {"load 2"}
    assert subscribers_cached("test", workspace.id, load) == {"load 2"}  # now current: no third load
    assert len(loads) == 2


def test_workspaces_do_not_share_summaries(workspace, other_workspace):
    assert subscribers_cached("test", workspace.id, lambda ws: frozenset({"mine"})) == {"mine"}
    assert subscribers_cached("test", other_workspace.id, lambda ws: frozenset({"theirs"})) == {"theirs"}


def test_an_emission_reads_every_kind_in_one_cache_round_trip(story, admin, workspace, monkeypatch):
    """webhook_emit reads the webhooks, channels and Jira summaries with one MGET (decision 1964),
    and a webhook created after that read still gets the next event."""
    from django.core.cache import cache

    backlog.story_update(actor=admin, story=Story.objects.select_related("product").get(pk=story.pk),
                         data={"title": "Warm"}, version=None)  # every summary stored
    reads = []
    real = cache.get_many

    def counted(keys, *args, **kwargs):
        reads.append(list(keys))
        return real(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", counted)
    backlog.story_update(actor=admin, story=Story.objects.select_related("product").get(pk=story.pk),
                         data={"title": "Once"}, version=None)
    assert len(reads) == 1, reads
    assert {key.split(":")[1] for key in reads[0]} == {"webhooks", "channels", "jira"}
    WebhookEndpoint.objects.create(workspace=workspace, url="https://hooks.acme.test/in", events=["story.moved"])
    _move(story, admin)
    assert WebhookDelivery.objects.filter(event="story.moved").count() == 1
