"""Writes of the core app: workspaces, memberships, invitations, API tokens, activity,
notifications and background jobs. Every write checks the actor's role first."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from .access import forget_roles, require_role
from .integrity import is_unique_violation
from .models import (
    Activity,
    ApiToken,
    BackgroundJob,
    Invitation,
    Membership,
    Notification,
    Role,
    User,
    Workspace,
    hash_secret,
)
from .selectors import unread_forget
from .tokencache import tokens_forget
from .utils import version_claim


# --- activity and notifications ------------------------------------------------------------
def activity_record(*, workspace_id: int, actor, verb: str, target=None, data: dict | None = None) -> Activity:
    """Append one line to the workspace's activity log ("Ada created story #12")."""
    activity = activity_build(workspace_id=workspace_id, actor=actor, verb=verb, target=target, data=data)
    activity.save(force_insert=True)
    return activity


def activity_build(*, workspace_id: int, actor, verb: str, target=None, data: dict | None = None) -> Activity:
    """The activity line `activity_record` writes, unsaved: for a write that sends its INSERT with
    other statements in one round trip (pmhub.sqlbatch.insert_of)."""
    return Activity(
        workspace_id=workspace_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=target.pk if target is not None else None,
        target_repr=str(target)[:200] if target is not None else "",
        data=data or {},
    )


def _safe_link(url: str) -> str:
    """Notification links are rendered as href: only our own paths or SITE_URL, never javascript:/data:."""
    url = (url or "").strip()
    if (url.startswith("/") and not url.startswith(("//", "/\\"))) or url.startswith(settings.SITE_URL + "/"):
        return url[:500]
    return ""


def notify(*, recipient, kind: str, title: str, url: str = "", workspace_id: int | None = None,
           data: dict | None = None) -> Notification:
    """Create an in-app notification. E-mail delivery per user preference is queued on commit."""
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, title=title[:250], url=_safe_link(url), workspace_id=workspace_id,
        data=data or {},
    )
    from . import notifications

    unread_forget(notification.recipient_id)
    notifications.after_notify(notification)
    return notification


def notifications_mark_read(*, user, ids: list[int] | None = None, workspace_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (those with `ids`, or all); with `workspace_ids` (an API
    token's workspace) only those of these workspaces and those of no workspace."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if workspace_ids is not None:
        qs = qs.filter(Q(workspace__isnull=True) | Q(workspace_id__in=workspace_ids))
    if ids is not None:
        qs = qs.filter(id__in=ids)
    marked = qs.update(read_at=timezone.now())
    unread_forget(user.pk)
    return marked


# --- workspaces and members ----------------------------------------------------------------
def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _create_with_unique_slug(*, name: str, time_zone: str, attempts: int = 5) -> Workspace:
    """Two workspaces created with the same name at the same moment both pick the same free slug;
    the loser takes the next one, as it would have a moment later (no 500)."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return Workspace.objects.create(name=name, slug=_unique_slug(name), time_zone=time_zone)
        except IntegrityError as exc:
            if not is_unique_violation(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def workspace_create(*, user, name: str, time_zone: str = "UTC") -> Workspace:
    """Create a workspace; its creator becomes its admin."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A workspace needs a name."})
    _validate_time_zone(time_zone)
    workspace = _create_with_unique_slug(name=name, time_zone=time_zone)
    Membership.objects.create(user=user, workspace=workspace, role=Role.ADMIN)
    forget_roles(user)
    activity_record(workspace_id=workspace.id, actor=user, verb="created workspace", target=workspace)
    return workspace


def _validate_time_zone(time_zone: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"time_zone": f"Unknown time zone: {time_zone!r}."})


