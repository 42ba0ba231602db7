"""Mass-assignment helpers for every app's tests.

    payload = {"title": "ok"} | hostile_payload(Story, other_workspace=globex, other_user=outsider)
    before = protected_snapshot(story)
    api.patch(url, payload, format="json")            # 200 (fields ignored) or 400 (refused)
    assert protected_snapshot(story) == before

Protected: the primary key, every foreign key to a Workspace or a user, auto/created/updated
timestamps, `version`, `role`, `slug`, and any name listed in EXTRA_PROTECTED.
"""

from django.conf import settings
from django.db import models

EXTRA_PROTECTED = {"id", "pk", "version", "role", "slug", "key_hash", "token_hash", "prefix", "score",
                   "created_at", "updated_at", "created_by", "owner", "last_used_at", "revoked_at", "accepted_at"}


def protected_fields(model) -> list[str]:
    names = []
    for f in model._meta.concrete_fields:
        related = getattr(f, "related_model", None)
        is_tenant_fk = related is not None and (related._meta.label in ("pmhub.Workspace", settings.AUTH_USER_MODEL))
        is_auto_time = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        if f.primary_key or is_tenant_fk or is_auto_time or f.name in EXTRA_PROTECTED:
            names.append(f.attname)
    return names


def protected_snapshot(obj) -> dict:
    row = type(obj)._base_manager.filter(pk=obj.pk).values(*protected_fields(type(obj))).first()
    assert row is not None, f"{obj!r} disappeared"
    return row


def hostile_payload(model, *, other_workspace, other_user) -> dict:
    """Values an attacker would send for every protected field (both `field` and `field_id`)."""
    payload = {"id": 10**9, "pk": 10**9}
    for f in model._meta.concrete_fields:
        related = getattr(f, "related_model", None)
        if related is not None and related._meta.label == "pmhub.Workspace":
            value = other_workspace.pk
        elif related is not None and related._meta.label == settings.AUTH_USER_MODEL:
            value = other_user.pk
        elif isinstance(f, models.DateTimeField):
            value = "2000-01-01T00:00:00Z"
        elif f.name in ("version", "score"):
            value = 999
        elif f.name == "role":
            value = 30
        elif f.name in EXTRA_PROTECTED:
            value = "pwned"
        else:
            continue
        payload[f.name] = value
        if f.is_relation:
            payload[f.attname] = value
    payload.setdefault("role", "admin")
    return payload
