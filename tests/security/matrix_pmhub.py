"""Tenancy-matrix entries of the core app (pmhub). Format: see tests/security/README.md."""

from datetime import timedelta

from django.utils import timezone

from pmhub.models import ApiToken, BackgroundJob, Invitation, Membership, Role, hash_secret
from tests.factories import MembershipFactory, UserFactory

from .matrix import Exempt, Route


def _membership(ws):
    return MembershipFactory(workspace=ws, role=Role.EDITOR, user=UserFactory())


def _invitation(ws):
    return Invitation.objects.create(workspace=ws, email="invited@example.com", role=Role.VIEWER,
                                     token_hash=hash_secret(f"k-{ws.pk}-{timezone.now().timestamp()}"),
                                     expires_at=timezone.now() + timedelta(days=7))


def _token(ws):
    owner = _membership(ws).user
    raw = ApiToken.generate_key()
    return ApiToken.objects.create(user=owner, workspace=ws, name="owner's", prefix=raw[:12], key_hash=hash_secret(raw))


def _job(ws):
    return BackgroundJob.objects.create(workspace=ws, kind="matrix", total=3)


# API: router basename -> Route (covers every detail route of the viewset, incl. @action(detail=True)).
API = {
    "workspace": Route(build=lambda ws: ws, payload=lambda ws: {"name": "Pwned", "time_zone": "UTC"}),
    "job": Route(build=_job),
}

# Pages: URL name -> Route or Exempt.
PAGES = {
    "member_role": Route(build=_membership, payload=lambda m: {"role": Role.ADMIN}),
    "member_remove": Route(build=_membership),
    "invitation_revoke": Route(build=_invitation),
    "api_token_revoke": Route(build=_token, owner_scoped=True),
    "job_progress": Route(build=_job),
    "invitation_accept": Exempt("The secret key in the URL is the credential (stored hashed, expiring, bound to "
                                "the invited e-mail); tested in tests/core/test_workspaces.py."),
    "password_reset_confirm": Exempt("Django's signed, expiring password-reset token; no tenant data."),
    "signup_confirm": Exempt("A signed, expiring sign-up token naming an e-mail address; creates an account of "
                             "its own, touches no workspace (tests/security/test_signin_abuse.py)."),
}

# Viewsets that do not derive from pmhub.api.base.ScopedViewSet: basename -> reason.
API_BASE_EXCEPTIONS: dict[str, str] = {}

# Membership is imported for readers of this file: the models behind the builders above.
__all__ = ["API", "PAGES", "API_BASE_EXCEPTIONS", "Membership"]
