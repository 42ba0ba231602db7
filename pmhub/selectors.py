"""Reads of the core app, always starting from the user's memberships."""

from django.db.models import Count, Q, QuerySet

from .access import workspace_ids_for
from .models import Activity, ApiToken, Invitation, Membership, Notification, Workspace


def workspaces_for_user(*, user) -> QuerySet[Workspace]:
    return Workspace.objects.filter(id__in=workspace_ids_for(user)).annotate(
        member_count=Count("memberships", distinct=True)
    ).order_by("name")


def workspace_for_user(*, user, slug: str) -> Workspace:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Workspace, slug=slug, id__in=workspace_ids_for(user))


def members_of(*, workspace: Workspace) -> QuerySet[Membership]:
    return workspace.memberships.select_related("user").order_by("user__email")


def invitations_open(*, workspace: Workspace) -> QuerySet[Invitation]:
    from django.utils import timezone

    return workspace.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True,
                                        expires_at__gt=timezone.now())


def activity_for_workspace(*, workspace: Workspace, limit: int = 50) -> QuerySet[Activity]:
    return workspace.activities.select_related("actor")[:limit]


def api_tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("workspace").order_by("-created_at")


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs


def unread_count(*, user) -> int:
    return Notification.objects.filter(Q(recipient=user) & Q(read_at__isnull=True)).count()
