"""Reads of the reports app, scoped to the user's workspaces (a foreign id is simply not found)."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for

from .models import ReportDelivery, ReportRun, ReportSubscription, WebhookDelivery, WebhookEndpoint


def subscriptions_for_user(*, user, workspace_id: int | None = None) -> QuerySet[ReportSubscription]:
    qs = (ReportSubscription.objects.filter(workspace_id__in=workspace_ids_for(user))
          .select_related("workspace", "product", "owner")
          .annotate(recipient_count=Count("recipients", filter=Q(recipients__unsubscribed_at__isnull=True),
                                          distinct=True))
          .prefetch_related("recipients"))
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def subscription_for_user(*, user, subscription_id: int, workspace_id: int | None = None) -> ReportSubscription:
    return get_object_or_404(subscriptions_for_user(user=user, workspace_id=workspace_id), pk=subscription_id)


def runs_of(*, subscription, limit: int = 50) -> list[ReportRun]:
    """Runs with their deliveries: two queries whatever the number of runs and recipients."""
    return list(subscription.runs.defer("data").prefetch_related(
        Prefetch("deliveries", queryset=ReportDelivery.objects.order_by("email")))[:limit])


def runs_for_user(*, user) -> QuerySet[ReportRun]:
    return (ReportRun.objects.filter(subscription__workspace_id__in=workspace_ids_for(user))
            .select_related("subscription").prefetch_related("deliveries"))


def webhook_endpoints_for_user(*, user, workspace_id: int | None = None) -> QuerySet[WebhookEndpoint]:
    qs = (WebhookEndpoint.objects.filter(workspace_id__in=workspace_ids_for(user), kind="webhook")
          .select_related("workspace"))
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def webhook_deliveries_of(*, endpoint, limit: int = 100) -> list[WebhookDelivery]:
    return list(endpoint.deliveries.all()[:limit])
