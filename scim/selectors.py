"""Reads of SCIM resources, always inside one workspace (the token's): a resource of another
workspace is simply not found."""

import uuid

from django.db.models import Max, Q, QuerySet

from pmhub.models import Membership

from .errors import not_found
from .filters import FilterError
from .models import ScimConfig, ScimGroup, ScimToken, ScimUser

USER_FIELDS = {
    "username": "user_name", "externalid": "external_id", "displayname": "display_name",
    "emails": "user__email", "emails.value": "user__email", "name.givenname": "name_given",
    "name.familyname": "name_family", "name.formatted": "name_formatted",
}
GROUP_FIELDS = {"displayname": "display_name", "externalid": "external_id"}
_LOOKUP = {"eq": "iexact", "co": "icontains", "sw": "istartswith", "ew": "iendswith", "gt": "gt", "ge": "gte",
           "lt": "lt", "le": "lte"}


def _uid_q(field: str, op: str, value) -> Q:
    if op not in ("eq", "ne"):
        raise FilterError("Ids compare only with eq or ne.")
    try:
        q = Q(**{field: uuid.UUID(str(value))})
    except ValueError:
        q = Q(pk__in=[])
    return ~q if op == "ne" else q


def _q(tree, fields: dict, kind: str) -> Q:
    """The Q of a parsed filter (scim.filters.parse) on a resource of `kind`."""
    node = tree[0]
    if node in ("and", "or"):
        parts = [_q(t, fields, kind) for t in tree[1]]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if node == "and" else (out | p)
        return out
    if node == "not":
        return ~_q(tree[1], fields, kind)
    path = tree[1]
    if path == "id":
        if node == "pr":
            return Q()
        return _uid_q("uid", tree[2], tree[3])
    if kind == "Group" and path in ("members", "members.value"):
        if node == "pr":
            return Q(members__isnull=False)
        return _uid_q("members__uid", tree[2], tree[3])
    if kind == "User" and path == "active":
        if node == "pr":
            return Q(active__isnull=False)
        if tree[2] not in ("eq", "ne") or not isinstance(tree[3], bool):
            raise FilterError("active compares with eq or ne and true or false.")
        wanted = tree[3] if tree[2] == "eq" else not tree[3]
        # an unassigned `active` (None) counts as active: the person is a member
        return ~Q(active=False) if wanted else Q(active=False)
    field = fields.get(path)
    if field is None:
        raise FilterError(f"Filtering on {path!r} is not supported; use one of: "
                          f"{', '.join(sorted(['id', *fields]))}.")
    if node == "pr":
        return ~Q(**{field: ""})
    op, value = tree[2], tree[3]
    if value is None:
        return Q(**{field: ""}) if op == "eq" else ~Q(**{field: ""})
    if not isinstance(value, str):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if op == "ne":
        return ~Q(**{f"{field}__iexact": value})
    return Q(**{f"{field}__{_LOOKUP[op]}": value})


def users_of(*, workspace_id: int, tree=None) -> QuerySet:
    qs = ScimUser.objects.filter(workspace_id=workspace_id).select_related("user").prefetch_related("groups")
    if tree is not None:
        qs = qs.filter(_q(tree, USER_FIELDS, "User")).distinct()
    return qs.order_by("id")


def groups_of(*, workspace_id: int, tree=None) -> QuerySet:
    qs = ScimGroup.objects.filter(workspace_id=workspace_id).prefetch_related("members")
    if tree is not None:
        qs = qs.filter(_q(tree, GROUP_FIELDS, "Group")).distinct()
    return qs.order_by("id")


def _by_uid(qs, uid: str, kind: str):
    try:
        key = uuid.UUID(str(uid))
    except ValueError:
        raise not_found(kind)
    obj = qs.filter(uid=key).first()
    if obj is None:
        raise not_found(kind)
    return obj


def user_of(*, workspace_id: int, uid: str) -> ScimUser:
    return _by_uid(users_of(workspace_id=workspace_id), uid, "user")


def group_of(*, workspace_id: int, uid: str) -> ScimGroup:
    return _by_uid(groups_of(workspace_id=workspace_id), uid, "group")


def tokens_of(*, workspace_id: int) -> QuerySet:
    return ScimToken.objects.filter(workspace_id=workspace_id).select_related("created_by")


def config_of(*, workspace_id: int) -> ScimConfig:
    """The workspace's SCIM settings (made with the defaults on first read)."""
    config, _ = ScimConfig.objects.get_or_create(workspace_id=workspace_id)
    return config


def mapped_role_of(*, identity: ScimUser) -> int | None:
    """The highest role among the person's groups that map one; None when no group maps a role."""
    return identity.groups.filter(role__isnull=False).aggregate(top=Max("role"))["top"]


def member_role_of(*, identity: ScimUser) -> int | None:
    return Membership.objects.filter(workspace_id=identity.workspace_id, user_id=identity.user_id).values_list(
        "role", flat=True).first()
