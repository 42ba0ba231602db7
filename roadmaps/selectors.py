"""Reads of the roadmaps app, scoped to the user's workspaces."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for

from .models import Product


def products_for_user(*, user) -> QuerySet[Product]:
    """Live (not soft-deleted) products of every workspace the user belongs to."""
    return Product.objects.alive().filter(workspace_id__in=workspace_ids_for(user))


def product_for_user(*, user, product_id: int, workspace_id: int | None = None) -> Product:
    """One product the user may see (404 otherwise), optionally within a given workspace."""
    qs = products_for_user(user=user).select_related("workspace")
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return get_object_or_404(qs, pk=product_id)
