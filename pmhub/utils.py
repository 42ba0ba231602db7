"""Small helpers shared by services."""

from functools import lru_cache

from django.db import models
from django.db.models import F

from .errors import Conflict


def ids_text(ids, limit: int = 20) -> str:
    """"3, 17, 42": the ids a client sent that a bulk write refuses, for its error message. Every id
    outside the scope is named alike, whether it exists elsewhere or nowhere (no existence leak)."""
    ids = sorted(ids)
    return ", ".join(map(str, ids[:limit])) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def model_update(*, instance: models.Model, data: dict, fields: list[str]) -> bool:
    """Set the listed fields that are present in `data`, save only those; return whether anything changed."""
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed:
        instance.full_clean(exclude=[f.name for f in instance._meta.fields if f.name not in changed])
        if hasattr(instance, "updated_at"):
            changed.append("updated_at")
        instance.save(update_fields=changed)
    return bool(changed)


def versioned_update(*, instance: models.Model, data: dict, fields: list[str], expected_version: int | None,
                     serialize=None) -> bool:
    """Optimistic locking: bump `version` in the same UPDATE whose WHERE names the version read.

    `expected_version=None` skips the check (the caller read the row under a lock). A stale
    version raises Conflict carrying the current state (`serialize(instance)` when given).
    """
    model = type(instance)
    values = {f: data[f] for f in fields if f in data}
    for name, value in values.items():
        setattr(instance, name, value)
    if values:
        instance.full_clean(exclude=[f.name for f in model._meta.fields if f.name not in values])
    qs = model.objects.filter(pk=instance.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    update = dict(values, version=F("version") + 1)
    if hasattr(instance, "updated_at"):
        from django.utils import timezone

        update["updated_at"] = timezone.now()
    if qs.update(**update) == 0:
        current = model._base_manager.get(pk=instance.pk)
        raise Conflict(_conflict_message(expected_version),
                       current=serialize(current) if serialize else state_of(current))
    instance.refresh_from_db()
    return bool(values)


# Never part of a 409's "current state" (webhook secrets, key digests, ...).
_PRIVATE_FIELD_PARTS = ("secret", "token", "hash", "password")


def state_of(instance: models.Model) -> dict:
    """The stored state of a row as JSON-safe data (ids of relations as `<name>_id`), for the
    "current" of a 409 when the service has no payload of its own. Secret-like fields are left out."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    values = {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if not any(part in f.name for part in _PRIVATE_FIELD_PARTS)
    }
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def version_claim(*, instance: models.Model, expected_version: int | None, serialize=None) -> None:
    """Optimistic locking for a service whose write is more than one UPDATE (model_update, related
    rows, a rescore, ...): call it inside the service's transaction, after its permission checks
    and before writing. It bumps `version` with an UPDATE whose WHERE names the version read; no
    row matched means someone else wrote first (or no version was sent: `version_read` gives 0):
    Conflict with the current state. The row stays locked until commit, so a second writer of the
    same version waits, then gets its 409; a later error rolls the bump back.
    `expected_version=None` skips the comparison (an internal caller, or the row read under a lock)."""
    model = type(instance)
    qs = model._base_manager.filter(pk=instance.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if qs.update(version=F("version") + 1) == 0:
        current = model._base_manager.get(pk=instance.pk)
        raise Conflict(_conflict_message(expected_version),
                       current=serialize(current) if serialize else state_of(current))
    instance.version = model._base_manager.filter(pk=instance.pk).values_list("version", flat=True).get()


def _conflict_message(expected_version) -> str:
    if not expected_version:
        return "Send the version you read (optimistic locking): this object may have changed since."
    return "This object was changed by someone else."


def version_read(value) -> int:
    """The version a client read, from an API body or a page form's hidden field, for an update
    service (versioned_update / version_claim). Missing or not a positive whole number gives 0,
    which no row has: the service refuses it like a stale version (409 with the current state),
    after its own permission checks, so the client learns what it would overwrite and which
    version to send. The one reader both the API and the pages use."""
    try:
        version = int(value)
    except (TypeError, ValueError):
        return 0
    return version if version >= 1 else 0


def mail_subject(text: str) -> str:
    """User text (a report, workspace or story name) as an e-mail subject: every run of whitespace,
    line breaks included, becomes one space. Django refuses a header with CR/LF (BadHeaderError),
    so a name typed with a line break through the API would otherwise stop its e-mails for good."""
    return " ".join(str(text).split())


def all_or_nothing(*calls) -> None:
    """Run several service calls as one write: in one transaction, each call is tried even when an
    earlier one was refused, so the 400 names every bad field at once; any refusal rolls back all
    of them and raises the merged ValidationError."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    errors: dict = {}
    with transaction.atomic():
        for call in calls:
            try:
                with transaction.atomic():
                    call()
            except ValidationError as e:
                for field, messages in (e.message_dict if hasattr(e, "error_dict") else
                                        {"__all__": e.messages}).items():
                    errors.setdefault(field, []).extend(messages)
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
def safe_next(request, fallback: str) -> str:
    """Where to go after a form: the request's `next` (POST, then GET) when it is a path on this
    site, else `fallback`. Every view that honours `next` calls this, so none of them can be made
    to redirect to another site (`https://evil.example`, `//evil.example`, `/\\evil.example`) or to
    a `javascript:` URL; tests/security/test_redirects.py walks them all."""
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = (request.POST.get("next") or request.GET.get("next") or "").strip()
    # No allowed host at all: only a path without scheme or host passes.
    if nxt.startswith("/") and url_has_allowed_host_and_scheme(nxt, allowed_hosts=set()):
        return nxt
    return fallback


def client_address(request) -> str:
    """The client's address for per-address limits (sign-in lockout, API throttling): REMOTE_ADDR,
    or, behind `settings.NUM_PROXIES` reverse proxies (env API_NUM_PROXIES), the address the
    outermost of them saw, read from X-Forwarded-For the way DRF does. Without the setting the
    header is ignored (a client could name any address in it); with it missing behind a proxy,
    every client would share the proxy's address and one lockout would hit everyone."""
    from django.conf import settings

    num_proxies = getattr(settings, "NUM_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if num_proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(num_proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


def reverse_prefix(viewname: str, kwargs: dict, last: str) -> str:
    """The URL of `viewname` up to its last argument `last`, ending in "/": a page that links
    every row (".../stories/<id>/") reverses once and appends each row's id, instead of one
    reverse() per row (a tenth of a millisecond each, hundreds per page)."""
    from django.urls import reverse

    url = reverse(viewname, kwargs={**kwargs, last: 0})
    if not url.endswith("/0/"):
        raise ValueError(f"{viewname}: {last} is not the last part of its URL")
    return url[: -len("0/")]


_ID_SLOT = 999_999_937  # a number no row id reaches in a page's lifetime: replaced by each row's id


def url_for_ids(viewname: str, id_kwarg: str, **kwargs):
    """`id -> URL` of one route for many rows, reversed once: a page listing hundreds of rows
    (roadmap board and timeline) calls this instead of `{% url %}` per row, which costs a resolver
    walk each time. The same URL as reverse() (tests/core/test_url_for_ids.py). Unlike
    reverse_prefix (a prefix a template appends ids to), the id may sit anywhere in the route
    (".../initiatives/<id>/move/").

    The route is reversed once per process for each set of other arguments, URLconf and script
    prefix (a workspace's dashboard asked for one per product and list, ~40 resolver walks a view:
    decision 2221); arguments that cannot be a key are reversed each time."""
    from django.conf import settings
    from django.urls import get_script_prefix, get_urlconf

    try:
        return _url_for_ids(viewname, id_kwarg, tuple(sorted(kwargs.items())),
                            get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    except TypeError:  # an argument that is not hashable
        return _url_maker(viewname, id_kwarg, kwargs)


def _url_maker(viewname: str, id_kwarg: str, kwargs: dict):
    from django.urls import reverse

    head, _, tail = reverse(viewname, kwargs={**kwargs, id_kwarg: _ID_SLOT}).rpartition(str(_ID_SLOT))

    def url(pk) -> str:
        return f"{head}{int(pk)}{tail}"

    return url


@lru_cache(maxsize=4096)
def _url_for_ids(viewname: str, id_kwarg: str, items: tuple, urlconf, script_prefix: str):
    return _url_maker(viewname, id_kwarg, dict(items))
