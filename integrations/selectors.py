"""Reads of the integrations app, scoped to the user's workspaces (a foreign id is simply not found)."""

from django.db.models import Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for
from pmhub.prepared import Prepared

from .models import Channel, PullRequestLink, Repository


def channels_for_user(*, user, workspace_id: int | None = None) -> QuerySet[Channel]:
    """Channels with their health: `last_success` (when a delivery last succeeded) beside the
    endpoint's `consecutive_failures` (failed deliveries in a row), in the same query."""
    qs = (Channel.objects.filter(workspace_id__in=workspace_ids_for(user))
          .select_related("workspace", "product", "endpoint")
          .annotate(last_success=Max("endpoint__deliveries__last_attempt_at",
                                     filter=Q(endpoint__deliveries__status="success"))))
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def channel_for_user(*, user, channel_id: int, workspace_id: int | None = None) -> Channel:
    return get_object_or_404(channels_for_user(user=user, workspace_id=workspace_id), pk=channel_id)


def channel_deliveries_of(*, channel, limit: int = 100) -> list:
    """The channel's part of the shared delivery log (reports.WebhookDelivery), newest first."""
    return list(channel.endpoint.deliveries.all()[:limit])


def repositories_for_user(*, user, workspace_id: int | None = None) -> QuerySet[Repository]:
    qs = Repository.objects.filter(workspace_id__in=workspace_ids_for(user)).select_related("workspace", "product")
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def repository_for_user(*, user, repository_id: int, workspace_id: int | None = None) -> Repository:
    return get_object_or_404(repositories_for_user(user=user, workspace_id=workspace_id), pk=repository_id)


def pull_requests_of_story(*, story) -> list[PullRequestLink]:
    """The pull requests linked to a story (the story page's panel), newest first, one query."""
    return _PULL_REQUESTS_OF_STORY.objects(story.id)


# Compiled once per process (pmhub.prepared): every story page reads it (decision 2132).
_PULL_REQUESTS_OF_STORY = Prepared(PullRequestLink, lambda story_id, *_: PullRequestLink.objects.filter(
    story_id=story_id).select_related("repository")[:50])
