"""Writes of SCIM provisioning. Two kinds of caller:

- a workspace admin (pages, /api/v1/scim/...): tokens, the default role, a group's role;
- the identity provider through a SCIM token (/scim/v2/): users and groups. These services take
  the token; everything they touch is in the token's workspace.

PATCH renders the resource, applies the operations (scim.patch) and saves the result through
the same code as PUT, so the two can never disagree. Decisions: docs/decisions/1820-1825.
"""

import uuid
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from pmhub.access import require_role
from pmhub.integrity import is_unique_violation
from pmhub.models import ApiToken, Membership, Role, User, Workspace, hash_secret
from pmhub.services import activity_record, api_tokens_revoke
from pmhub.tokencache import tokens_forget_where
from pmhub.utils import version_claim

from . import documents, selectors
from .errors import ScimError, bad_request, conflict
from .models import ScimConfig, ScimGroup, ScimToken, ScimUser, SessionRecord
from .patch import PatchError, apply_patch

VIA = {"via": "SCIM"}


# --- admin: tokens and settings --------------------------------------------------------------
@transaction.atomic
def scim_token_create(*, user, workspace: Workspace, name: str) -> tuple[ScimToken, str]:
    """A new SCIM token for the workspace (admins); the raw key is returned once, stored hashed."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after the identity provider that will use it."})
    raw = ScimToken.generate_key()
    token = ScimToken.objects.create(workspace=workspace, name=name[:100], prefix=raw[:14],
                                     key_hash=hash_secret(raw), created_by=user)
    activity_record(workspace_id=workspace.id, actor=user, verb="created SCIM token", data={"name": token.name})
    return token, raw


@transaction.atomic
def scim_token_revoke(*, user, token: ScimToken) -> ScimToken:
    """Revoke a SCIM token (admins): the provider's next call is refused (401)."""
    require_role(user=user, workspace_id=token.workspace_id, role=Role.ADMIN)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        activity_record(workspace_id=token.workspace_id, actor=user, verb="revoked SCIM token",
                        data={"name": token.name})
    return token


def scim_token_authenticate(raw: str) -> ScimToken | None:
    """The live token of a raw key, or None; records when it was last used (once a minute)."""
    token = ScimToken.objects.select_related("workspace").filter(
        key_hash=hash_secret(raw or ""), revoked_at__isnull=True).first()
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def scim_config_update(*, user, workspace: Workspace, default_role: int, version: int | None) -> ScimConfig:
    """Set the role a provisioned person gets when no mapped group gives one (admins). It applies
    from the next provisioning or group change of each person (decision 1822)."""
    require_role(user=user, workspace_id=workspace.id, role=Role.ADMIN)
    if default_role not in Role.values:
        raise ValidationError({"default_role": "Choose viewer, editor or admin."})
    config = selectors.config_of(workspace_id=workspace.id)
    version_claim(instance=config, expected_version=version)
    config.default_role = default_role
    config.save(update_fields=["default_role"])
    activity_record(workspace_id=workspace.id, actor=user, verb="changed SCIM default role",
                    data={"role": Role(default_role).label})
    return config


@transaction.atomic
def scim_group_set_role(*, user, group: ScimGroup, role: int | None, version: int | None) -> ScimGroup:
    """Map a provisioned group to a role, or to none (admins); its members' roles follow at once."""
    require_role(user=user, workspace_id=group.workspace_id, role=Role.ADMIN)
    if role is not None and role not in Role.values:
        raise ValidationError({"role": "Choose viewer, editor, admin or no role."})
    version_claim(instance=group, expected_version=version)
    group.role = role
    group.save(update_fields=["role", "updated_at"])
    activity_record(workspace_id=group.workspace_id, actor=user, verb="mapped SCIM group", target=group,
                    data={"role": Role(role).label if role else "no role"})
    _sync_roles(identities=list(group.members.all()), actor=user, reason=f"group {group.display_name}")
    return group


