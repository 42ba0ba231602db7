"""Factories of the sso app: an OIDC provider of a workspace and a verified domain."""

import factory
from django.utils import timezone

from pmhub.models import Role
from pmhub.secretbox import seal
from sso.models import IdentityProvider, SsoDomain
from tests.factories import WorkspaceFactory


class IdentityProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityProvider

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Provider {n}")
    protocol = IdentityProvider.Protocol.OIDC
    issuer = "https://idp.example.com"
    client_id = "pmhub-client"
    client_secret_sealed = factory.LazyFunction(lambda: seal("client-secret"))
    default_role = Role.VIEWER


class SsoDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SsoDomain

    workspace = factory.SubFactory(WorkspaceFactory)
    domain = factory.Sequence(lambda n: f"corp{n}.test")
    verification_token = factory.Sequence(lambda n: f"token-{n}")
    verified_at = factory.LazyFunction(timezone.now)
