"""Workspace export and import (`manage.py export_workspace` / `import_workspace`).

Scope: a model is in a workspace's export when a chain of foreign keys leads from it to
pmhub.Workspace (`Product.workspace`, `Story.product -> Product.workspace`, ...). The chain is
found by walking the models of our own apps (pmhub + settings.DOMAIN_APPS) breadth first, so a
new app's models are included without any registration. Shortest chain wins; a model may opt
out with `portability_exclude = True` on the class, and EXCLUDED below lists the core ones.

Users are not workspace data: the file lists the members (e-mail and name, never the password
hash); import makes an account without a usable password for each unknown e-mail (they set one
with "forgot password") and maps every user reference by e-mail (natural keys). Content types are
referenced by (app_label, model) as well. Row ids are kept, so import refuses a database that
already holds any of the rows.
"""

from __future__ import annotations

import datetime
import json
from collections import deque

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction

from .models import Workspace

FORMAT_VERSION = 1
# Secrets and credentials are not workspace data: tokens and invitation keys stay behind.
EXCLUDED = {"pmhub.ApiToken", "pmhub.Invitation"}


def _own_models():
    labels = ["pmhub", *settings.DOMAIN_APPS]
    return [m for label in labels for m in apps.get_app_config(label).get_models()]


CREDENTIAL_FIELDS = {"token_hash", "key_hash", "secret", "password"}


def _is_credential(model) -> bool:
    """Any model holding a secret (share-link tokens, ingestion keys, webhook secrets) stays behind,
    and so does anything that points at one (its rows would dangle without it)."""
    names = {f.name for f in model._meta.concrete_fields}
    if names & CREDENTIAL_FIELDS:
        return True
    return any(f.is_relation and f.related_model is not None and f.related_model is not model
               and {g.name for g in f.related_model._meta.concrete_fields} & CREDENTIAL_FIELDS
               and f.related_model is not get_user_model()
               for f in model._meta.concrete_fields)


def workspace_paths() -> dict[type[models.Model], str]:
    """{model: lookup to the workspace id} for every in-scope model, e.g. {Story: "product__workspace"}."""
    paths: dict[type[models.Model], str] = {Workspace: "pk"}
    candidates = [m for m in _own_models() if m is not Workspace and m._meta.label not in EXCLUDED
                  and not getattr(m, "portability_exclude", False) and not m._meta.proxy
                  and not _is_credential(m)]
    queue = deque([Workspace])
    while queue:
        target = queue.popleft()
        for model in candidates:
            if model in paths:
                continue
            for f in model._meta.concrete_fields:
                if f.is_relation and f.many_to_one and f.related_model is target:
                    via = "pk" if target is Workspace else paths[target]
                    paths[model] = f.name if via == "pk" else f"{f.name}__{via}"
                    queue.append(model)
                    break
    return paths


def _ordered(paths) -> list[type[models.Model]]:
    """Models with their foreign-key targets first (self-references are fine in one transaction)."""
    done: list = []
    pending = list(paths)
    while pending:
        progressed = False
        for model in list(pending):
            deps = {f.related_model for f in model._meta.concrete_fields
                    if f.is_relation and f.related_model in paths and f.related_model is not model}
            if deps <= set(done):
                done.append(model)
                pending.remove(model)
                progressed = True
        if not progressed:  # a cycle: order does not matter inside one transaction on PostgreSQL
            done.extend(pending)
            break
    return done


def export_workspace(slug: str) -> dict:
    workspace = Workspace.objects.get(slug=slug)
    paths = workspace_paths()
    objects = []
    for model in _ordered(paths):
        lookup = paths[model]
        qs = model._base_manager.filter(**{lookup: workspace.pk}).order_by("pk")
        objects.extend(serializers.serialize("python", qs, use_natural_foreign_keys=True))
    User = get_user_model()
    members = User.objects.filter(memberships__workspace=workspace).order_by("email")
    referenced = _referenced_user_emails(objects)
    users = User.objects.filter(models.Q(pk__in=members) | models.Q(email__in=referenced)).distinct()
    return {
        "format": "pmhub-workspace",
        "version": FORMAT_VERSION,
        "workspace": slug,
        "users": [{"email": u.email, "name": u.name} for u in users.order_by("email")],
        "objects": _jsonable(objects),
    }


def _referenced_user_emails(objects) -> set[str]:
    User = get_user_model()
    emails = set()
    for obj in objects:
        model = apps.get_model(obj["model"])
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is User and obj["fields"].get(f.name):
                emails.add(obj["fields"][f.name][0])
    return emails


class _ExactEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder cuts times to milliseconds (ECMA-262); an export keeps microseconds."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def _jsonable(objects):
    return json.loads(json.dumps(objects, cls=_ExactEncoder))


class ImportRefused(Exception):
    pass


@transaction.atomic
def import_workspace(data: dict) -> dict[str, int]:
    """Load an export into this database; returns {model label: rows}. All or nothing."""
    if data.get("format") != "pmhub-workspace" or data.get("version") != FORMAT_VERSION:
        raise ImportRefused("Not a PMHub workspace export (or an unsupported version).")
    User = get_user_model()
    for u in data.get("users", []):
        user, created = User.objects.get_or_create(email=u["email"], defaults={"name": u.get("name", "")})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    by_model: dict[str, list] = {}
    for obj in data["objects"]:
        by_model.setdefault(obj["model"], []).append(obj)
    for label, objs in by_model.items():
        model = apps.get_model(label)
        clash = model._base_manager.filter(pk__in=[o["pk"] for o in objs]).exists()
        if clash:
            raise ImportRefused(f"{label}: rows with these ids already exist; import into an empty database.")
    if Workspace.objects.filter(slug=data["workspace"]).exists():
        raise ImportRefused(f"A workspace '{data['workspace']}' already exists.")
    counts: dict[str, int] = {}
    for deserialized in serializers.deserialize("python", data["objects"], handle_forward_references=True):
        deserialized.save()
        label = deserialized.object._meta.label
        counts[label] = counts.get(label, 0) + 1
    touched = {apps.get_model(label) for label in by_model}
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(touched)):
            cursor.execute(sql)
    return counts