# --- sessions ---------------------------------------------------------------------------------
def sessions_end(*, user_id: int) -> int:
    """End every session of a person, through the session engine in use (cached_db: the cache
    entry and the row), found by the index scim.middleware keeps (decision 1821)."""
    engine = import_module(settings.SESSION_ENGINE)
    keys = list(SessionRecord.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    for key in keys:
        engine.SessionStore(session_key=key).delete()
    SessionRecord.objects.filter(user_id=user_id).delete()
    return len(keys)


def session_index_prune() -> int:
    """Forget index rows of sessions that ended on their own (expired, signed out); Beat, daily.
    With a database-backed engine one DELETE; otherwise each key is asked of the engine."""
    from django.contrib.sessions.models import Session

    if settings.SESSION_ENGINE.endswith((".db", ".cached_db")):
        live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
        return SessionRecord.objects.exclude(session_key__in=live).delete()[0]
    engine = import_module(settings.SESSION_ENGINE)
    gone = [k for k in SessionRecord.objects.values_list("session_key", flat=True).iterator()
            if not engine.SessionStore().exists(k)]
    return SessionRecord.objects.filter(session_key__in=gone).delete()[0]


# --- provisioning: the pieces -----------------------------------------------------------------
LABELS = documents.USER_CANONICAL | documents.GROUP_CANONICAL


def _text(body: dict, key: str, limit: int, *, required: bool = False) -> str:
    value = body.get(key)
    label = LABELS.get(key, key)
    if value is None:
        if required:
            raise bad_request(f"{label} is required.")
        return ""
    if not isinstance(value, str):
        raise bad_request(f"{label} must be a string.")
    value = value.strip()
    if "\x00" in value:
        raise bad_request(f"{label} cannot contain NUL characters.")
    if required and not value:
        raise bad_request(f"{label} is required.")
    if len(value) > limit:
        raise bad_request(f"{label} is longer than {limit} characters.")
    return value


def _lower_keys(body: dict) -> dict:
    """Attribute names are case-insensitive (RFC 7643 §2.1); a core-schema URN key is unwrapped."""
    out = {}
    for key, value in body.items():
        if not isinstance(key, str):
            continue
        if key.lower() in (documents.USER_SCHEMA.lower(), documents.GROUP_SCHEMA.lower()) and isinstance(value, dict):
            out.update(_lower_keys(value))
        else:
            out[key.lower()] = value
    return out


def _boolean(value, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):  # Entra ID sends "False"
        return value.strip().lower() == "true"
    raise bad_request(f"{key} must be true or false.")


def _emails(value) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > 20:
        raise bad_request("emails must be a list (of at most 20 addresses).")
    out = []
    for item in value:
        item = _lower_keys(item) if isinstance(item, dict) else None
        if item is None:
            raise bad_request("Each e-mail is an object with a value.")
        address = _text(item, "value", 254, required=True)
        try:
            validate_email(address)
        except ValidationError:
            raise bad_request(f"{address!r} is not a valid e-mail address.")
        email = {"value": address}
        if item.get("type") is not None:
            email["type"] = _text(item, "type", 40)
        if item.get("primary") is not None:
            email["primary"] = _boolean(item["primary"], "emails.primary")
        out.append(email)
    if sum(1 for e in out if e.get("primary")) > 1:
        raise bad_request("At most one e-mail can be primary.")
    return out


def _user_input(body) -> dict:
    """The fields of a User resource from a POST/PUT body (or a patched representation)."""
    if not isinstance(body, dict):
        raise bad_request("Send a JSON object.", "invalidSyntax")
    body = _lower_keys(body)
    name = body.get("name") or {}
    if not isinstance(name, dict):
        raise bad_request("name must be an object.")
    name = _lower_keys(name)
    data = {
        "user_name": _text(body, "username", 255, required=True),
        "external_id": _text(body, "externalid", 255),
        "display_name": _text(body, "displayname", 255),
        "name_formatted": _text(name, "formatted", 255),
        "name_given": _text(name, "givenname", 150),
        "name_family": _text(name, "familyname", 150),
        "emails": _emails(body.get("emails")),
        "active": None if body.get("active") is None else _boolean(body["active"], "active"),
    }
    primary = next((e["value"] for e in data["emails"] if e.get("primary")), None)
    account_email = primary or (data["emails"][0]["value"] if data["emails"] else None)
    if account_email is None:
        try:
            validate_email(data["user_name"])
            account_email = data["user_name"]
        except ValidationError:
            raise bad_request("A user needs an e-mail address: send emails, or a userName that is one.")
    if len(account_email) > 254:
        raise bad_request("The e-mail address is longer than 254 characters.")
    data["account_email"] = account_email.lower()
    return data


def _account_name(data: dict) -> str:
    given = " ".join(p for p in (data["name_given"], data["name_family"]) if p)
    return (data["display_name"] or data["name_formatted"] or given)[:150]


def _check_unique(*, workspace_id: int, data: dict, exclude_id: int | None = None) -> None:
    others = ScimUser.objects.filter(workspace_id=workspace_id).exclude(pk=exclude_id)
    if others.filter(user_name__iexact=data["user_name"]).exists():
        raise conflict(f"A user with userName {data['user_name']!r} already exists in this workspace.")
    if data["external_id"] and others.filter(external_id=data["external_id"]).exists():
        raise conflict(f"A user with externalId {data['external_id']!r} already exists in this workspace.")


def _role_for_new_member(identity: ScimUser) -> int:
    mapped = selectors.mapped_role_of(identity=identity)
    return mapped if mapped is not None else selectors.config_of(workspace_id=identity.workspace_id).default_role


def _provision(identity: ScimUser, token: ScimToken) -> None:
    """Give an active person their membership (role from their mapped groups, or the default)."""
    membership, created = Membership.objects.get_or_create(
        user_id=identity.user_id, workspace_id=identity.workspace_id,
        defaults={"role": _role_for_new_member(identity)})
    User.objects.filter(pk=identity.user_id, is_active=False).update(is_active=True)
    if created:
        activity_record(workspace_id=identity.workspace_id, actor=None, verb="provisioned member",
                        target=identity.user, data=VIA | {"token": token.name, "role": Role(membership.role).label})


def _deprovision(identity: ScimUser, token: ScimToken, verb: str) -> None:
    """Take the person out of the workspace at once: membership gone, their sessions ended, their
    API tokens for this workspace revoked; the account is deactivated when no workspace is left.
    Their content stays, attributed to them (nothing here deletes an object they made)."""
    user_id, workspace_id = identity.user_id, identity.workspace_id
    Membership.objects.filter(user_id=user_id, workspace_id=workspace_id).delete()
    api_tokens_revoke(ApiToken.objects.filter(user_id=user_id, workspace_id=workspace_id))  # cache too
    sessions_end(user_id=user_id)
    if not Membership.objects.filter(user_id=user_id).exists():
        User.objects.filter(pk=user_id).update(is_active=False)
        tokens_forget_where(user_id=user_id)  # their tokens of other workspaces, cached as active
    activity_record(workspace_id=workspace_id, actor=None, verb=verb, target=identity.user,
                    data=VIA | {"token": token.name})


def _sync_roles(*, identities, actor=None, reason: str) -> None:
    """After a group change: each active member's role becomes the highest role among their mapped
    groups, or the workspace's default role when none maps one (decision 1822); logged."""
    for identity in identities:
        if not identity.is_in:
            continue
        membership = Membership.objects.select_for_update().filter(
            workspace_id=identity.workspace_id, user_id=identity.user_id).first()
        if membership is None:
            continue
        mapped = selectors.mapped_role_of(identity=identity)
        target = mapped if mapped is not None else selectors.config_of(
            workspace_id=identity.workspace_id).default_role
        if membership.role != target:
            old = membership.role
            membership.role = target
            membership.save(update_fields=["role"])
            activity_record(workspace_id=identity.workspace_id, actor=actor, verb="changed role",
                            target=identity.user, data=VIA | {"role": Role(target).label, "from": Role(old).label,
                                                              "reason": reason})


def _check_version(obj, if_match: str | None) -> None:
    """If-Match (RFC 7644 §3.14): a stale ETag is a 412; no header, no check."""
    if if_match and if_match.strip() != "*" and documents.etag(obj.version) not in [
            v.strip() for v in if_match.split(",")]:
        raise ScimError(412, "The resource changed since you read it (ETag mismatch); read it again.")


def _bump(obj) -> None:
    type(obj).objects.filter(pk=obj.pk).update(version=F("version") + 1, updated_at=timezone.now())
    obj.refresh_from_db(fields=["version", "updated_at"])


def _unique_guard(fn):
    """Two identical requests at once: the loser's unique violation becomes the 409 it would have
    got a moment later (never a 500)."""
    def wrapped(*args, **kwargs):
        try:
            with transaction.atomic():
                return fn(*args, **kwargs)
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise conflict("A resource with this userName, displayName, externalId or e-mail already exists.")
    wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
    return wrapped


# --- provisioning: users ----------------------------------------------------------------------
@_unique_guard
def scim_user_create(*, token: ScimToken, body) -> ScimUser:
    """POST /Users: a person for the token's workspace. An account with the same e-mail is linked
    (it gets a membership) rather than refused (decision 1820); a new account has no password
    (the person signs in with single sign-on, or sets one through "forgot password")."""
    data = _user_input(body)
    workspace_id = token.workspace_id
    _check_unique(workspace_id=workspace_id, data=data)
    user = User.objects.filter(email__iexact=data["account_email"]).first()
    linked = user is not None
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=data["account_email"], password=None,
                                                name=_account_name(data))
        except IntegrityError:
            # Another workspace's provider made this account a moment ago: link it like any other.
            user, linked = User.objects.get(email__iexact=data["account_email"]), True
    if linked and ScimUser.objects.filter(workspace_id=workspace_id, user=user).exists():
        raise conflict(f"The account {data['account_email']!r} is already provisioned in this workspace.")
    fields = {k: v for k, v in data.items() if k != "account_email"}
    if fields["active"] is None:
        fields["active"] = True  # a new person is active unless the provider says otherwise
    identity = ScimUser.objects.create(workspace_id=workspace_id, user=user, **fields)
    activity_record(workspace_id=workspace_id, actor=None,
                    verb="linked account (SCIM)" if linked else "created account (SCIM)", target=user,
                    data=VIA | {"token": token.name, "userName": identity.user_name})
    if identity.is_in:
        _provision(identity, token)
    else:
        _deprovision(identity, token, "deprovisioned member")
    return identity


