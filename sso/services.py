"""Single sign-on writes, independent of the protocol: the OIDC views (sso.oidc) and the SAML ones
each validate their protocol's message, then hand the identity they proved to
`sign_in_from_identity`. Provider and domain configuration (pages and API) is written here too.

Decisions: docs/decisions/1801 (domains), 1802 (roles from groups), 1803 (require SSO and its
break-glass).
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from pmhub.access import forget_roles, require_role
from pmhub.integrity import duplicate_as
from pmhub.models import Membership, Role
from pmhub.outbound import OutboundRefused, outbound_check_url, outbound_host_listed
from pmhub.secretbox import seal
from pmhub.services import activity_record
from pmhub.utils import version_claim

from .models import MAX_GROUP_NAME, MAX_GROUP_ROLES, IdentityProvider, SsoDomain, SsoIdentity
from .saml_services import saml_provider_saved

log = logging.getLogger("pmhub.sso")


class SignInRefused(Exception):
    """A single sign-on that must not sign anyone in. `code` names the reason for the log and the
    tests; `message` is the sentence the refusal page shows (never a claim's raw value)."""

    MESSAGES = {
        "provider_disabled": "This sign-in method is turned off. Ask your workspace admin.",
        "no_email": "Your identity provider did not send an e-mail address, so we cannot tell who you are.",
        "no_subject": "Your identity provider did not say who you are.",
        "domain_not_verified": "Your e-mail domain is not verified for single sign-on in this workspace. "
                               "Ask your workspace admin.",
        "unknown_domain": "No workspace uses single sign-on for this e-mail domain.",
        "deactivated": "This account is deactivated. Ask your workspace admin.",
        "no_account": "There is no account for this e-mail address, and this sign-in method does not create one. "
                      "Ask your workspace admin for an invitation.",
        "linked_elsewhere": "This account is already linked to another identity at this provider.",
    }

    def __init__(self, code: str, message: str | None = None):
        self.code = code
        self.message = message or self.MESSAGES.get(code, "Single sign-on did not succeed.")
        super().__init__(f"{code}: {self.message}")


# --- domains and routing ------------------------------------------------------------------------

def domain_normalise(value: str) -> str:
    """`Example.COM.` -> `example.com`; IDNA names to their ASCII form. Raises ValidationError."""
    text = (value or "").strip().lower().rstrip(".")
    if text.startswith("@"):
        text = text[1:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError({"domain": "Enter a domain name such as example.com."}) from None
    labels = text.split(".")
    if (len(text) > 253 or len(labels) < 2
            or any(not label or len(label) > 63 or not all(c.isalnum() or c == "-" for c in label)
                   or label.startswith("-") or label.endswith("-") for label in labels)):
        raise ValidationError({"domain": "Enter a domain name such as example.com."})
    return text


def email_domain(email: str) -> str:
    """The domain of an address, normalised like SsoDomain.domain; "" when there is none."""
    _, at, domain = (email or "").strip().rpartition("@")
    if not at:
        return ""
    try:
        return domain_normalise(domain)
    except ValidationError:
        return ""


def verified_domain_for_email(email: str) -> SsoDomain | None:
    domain = email_domain(email)
    if not domain:
        return None
    return SsoDomain.objects.filter(domain=domain, verified_at__isnull=False).select_related("workspace").first()


def providers_for_email(email: str) -> list[IdentityProvider]:
    """The enabled providers of the workspace that verified the address's domain, by name (the
    "Continue with SSO" page offers a choice when there are several). Empty: no SSO for it."""
    domain = verified_domain_for_email(email)
    if domain is None:
        return []
    return list(IdentityProvider.objects.filter(workspace_id=domain.workspace_id, enabled=True).order_by("name", "id"))


def provider_for_email(email: str) -> IdentityProvider | None:
    """The provider an address signs in with when there is exactly one; None when there is none or
    a choice to make (see providers_for_email)."""
    providers = providers_for_email(email)
    return providers[0] if len(providers) == 1 else None


# --- roles from groups (decision 1802) ----------------------------------------------------------

def group_roles_clean(value) -> list[dict]:
    """Validate an owner's group -> role table: a list of {"group": text, "role": 10|20|30|
    "viewer"|"editor"|"admin"}, at most MAX_GROUP_ROLES rows, each group once. Returns it with
    roles as numbers. Raises ValidationError({"group_roles": ...})."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({"group_roles": "Give a list of {group, role} rows."})
    if len(value) > MAX_GROUP_ROLES:
        raise ValidationError({"group_roles": f"At most {MAX_GROUP_ROLES} group rows."})
    names = {label.lower(): number for number, label in Role.choices}
    rows, seen = [], set()
    for row in value:
        if not isinstance(row, dict) or set(row) - {"group", "role"}:
            raise ValidationError({"group_roles": "Each row has a group and a role, nothing else."})
        group, role = row.get("group"), row.get("role")
        if not isinstance(group, str) or not group.strip() or len(group.strip()) > MAX_GROUP_NAME:
            raise ValidationError({"group_roles": f"Each group is a name of 1 to {MAX_GROUP_NAME} characters."})
        if isinstance(role, str) and role.strip().lower() in names:
            role = names[role.strip().lower()]
        if isinstance(role, bool) or role not in Role.values:
            raise ValidationError({"group_roles": "Each role is viewer, editor or admin."})
        group = group.strip()
        if group in seen:
            raise ValidationError({"group_roles": f"The group \"{group}\" is listed twice."})
        seen.add(group)
        rows.append({"group": group, "role": int(role)})
    return rows


def role_from_groups(*, group_roles: list[dict], default_role: int, groups) -> int:
    """The role a sign-in gives: the highest role mapped from any of the person's groups; the
    default role when none of their groups is mapped. Group names compare exactly (directories
    differ on case; the owner types them as the provider sends them)."""
    mine = {g for g in (groups or []) if isinstance(g, str)}
    mapped = [row["role"] for row in group_roles or [] if row.get("group") in mine]
    return max(mapped) if mapped else default_role


def _admins_left_after(workspace_id: int, membership_id: int) -> bool:
    return Membership.objects.filter(workspace_id=workspace_id, role=Role.ADMIN).exclude(pk=membership_id).exists()


def _membership_apply(*, provider: IdentityProvider, user, groups) -> Membership:
    """Membership in the provider's workspace with the role its groups give (decision 1802):
    - new membership: the mapped role (the default role when no group is mapped);
    - existing membership, provider WITH a group table: the mapped role replaces whatever is there,
      at every sign-in (the directory is the source of truth, a manual raise lasts until the next
      sign-in), except that the workspace's last admin is never demoted;
    - existing membership, provider WITHOUT a group table: the role is left as the admins set it.
    """
    role = role_from_groups(group_roles=provider.group_roles, default_role=provider.default_role, groups=groups)
    membership = (Membership.objects.select_for_update()
                  .filter(user=user, workspace_id=provider.workspace_id).first())
    if membership is None:
        try:
            with transaction.atomic():
                membership = Membership.objects.create(user=user, workspace_id=provider.workspace_id, role=role)
        except IntegrityError:  # the same person's sign-in in another tab made it a moment ago
            return Membership.objects.get(user=user, workspace_id=provider.workspace_id)
        activity_record(workspace_id=provider.workspace_id, actor=user, verb="joined through single sign-on",
                        target=membership.workspace, data={"provider": provider.name, "role": role})
        return membership
    if provider.group_roles and membership.role != role:
        if membership.role == Role.ADMIN and not _admins_left_after(provider.workspace_id, membership.id):
            log.warning("sso.role_kept provider=%s user=%s reason=last_admin", provider.pk, user.pk)
            return membership
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        activity_record(workspace_id=provider.workspace_id, actor=user, verb="role set by single sign-on",
                        target=membership.workspace, data={"provider": provider.name, "from": before, "to": role})
    return membership


# --- sign-in ------------------------------------------------------------------------------------

@transaction.atomic
def sign_in_from_identity(provider: IdentityProvider, *, subject: str, email: str, name: str = "",
                          groups=None):
    """The account a proven identity signs in as (the caller then calls django's `login`).

    Order: the link (provider, subject) first, so a renamed address still reaches its account;
    else the account with that e-mail (linked now); else a just-in-time account. The address's
    domain must be verified by the provider's workspace, for every path: a provider can only
    speak for the domains its workspace proved it owns (else an admin of one workspace could
    configure a provider that asserts anyone's address). Deactivated accounts are refused.
    The membership and its role follow `_membership_apply`. Raises SignInRefused.
    """
    subject = (subject or "").strip()
    email = (email or "").strip().lower()
    if not provider.enabled:
        raise SignInRefused("provider_disabled")
    if not subject or len(subject) > 255:
        raise SignInRefused("no_subject")
    try:
        validate_email(email)
    except ValidationError:
        raise SignInRefused("no_email") from None
    domain = email_domain(email)
    if not SsoDomain.objects.filter(workspace_id=provider.workspace_id, domain=domain,
                                    verified_at__isnull=False).exists():
        raise SignInRefused("domain_not_verified")

    User = get_user_model()
    now = timezone.now()
    identity = (SsoIdentity.objects.select_for_update().select_related("user")
                .filter(provider=provider, subject=subject).first())
    if identity is not None:
        user = identity.user  # the account keeps its own address even when the provider's changed
    else:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            if not provider.jit_enabled:
                raise SignInRefused("no_account")
            try:
                with transaction.atomic():
                    user = User.objects.create_user(email=email, name=(name or "").strip()[:150])
            except IntegrityError:  # the same person's second tab created it first
                user = User.objects.get(email__iexact=email)
            log.info("sso.account_created provider=%s user=%s", provider.pk, user.pk)
        try:
            with transaction.atomic():
                identity = SsoIdentity.objects.create(provider=provider, subject=subject, user=user)
        except IntegrityError:
            identity = SsoIdentity.objects.select_for_update().get(provider=provider, subject=subject)
            if identity.user_id != user.id:
                raise SignInRefused("linked_elsewhere") from None
    if not user.is_active:
        raise SignInRefused("deactivated")
    if name and not user.name:
        user.name = name.strip()[:150]
        user.save(update_fields=["name"])
    membership = _membership_apply(provider=provider, user=user, groups=groups)
    identity.last_login_at = now
    identity.granted_role = membership.role
    identity.save(update_fields=["last_login_at", "granted_role"])
    forget_roles(user)
    log.info("sso.signed_in provider=%s user=%s role=%s", provider.pk, user.pk, membership.role)
    return user


# --- passwords for domains that require SSO (decision 1803) -------------------------------------

def break_glass_allowed(*, user, domain: SsoDomain) -> bool:
    """The documented way in when the identity provider is down: an address listed in the
    SSO_BREAK_GLASS_EMAILS setting that is an admin of the workspace requiring SSO keeps its password."""
    listed = {e.strip().lower() for e in getattr(settings, "SSO_BREAK_GLASS_EMAILS", []) or [] if e.strip()}
    if user.email.lower() not in listed:
        return False
    return Membership.objects.filter(user=user, workspace_id=domain.workspace_id, role=Role.ADMIN).exists()


def password_refusal_for(user) -> str | None:
    """pmhub.signin's check: a password is refused for an address of a verified domain that
    requires SSO, except the break-glass admins (each such sign-in is logged)."""
    domain = verified_domain_for_email(getattr(user, "email", ""))
    if domain is None or not domain.require_sso:
        return None
    if break_glass_allowed(user=user, domain=domain):
        log.warning("sso.break_glass user=%s workspace=%s", user.pk, domain.workspace_id)
        return None
    return ("Your organisation signs in with single sign-on. Use \"Continue with SSO\" instead of a password.")


# --- configuration: providers -------------------------------------------------------------------

PROVIDER_FIELDS = ["name", "protocol", "enabled", "issuer", "client_id", "scopes", "groups_claim",
                   "metadata_url", "metadata_xml", "entity_id", "default_role", "group_roles", "jit_enabled",
                   "email_attribute", "name_attribute"]


def _provider_clean(data: dict, *, instance: IdentityProvider | None = None) -> dict:
    clean = {k: data[k] for k in PROVIDER_FIELDS if k in data}
    if "group_roles" in clean:
        clean["group_roles"] = group_roles_clean(clean["group_roles"])
    if "issuer" in clean:
        clean["issuer"] = (clean["issuer"] or "").strip().rstrip("/") if clean["issuer"] else ""
    protocol = clean.get("protocol", instance.protocol if instance else IdentityProvider.Protocol.OIDC)
    for field in ("issuer", "metadata_url"):
        url = clean.get(field)
        if url:
            try:
                outbound_check_url(url)
            except OutboundRefused as exc:
                raise ValidationError({field: f"This address cannot be used ({exc.reason})."}) from None
            if not url.lower().startswith("https://") and not outbound_host_listed(url):
                raise ValidationError({field: "Use an https:// address."})

    def current(field):
        return clean.get(field, getattr(instance, field) if instance else "")

    if protocol == IdentityProvider.Protocol.OIDC:
        if not current("issuer"):
            raise ValidationError({"issuer": "An OpenID Connect provider needs its issuer URL."})
        if not current("client_id"):
            raise ValidationError({"client_id": "An OpenID Connect provider needs a client id."})
    elif protocol == IdentityProvider.Protocol.SAML and not (current("metadata_url") or current("metadata_xml")):
        raise ValidationError({"metadata_url": "A SAML provider needs its metadata URL or metadata XML."})
    if protocol == IdentityProvider.Protocol.SAML:  # metadata checks and the IdP's entity id (sso/saml_services.py)
        from .saml_services import saml_provider_clean

        clean = saml_provider_clean(clean, instance=instance)
    return clean


@transaction.atomic
def provider_create(*, user, workspace_id: int, data: dict, client_secret: str = "") -> IdentityProvider:
    """Add an identity provider (workspace admins). The client secret is sealed (pmhub.secretbox)."""
    require_role(user=user, workspace_id=workspace_id, role=Role.ADMIN)
    clean = _provider_clean(data)
    provider = IdentityProvider(workspace_id=workspace_id, created_by=user, **clean)
    if client_secret:
        provider.client_secret_sealed = seal(client_secret)
    provider.full_clean(exclude=["client_secret_sealed"])
    provider.save()
    saml_provider_saved(provider)
    activity_record(workspace_id=workspace_id, actor=user, verb="added identity provider", target=provider)
    return provider


@transaction.atomic
def provider_update(*, user, provider: IdentityProvider, data: dict, expected_version: int | None,
                    client_secret: str | None = None) -> IdentityProvider:
    """Change a provider (workspace admins, optimistic locking). `client_secret` None or "" keeps
    the stored one (write-only field: a form never shows it back)."""
    require_role(user=user, workspace_id=provider.workspace_id, role=Role.ADMIN)
    version_claim(instance=provider, expected_version=expected_version)
    clean = _provider_clean(data, instance=provider)
    for key, value in clean.items():
        setattr(provider, key, value)
    if client_secret:
        provider.client_secret_sealed = seal(client_secret)
    provider.updated_at = timezone.now()
    provider.full_clean(exclude=["client_secret_sealed"])
    provider.save()
    saml_provider_saved(provider)
    activity_record(workspace_id=provider.workspace_id, actor=user, verb="changed identity provider", target=provider)
    return provider


@transaction.atomic
def provider_delete(*, user, provider: IdentityProvider) -> None:
    """Remove a provider and its identity links (accounts and memberships stay)."""
    require_role(user=user, workspace_id=provider.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=provider.workspace_id, actor=user, verb="removed identity provider",
                    data={"name": provider.name})
    provider.delete()


# --- configuration: domains ---------------------------------------------------------------------

@transaction.atomic
def domain_create(*, user, workspace_id: int, domain: str, require_sso: bool = False) -> SsoDomain:
    """Claim a domain (workspace admins); it does nothing until verified (domain_verify)."""
    require_role(user=user, workspace_id=workspace_id, role=Role.ADMIN)
    name = domain_normalise(domain)
    duplicate = {"domain": "This workspace already has this domain."}
    if SsoDomain.objects.filter(workspace_id=workspace_id, domain=name).exists():
        raise ValidationError(duplicate)
    with duplicate_as(duplicate):  # two identical requests at once: the loser gets the same answer
        row = SsoDomain.objects.create(workspace_id=workspace_id, domain=name, require_sso=bool(require_sso),
                                       verification_token=secrets.token_urlsafe(24), created_by=user)
    activity_record(workspace_id=workspace_id, actor=user, verb="added sign-in domain", target=row)
    return row


@transaction.atomic
def domain_update(*, user, domain: SsoDomain, require_sso: bool, expected_version: int | None) -> SsoDomain:
    """Turn "require SSO" on or off (workspace admins, optimistic locking)."""
    require_role(user=user, workspace_id=domain.workspace_id, role=Role.ADMIN)
    version_claim(instance=domain, expected_version=expected_version)
    domain.require_sso = bool(require_sso)
    domain.save(update_fields=["require_sso"])
    activity_record(workspace_id=domain.workspace_id, actor=user, verb="changed sign-in domain", target=domain,
                    data={"require_sso": domain.require_sso})
    return domain


@transaction.atomic
def domain_delete(*, user, domain: SsoDomain) -> None:
    require_role(user=user, workspace_id=domain.workspace_id, role=Role.ADMIN)
    activity_record(workspace_id=domain.workspace_id, actor=user, verb="removed sign-in domain",
                    data={"domain": domain.domain})
    domain.delete()


@transaction.atomic
def domain_verify(*, user, domain: SsoDomain) -> SsoDomain:
    """Look the domain's TXT records up (sso.dns.txt_records) and mark it verified when one is
    `pmhub-verification=<token>` (workspace admins). Raises ValidationError with what to publish
    otherwise, or when another workspace verified the domain first."""
    require_role(user=user, workspace_id=domain.workspace_id, role=Role.ADMIN)
    return _domain_mark_verified(domain=domain, actor=user, check_dns=True)


@transaction.atomic
def domain_verify_by_operator(*, domain: SsoDomain, check_dns: bool = True) -> SsoDomain:
    """`manage.py sso_verify_domain`: the operator verifies a domain, by DNS like the button, or
    without (`--force`, an air-gapped installation whose operator checked ownership by hand)."""
    return _domain_mark_verified(domain=domain, actor=None, check_dns=check_dns)


def _domain_mark_verified(*, domain: SsoDomain, actor, check_dns: bool) -> SsoDomain:
    from .dns import txt_records

    if domain.verified_at is not None:
        return domain
    if check_dns and domain.txt_record not in txt_records(domain.domain):
        raise ValidationError(f"No TXT record \"{domain.txt_record}\" found at {domain.domain} yet. "
                              "DNS changes can take a while to show; try again later.")
    taken = "Another workspace has already verified this domain."
    if SsoDomain.objects.filter(domain=domain.domain, verified_at__isnull=False).exclude(pk=domain.pk).exists():
        raise ValidationError(taken)
    domain.verified_at = timezone.now()
    with duplicate_as(taken):
        domain.save(update_fields=["verified_at"])
    activity_record(workspace_id=domain.workspace_id, actor=actor, verb="verified sign-in domain", target=domain,
                    data={} if check_dns else {"by": "operator, without DNS"})
    log.info("sso.domain_verified domain=%s workspace=%s dns=%s", domain.pk, domain.workspace_id, check_dns)
    return domain
