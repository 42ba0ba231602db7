"""The page header's workspace switcher and unread count: no query of their own on a signed-in
page, and the cached unread count is exact after every kind of notification write."""

import pytest
from django.urls import reverse

from pmhub import services
from pmhub.models import Notification, Role

pytestmark = pytest.mark.django_db


def _badge(client, url) -> str:
    html = client.get(url).content.decode()
    start = html.index('data-testid="unread-count">') + len('data-testid="unread-count">')
    return html[start:html.index("<", start)]


def test_unread_count_follows_notify_mark_read_and_delete(client_as, admin, workspace,
                                                          django_capture_on_commit_callbacks):
    client = client_as(admin)
    url = reverse("workspace_home", kwargs={"ws": workspace.slug})
    assert _badge(client, url) == "0"
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify(recipient=admin, kind="mention", title="a", workspace_id=workspace.id)
        services.notify(recipient=admin, kind="mention", title="b", workspace_id=workspace.id)
    assert _badge(client, url) == "2"
    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_mark_read(user=admin, ids=[first.id])
    assert _badge(client, url) == "1"
    with django_capture_on_commit_callbacks(execute=True):
        Notification.objects.filter(recipient=admin).delete()
    assert _badge(client, url) == "0"


def test_someone_elses_notification_leaves_my_count_alone(client_as, admin, editor, workspace,
                                                         django_capture_on_commit_callbacks):
    client = client_as(admin)
    url = reverse("workspace_home", kwargs={"ws": workspace.slug})
    assert _badge(client, url) == "0"
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipient=editor, kind="mention", title="for the editor", workspace_id=workspace.id)
    assert _badge(client, url) == "0"
    assert _badge(client_as(editor), url) == "1"


def test_switcher_lists_my_workspaces_by_name_with_my_role(client_as, admin, workspace, other_workspace):
    other_workspace.memberships.create(user=admin, role=Role.VIEWER)
    client = client_as(admin)
    url = reverse("members", kwargs={"ws": workspace.slug})
    client.get(url)  # session and unread count now cached
    html = client.get(url).content.decode()
    names = sorted([workspace.name, other_workspace.name])
    assert html.index(f">{names[0]}</a>") < html.index(f">{names[1]}</a>")
    assert "Workspace settings" in html  # admin here
    other = client.get(reverse("members", kwargs={"ws": other_workspace.slug})).content.decode()
    assert "Workspace settings" not in other  # a viewer there


def test_the_page_reads_the_unread_count_and_live_sequence_fresh_in_one_round_trip(
        client_as, admin, workspace, django_capture_on_commit_callbacks):
    """Decision 2350: one MGET for both when the cache and the live log share a Redis database; a
    write is seen by the very next page (the count's key dropped, the sequence read at render)."""
    import re

    from django.conf import settings
    from django.core.cache import caches

    from pmhub.cache import RedisCache
    from pmhub.live import RedisLog, event_log

    client = client_as(admin)
    url = reverse("workspace_home", kwargs={"ws": workspace.slug})
    log = event_log()
    shared = (isinstance(caches["default"], RedisCache) and isinstance(log, RedisLog)
              and caches["default"]._servers == [getattr(settings, "LIVE_REDIS_URL", "")])

    def seq() -> str:
        return re.search(r'data-live-seq="([^"]*)"', client.get(url).content.decode()).group(1)

    before = log.current(workspace.id)
    assert seq() == str(before)
    log.append(workspace.id, {"kind": "test"})
    assert seq() == str(before + 1)
    assert _badge(client, url) == "0"
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipient=admin, kind="mention", title="<b>&'\"é", workspace_id=workspace.id)
    assert _badge(client, url) == "1"
    if shared:  # the count cached by the first page is read with the sequence: the session's GET, one MGET
        import redis

        calls = []
        original = redis.Redis.execute_command

        def counting(self, *args, **options):
            calls.append(args[0])
            return original(self, *args, **options)

        redis.Redis.execute_command = counting
        try:
            client.get(url)
        finally:
            redis.Redis.execute_command = original
        assert sorted(calls) == ["GET", "MGET"]