def _exclusive(identity: ScimUser) -> bool:
    """Whether the account belongs to this workspace only (then its provider may rename it and
    change its e-mail; otherwise another workspace's people know it by them: decision 1820)."""
    user_id, ws = identity.user_id, identity.workspace_id
    return not (Membership.objects.filter(user_id=user_id).exclude(workspace_id=ws).exists()
                or ScimUser.objects.filter(user_id=user_id).exclude(workspace_id=ws).exists())


def _user_replace(identity: ScimUser, data: dict, token: ScimToken) -> ScimUser:
    _check_unique(workspace_id=identity.workspace_id, data=data, exclude_id=identity.pk)
    user = identity.user
    exclusive = _exclusive(identity)
    if data["account_email"] != user.email.lower():
        if not exclusive:
            raise bad_request("This person's account also belongs to another workspace, so its sign-in e-mail "
                              "cannot be changed from here; keep the current address as the primary e-mail.",
                              "mutability")
        if User.objects.filter(email__iexact=data["account_email"]).exclude(pk=user.pk).exists():
            raise conflict(f"Another account already uses {data['account_email']!r}.")
        user.email = data["account_email"]
        user.save(update_fields=["email"])
    name = _account_name(data)
    if exclusive and name and name != user.name:
        user.name = name
        user.save(update_fields=["name"])
    was_in = identity.is_in
    for field, value in data.items():
        if field != "account_email":
            setattr(identity, field, value)
    identity.save()
    _bump(identity)
    if was_in and not identity.is_in:
        _deprovision(identity, token, "deprovisioned member")
    elif identity.is_in:
        # The provider's state wins: someone it says is active is a member again even if an admin
        # removed them by hand meanwhile (decision 1823); nothing happens when they still are.
        _provision(identity, token)
    return identity


