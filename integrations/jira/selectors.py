"""Reads of the Jira integration, scoped to the user's workspaces (a foreign id is not found)."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for

from .models import JiraConnection, JiraOutbox, JiraProjectLink, JiraSyncLog


def connections_for_user(*, user, workspace_id: int | None = None) -> QuerySet[JiraConnection]:
    """With `queue_length`: outbox rows waiting to be sent (health, beside failures in a row)."""
    qs = (JiraConnection.objects.filter(workspace_id__in=workspace_ids_for(user)).select_related("workspace")
          .annotate(queue_length=Count("links__outbox", filter=Q(links__outbox__status=JiraOutbox.Status.PENDING))))
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def connection_for_user(*, user, connection_id: int, workspace_id: int | None = None) -> JiraConnection:
    return get_object_or_404(connections_for_user(user=user, workspace_id=workspace_id), pk=connection_id)


def links_for_user(*, user, workspace_id: int | None = None) -> QuerySet[JiraProjectLink]:
    qs = (JiraProjectLink.objects.filter(connection__workspace_id__in=workspace_ids_for(user))
          .select_related("connection", "product")
          .annotate(issue_count=Count("issues", filter=Q(issues__unlinked_at__isnull=True))))
    if workspace_id is not None:
        qs = qs.filter(connection__workspace_id=workspace_id)
    return qs


def link_for_user(*, user, link_id: int, workspace_id: int | None = None,
                  connection_id: int | None = None) -> JiraProjectLink:
    qs = links_for_user(user=user, workspace_id=workspace_id)
    if connection_id is not None:
        qs = qs.filter(connection_id=connection_id)
    return get_object_or_404(qs, pk=link_id)


def log_for_user(*, user, workspace_id: int | None = None) -> QuerySet[JiraSyncLog]:
    qs = (JiraSyncLog.objects.filter(connection__workspace_id__in=workspace_ids_for(user))
          .select_related("connection", "story", "link__product", "outbox"))
    if workspace_id is not None:
        qs = qs.filter(connection__workspace_id=workspace_id)
    return qs


def log_of(connection, *, limit: int = 100) -> list[JiraSyncLog]:
    return list(connection.log.select_related("story", "outbox", "link")[:limit])
