"""Reads of the sso app, scoped to the workspaces where the user is an admin (single sign-on is
configured by admins only: for anyone else a provider or a domain is simply not found)."""

from django.db.models import Count, Max, QuerySet
from django.shortcuts import get_object_or_404

from pmhub.access import roles_of
from pmhub.models import Role

from .models import IdentityProvider, SsoDomain, SsoIdentity


def _admin_workspaces(user) -> list[int]:
    return [ws for ws, role in roles_of(user).items() if role >= Role.ADMIN]


def providers_for_admin(*, user, workspace_id: int | None = None) -> QuerySet[IdentityProvider]:
    """Providers with how many people are linked and when one last signed in."""
    qs = (IdentityProvider.objects.filter(workspace_id__in=_admin_workspaces(user))
          .annotate(identity_count=Count("identities"), last_sign_in=Max("identities__last_login_at"))
          .order_by("name", "id"))
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def provider_for_admin(*, user, provider_id: int, workspace_id: int | None = None) -> IdentityProvider:
    return get_object_or_404(providers_for_admin(user=user, workspace_id=workspace_id), pk=provider_id)


def domains_for_admin(*, user, workspace_id: int | None = None) -> QuerySet[SsoDomain]:
    qs = SsoDomain.objects.filter(workspace_id__in=_admin_workspaces(user)).order_by("domain", "id")
    if workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def domain_for_admin(*, user, domain_id: int, workspace_id: int | None = None) -> SsoDomain:
    return get_object_or_404(domains_for_admin(user=user, workspace_id=workspace_id), pk=domain_id)


def identities_of(*, provider: IdentityProvider, limit: int = 50) -> list[SsoIdentity]:
    """The people linked to a provider, most recent sign-in first."""
    return list(provider.identities.select_related("user").order_by("-last_login_at", "-id")[:limit])