def _locked_user(identity: ScimUser) -> ScimUser:
    return ScimUser.objects.select_for_update(of=("self",)).select_related("user").get(pk=identity.pk)


@_unique_guard
def scim_user_replace(*, token: ScimToken, identity: ScimUser, body, if_match: str | None = None) -> ScimUser:
    """PUT /Users/<id>: the whole resource; `active: false` deprovisions, `true` provisions again."""
    identity = _locked_user(identity)
    _check_version(identity, if_match)
    return _user_replace(identity, _user_input(body), token)


@_unique_guard
def scim_user_patch(*, token: ScimToken, identity: ScimUser, body, base: str, if_match: str | None = None
                    ) -> ScimUser:
    """PATCH /Users/<id>: the operations applied to the current representation, saved like a PUT."""
    identity = _locked_user(identity)
    _check_version(identity, if_match)
    current = documents.user_document(identity, base)
    try:
        doc = apply_patch(current, body, canonical=documents.USER_CANONICAL, multi=documents.USER_MULTI)
    except PatchError as e:
        raise bad_request(str(e), e.scim_type)
    return _user_replace(identity, _user_input(doc), token)


@transaction.atomic
def scim_user_delete(*, token: ScimToken, identity: ScimUser, if_match: str | None = None) -> None:
    """DELETE /Users/<id>: deprovisioned as with `active: false`, and the SCIM resource is gone
    (a later POST of the same person links the account again). The account and everything the
    person made stay."""
    identity = _locked_user(identity)
    _check_version(identity, if_match)
    # Group rows first, then the membership: the order a group change takes (no deadlock between them).
    identity.groups.clear()
    if identity.is_in:
        _deprovision(identity, token, "deprovisioned member")
    identity.delete()


