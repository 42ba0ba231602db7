"""Reads of the core app, always starting from the user's memberships."""

from django.core.cache import cache
from django.db import router, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .access import WORKSPACE_FIELDS, memberships_of, workspace_ids_for
from .models import Activity, ApiToken, Invitation, Membership, Notification, Workspace
from .prepared import Prepared


def workspaces_for_user(*, user) -> QuerySet[Workspace]:
    return Workspace.objects.filter(id__in=workspace_ids_for(user)).annotate(
        member_count=Count("memberships", distinct=True)
    ).order_by("name")


def workspace_for_user(*, user, slug: str) -> Workspace:
    """The workspace `slug` among the user's (404 otherwise), built from the row the memberships
    query read with it (pmhub.access.memberships_of): no query of its own on a signed-in page."""
    ref = next((w for w in memberships_of(user) if w.slug == slug), None)
    if ref is None:
        raise Http404("No Workspace matches the given query.")
    if ref.row is None:  # memberships from the API-token cache: read the workspace
        return get_object_or_404(Workspace, pk=ref.id)
    return Workspace.from_db(router.db_for_read(Workspace), WORKSPACE_FIELDS, ref.row)


def members_of(*, workspace: Workspace) -> QuerySet[Membership]:
    return workspace.memberships.select_related("user").order_by("user__email")


def invitations_open(*, workspace: Workspace) -> QuerySet[Invitation]:
    from django.utils import timezone

    return workspace.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True,
                                        expires_at__gt=timezone.now())


def activity_for_workspace(*, workspace: Workspace, limit: int = 50) -> QuerySet[Activity]:
    return workspace.activities.select_related("actor")[:limit]


_RECENT_ACTIVITY: dict[int, Prepared] = {}


def recent_activity(*, workspace: Workspace, limit: int = 15) -> list[Activity]:
    """activity_for_workspace as a list, its query compiled once per limit (pmhub.prepared): home's
    activity list on every view (decision 2120)."""
    query = _RECENT_ACTIVITY.get(limit)
    if query is None:
        query = _RECENT_ACTIVITY[limit] = Prepared(Activity, lambda workspace_id: Activity.objects.filter(
            workspace_id=workspace_id).select_related("actor")[:limit])
    return query.objects(workspace.id)


def api_tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("workspace").order_by("-created_at")


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


UNREAD_TTL = 300


def unread_key(user_id: int) -> str:
    return f"pmhub:unread:{user_id}"


def unread_count(*, user) -> int:
    """The user's unread notifications, cached. Every write of a notification goes through
    pmhub.services (notify, notifications_mark_read) or is a delete (a post_delete receiver in
    pmhub.apps), and each drops the key (unread_forget): the cache is exact; the TTL only bounds
    a lost delete."""
    key = unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(Q(recipient=user) & Q(read_at__isnull=True)).count()
        cache.set(key, count, UNREAD_TTL)
    return count


def unread_count_and_live_seq(*, user, workspace_id: int) -> tuple[int, str]:
    """unread_count(user=user) and the workspace's live sequence number (pmhub.live, as text for
    the page's data-live-seq) in one Redis round trip when the cache and the live log share one
    Redis database (settings: LIVE_REDIS_URL is the cache's location): an MGET of both keys
    (issue 23, decision 2350). A missing count is counted and cached as unread_count does; Redis
    away answers as the two reads did apart (the count's error stands, the sequence is "0")."""
    from django.conf import settings
    from django.core.cache import caches

    from .cache import RedisCache
    from .live import RedisLog, event_log

    log, backend = event_log(), caches["default"]
    if (isinstance(backend, RedisCache) and isinstance(log, RedisLog)
            and backend._servers == [getattr(settings, "LIVE_REDIS_URL", "")]):
        key = backend.make_and_validate_key(unread_key(user.pk))
        try:
            count, seq = log._sync.mget([key, log._keys(workspace_id)[0]])
        except Exception:  # noqa: BLE001 - Redis away: the reads one by one say how (below)
            count = seq = False
        if count is not False:
            if count is None:
                count = Notification.objects.filter(Q(recipient=user) & Q(read_at__isnull=True)).count()
                cache.set(unread_key(user.pk), count, UNREAD_TTL)
            return int(count), str(int(seq or 0))
    count = unread_count(user=user)
    try:
        seq = log.current(int(workspace_id))
    except Exception:  # noqa: BLE001 - Redis away: the page still renders and the socket says reload
        seq = 0
    return count, str(seq)


def unread_forget(user_id: int) -> None:
    """Drop the cached count now and again after commit (a request reading in between caches the
    old count until then)."""
    key = unread_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