@transaction.atomic
def workspace_update(*, user, workspace: Workspace, name: str, time_zone: str, version: int | None = None) -> Workspace:
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    version_claim(instance=workspace, expected_version=version)
    if not (name or "").strip():
        raise ValidationError({"name": "A workspace needs a name."})
    _validate_time_zone(time_zone)
    workspace.name, workspace.time_zone = name.strip(), time_zone
    workspace.save(update_fields=["name", "time_zone"])
    activity_record(workspace_id=workspace.id, actor=user, verb="updated workspace", target=workspace)
    return workspace


@transaction.atomic
def invitation_create(*, user, workspace: Workspace, email: str, role: int) -> tuple[Invitation, str]:
    """Invite someone by e-mail; returns the invitation and its raw key (only ever in the e-mail)."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    email = (email or "").strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": "Choose viewer, editor or admin."})
    from django.core.validators import validate_email

    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid e-mail address."})
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise ValidationError({"email": "This person is already a member."})
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=hash_secret(raw),
        invited_by=user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    activity_record(workspace_id=workspace.id, actor=user, verb="invited", target=invitation,
                    data={"email": email, "role": Role(role).label})
    from .tasks import send_invitation_email

    send_invitation_email.delay_on_commit(invitation.id, raw)
    return invitation, raw


def invitation_by_key(raw: str) -> Invitation | None:
    return Invitation.objects.select_related("workspace").filter(token_hash=hash_secret(raw or "")).first()


@transaction.atomic
def invitation_accept(*, user, raw_key: str) -> Membership:
    invitation = Invitation.objects.select_for_update().filter(token_hash=hash_secret(raw_key or "")).first()
    if invitation is None or not invitation.is_open:
        raise ValidationError("This invitation is no longer valid.")
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied("This invitation was sent to another e-mail address.")
    membership, created = Membership.objects.get_or_create(
        user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
    )
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    forget_roles(user)
    activity_record(workspace_id=invitation.workspace_id, actor=user, verb="joined workspace",
                    target=invitation.workspace, data={"role": Role(membership.role).label})
    return membership


@transaction.atomic
def invitation_revoke(*, user, invitation: Invitation) -> None:
    require_role(user=user, workspace_id=invitation.workspace_id, role=Role.ADMIN)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


def _admins_left_after(workspace_id: int, excluding_membership_id: int) -> int:
    return (Membership.objects.filter(workspace_id=workspace_id, role=Role.ADMIN)
            .exclude(id=excluding_membership_id).count())


@transaction.atomic
def membership_set_role(*, user, membership: Membership, role: int) -> Membership:
    require_role(user=user, workspace_id=membership.workspace_id, role=Role.ADMIN)
    if role not in Role.values:
        raise ValidationError({"role": "Choose viewer, editor or admin."})
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _admins_left_after(
        membership.workspace_id, membership.id
    ):
        raise ValidationError({"role": "A workspace keeps at least one admin."})
    membership.role = role
    membership.save(update_fields=["role"])
    activity_record(workspace_id=membership.workspace_id, actor=user, verb="changed role",
                    target=membership.user, data={"role": Role(role).label})
    return membership


@transaction.atomic
def membership_remove(*, user, membership: Membership) -> None:
    """Remove a member (admins), or leave (anyone, for themselves). Their tokens stop at once,
    because token authentication checks the membership on every request."""
    if membership.user_id != user.id:
        require_role(user=user, workspace_id=membership.workspace_id, role=Role.ADMIN)
    if membership.role == Role.ADMIN and not _admins_left_after(membership.workspace_id, membership.id):
        raise ValidationError("A workspace keeps at least one admin.")
    api_tokens_revoke(ApiToken.objects.filter(user_id=membership.user_id, workspace_id=membership.workspace_id))
    activity_record(workspace_id=membership.workspace_id, actor=user, verb="removed member",
                    target=membership.user)
    membership.delete()


# --- API tokens ----------------------------------------------------------------------------
@transaction.atomic
def api_token_create(*, user, workspace: Workspace, name: str, scope: str) -> tuple[ApiToken, str]:
    """Create a personal token limited to one workspace; the raw key is returned once, stored hashed."""
    require_role(user=user, workspace_id=workspace.id, role=Role.VIEWER)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": "Choose read or write."})
    raw = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user, workspace=workspace, name=name[:100], scope=scope, prefix=raw[:12], key_hash=hash_secret(raw)
    )
    activity_record(workspace_id=workspace.id, actor=user, verb="created API token", data={"name": token.name})
    return token, raw


@transaction.atomic
def api_token_revoke(*, user, token: ApiToken) -> None:
    if token.user_id != user.id:
        raise PermissionDenied("Only the owner can revoke a token.")
    if token.revoked_at is None:
        api_tokens_revoke(ApiToken.objects.filter(pk=token.pk))
        token.refresh_from_db(fields=["revoked_at"])


def api_tokens_revoke(queryset) -> int:
    """Revoke the unrevoked tokens of `queryset` and forget them in the token cache at once (and
    again on commit). THE way to revoke tokens: a bare `.update(revoked_at=...)` leaves a cached
    token working for up to TOKEN_CACHE_SECONDS (pmhub/tokencache.py). Returns how many."""
    queryset = queryset.filter(revoked_at__isnull=True)
    key_hashes = list(queryset.values_list("key_hash", flat=True))
    if not key_hashes:
        return 0
    count = ApiToken.objects.filter(key_hash__in=key_hashes, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    tokens_forget(key_hashes)
    return count


# --- background jobs -------------------------------------------------------------------------
def job_create(*, workspace_id: int, kind: str, user=None, total: int = 0, params: dict | None = None) -> BackgroundJob:
    return BackgroundJob.objects.create(workspace_id=workspace_id, kind=kind, created_by=user, total=total,
                                        params=params or {})


def job_progress(*, job_id: int, progress: int, total: int | None = None, message: str = "") -> None:
    update = {"progress": progress, "status": BackgroundJob.Status.RUNNING, "message": message[:500]}
    if total is not None:
        update["total"] = total
    BackgroundJob.objects.filter(id=job_id).update(**update)


def job_finish(*, job_id: int, result: dict | None = None, failed: bool = False, message: str = "") -> None:
    job = BackgroundJob.objects.get(id=job_id)
    job.status = BackgroundJob.Status.FAILED if failed else BackgroundJob.Status.DONE
    job.result = result or {}
    job.message = message[:500]
    job.finished_at = timezone.now()
    if not failed and job.total:
        job.progress = job.total
    job.save(update_fields=["status", "result", "message", "finished_at", "progress"])


SIGNUP_SALT = "pmhub.signup"


def signup_request(*, email: str, name: str, next_path: str = "") -> None:
    """Sign-up, step 1: queue the e-mail. Whether the address has an account is decided by the
    worker, so the request does the same work, and answers the same, either way."""
    from .tasks import send_signup_email

    send_signup_email.delay_on_commit(email.strip().lower(), name[:150], next_path)


def signup_token(*, email: str, name: str) -> str:
    """The signed sign-up link's token (no row until the link is used; it expires with
    SIGNUP_LINK_MAX_AGE)."""
    return signing.dumps({"email": email, "name": name}, salt=SIGNUP_SALT, compress=True)


def signup_token_read(token: str) -> dict | None:
    try:
        data = signing.loads(token, salt=SIGNUP_SALT, max_age=settings.SIGNUP_LINK_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    return data if isinstance(data, dict) and data.get("email") else None


def signup_complete(*, email: str, name: str, password: str) -> User | None:
    """Sign-up, step 2: create the account of a confirmed address; None when it has one already."""
    from django.db import IntegrityError

    if User.objects.filter(email__iexact=email).exists():
        return None
    try:
        with transaction.atomic():
            return user_create(email=email, password=password, name=name)
    except IntegrityError:  # the same link used twice at the same moment
        return None


def user_create(*, email: str, password: str, name: str = "") -> User:
    from django.contrib.auth.password_validation import validate_password

    user = User(email=email.strip().lower(), name=name)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user