# --- provisioning: groups ---------------------------------------------------------------------
def _group_input(body, workspace_id: int) -> dict:
    if not isinstance(body, dict):
        raise bad_request("Send a JSON object.", "invalidSyntax")
    body = _lower_keys(body)
    members = body.get("members") or []
    if not isinstance(members, list) or len(members) > 10000:
        raise bad_request("members must be a list (of at most 10,000).")
    uids = []
    for member in members:
        value = _lower_keys(member).get("value") if isinstance(member, dict) else None
        if not isinstance(value, str) or not value:
            raise bad_request("Each member is an object with the value (id) of a user.")
        uids.append(value)
    found = {str(u.uid): u for u in ScimUser.objects.filter(
        workspace_id=workspace_id, uid__in=[k for k in (_uuid(uid) for uid in uids) if k])} if uids else {}
    missing = [uid for uid in uids if str(_uuid(uid)) not in found]
    if missing:
        # Another workspace's user is answered exactly like one that does not exist.
        raise bad_request(f"No user with id {missing[0]!r} in this workspace.")
    return {"display_name": _text(body, "displayname", 255, required=True),
            "external_id": _text(body, "externalid", 255), "members": list(found.values())}


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _group_check_unique(workspace_id: int, data: dict, exclude_id: int | None = None) -> None:
    others = ScimGroup.objects.filter(workspace_id=workspace_id).exclude(pk=exclude_id)
    if others.filter(display_name__iexact=data["display_name"]).exists():
        raise conflict(f"A group named {data['display_name']!r} already exists in this workspace.")
    if data["external_id"] and others.filter(external_id=data["external_id"]).exists():
        raise conflict(f"A group with externalId {data['external_id']!r} already exists in this workspace.")


@_unique_guard
def scim_group_create(*, token: ScimToken, body) -> ScimGroup:
    """POST /Groups: a group of the token's workspace; it maps no role until an admin chooses one."""
    data = _group_input(body, token.workspace_id)
    _group_check_unique(token.workspace_id, data)
    group = ScimGroup.objects.create(workspace_id=token.workspace_id, display_name=data["display_name"],
                                     external_id=data["external_id"])
    group.members.set(data["members"])
    activity_record(workspace_id=token.workspace_id, actor=None, verb="created SCIM group", target=group,
                    data=VIA | {"token": token.name})
    return group


def _group_replace(group: ScimGroup, data: dict) -> ScimGroup:
    _group_check_unique(group.workspace_id, data, exclude_id=group.pk)
    before = {m.pk: m for m in group.members.all()}
    after = {m.pk: m for m in data["members"]}
    group.display_name, group.external_id = data["display_name"], data["external_id"]
    group.save(update_fields=["display_name", "external_id"])
    group.members.set(list(after.values()))
    _bump(group)
    if group.role is not None:
        changed = [m for pk, m in {**before, **after}.items() if (pk in before) != (pk in after)]
        _sync_roles(identities=changed, reason=f"group {group.display_name}")
    return group


def _locked_group(group: ScimGroup) -> ScimGroup:
    return ScimGroup.objects.select_for_update().get(pk=group.pk)


@_unique_guard
def scim_group_replace(*, token: ScimToken, group: ScimGroup, body, if_match: str | None = None) -> ScimGroup:
    """PUT /Groups/<id>: name and the whole member list; members' roles follow a mapped group."""
    group = _locked_group(group)
    _check_version(group, if_match)
    return _group_replace(group, _group_input(body, group.workspace_id))


@_unique_guard
def scim_group_patch(*, token: ScimToken, group: ScimGroup, body, base: str, if_match: str | None = None
                     ) -> ScimGroup:
    """PATCH /Groups/<id>: add, remove or replace members (or rename), saved like a PUT."""
    group = _locked_group(group)
    _check_version(group, if_match)
    current = documents.group_document(group, base, members=[m.uid for m in group.members.all()])
    try:
        doc = apply_patch(current, body, canonical=documents.GROUP_CANONICAL, multi=documents.GROUP_MULTI)
    except PatchError as e:
        raise bad_request(str(e), e.scim_type)
    return _group_replace(group, _group_input(doc, group.workspace_id))


@transaction.atomic
def scim_group_delete(*, token: ScimToken, group: ScimGroup, if_match: str | None = None) -> None:
    """DELETE /Groups/<id>: its members' roles are recomputed without it."""
    group = _locked_group(group)
    _check_version(group, if_match)
    members = list(group.members.all())
    name, mapped = group.display_name, group.role is not None
    activity_record(workspace_id=group.workspace_id, actor=None, verb="deleted SCIM group", target=group,
                    data=VIA | {"token": token.name})
    group.delete()
    if mapped:
        _sync_roles(identities=members, reason=f"group {name} deleted")
