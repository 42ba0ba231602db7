"""Serializers never return secrets (scanned on every serializer the router serves, nested
included), and a member's e-mail is never shown to someone outside the workspace."""

import re

import pytest
from django.urls import reverse
from rest_framework import serializers

from .matrix import api_list_routes, api_registry

pytestmark = pytest.mark.django_db

SECRET_NAME = re.compile(r"password|key_hash|token_hash|secret|ingestion_key", re.IGNORECASE)
# "<Serializer>.<field>": reason. Reviewed like code: a field here is returned to API clients.
ALLOWED_SECRET_FIELDS: dict[str, str] = {
    "IdentityProviderSerializer.has_client_secret": "a boolean (whether a client secret is stored), never the secret; "
                                                    "the secret is write-only (tests/sso/test_api.py)",
}


def _serializer_classes(viewset):
    for attr in dir(viewset):
        if attr.endswith("serializer_class"):
            value = getattr(viewset, attr, None)
            if isinstance(value, type) and issubclass(value, serializers.BaseSerializer):
                yield value
    for name in dir(viewset):  # nested serializer classes declared on the viewset (action inputs)
        value = getattr(viewset, name, None)
        if isinstance(value, type) and issubclass(value, serializers.BaseSerializer):
            yield value


def _fields(serializer, prefix, seen):
    if isinstance(serializer, serializers.ListSerializer):
        serializer = serializer.child
    if not isinstance(serializer, serializers.Serializer) or type(serializer) in seen:
        return
    seen = seen | {type(serializer)}
    for name, field in serializer.fields.items():
        yield type(serializer).__name__, f"{prefix}{name}", field
        yield from _fields(field, f"{prefix}{name}.", seen)


def _all_fields():
    found = []
    for _prefix, viewset, basename in api_registry():
        for cls in set(_serializer_classes(viewset)):
            try:
                instance = cls(context={"request": None})
                fields = list(_fields(instance, "", frozenset()))
            except Exception as exc:  # a serializer that cannot be built without a request is reported
                pytest.fail(f"{basename}: {cls.__name__}() could not be built for the scan: {exc}")
            found.extend((basename, *f) for f in fields)
    return found


def test_scan_finds_the_serializers():
    names = {serializer for _b, serializer, _f, _field in _all_fields()}
    assert {"WorkspaceSerializer", "ActivitySerializer", "JobSerializer"} <= names


def test_no_serializer_returns_a_secret():
    leaks = []
    for basename, serializer, path, field in _all_fields():
        source = getattr(field, "source", "") or ""
        secret = (SECRET_NAME.search(path) or SECRET_NAME.search(source)) and not field.write_only
        if secret and f"{serializer}.{path}" not in ALLOWED_SECRET_FIELDS:
            leaks.append(f"{basename}: {serializer}.{path} (source={source!r})")
    assert not leaks, ("Serializers return secret-looking fields; make them write_only, drop them, or add a "
                       f"reasoned entry to ALLOWED_SECRET_FIELDS: {leaks}")


def test_model_serializers_do_not_use_all_fields():
    """`fields = "__all__"` would start returning a secret column the day one is added."""
    offenders = []
    for _prefix, viewset, basename in api_registry():
        for cls in set(_serializer_classes(viewset)):
            meta = getattr(cls, "Meta", None)
            if meta is not None and getattr(meta, "fields", None) == "__all__":
                offenders.append(f"{basename}: {cls.__name__}")
    assert not offenders, offenders


def test_api_responses_contain_no_password_hash_or_token_hash(api_as, admin, editor, workspace):
    from pmhub.models import ApiToken

    client = api_as(admin)
    hashes = [admin.password, editor.password] + list(ApiToken.objects.values_list("key_hash", flat=True))
    for route in api_list_routes():
        url = reverse(route.url_name)
        body = client.get(url).content.decode()
        for secret in hashes:
            assert secret not in body, f"{url} returns a password or token hash"
    body = client.get(f"/api/v1/workspaces/{workspace.id}/members/").content.decode()
    assert editor.email in body  # members do see each other's e-mail
    assert editor.password not in body


def test_member_emails_are_not_shown_to_non_members(api_as, client_as, admin, editor, viewer, outsider, workspace):
    emails = [admin.email, editor.email, viewer.email]
    client = api_as(outsider)
    for route in api_list_routes():
        body = client.get(reverse(route.url_name)).content.decode()
        assert not [e for e in emails if e in body], f"{route.url_name} shows Acme members' e-mails to an outsider"
    assert client.get(f"/api/v1/workspaces/{workspace.id}/members/").status_code == 404
    pages = client_as(outsider)
    for name in ("members", "workspace_home", "activity"):
        response = pages.get(reverse(name, kwargs={"ws": workspace.slug}))
        assert response.status_code == 404
        assert not [e for e in emails if e in response.content.decode()]
    for name in ("home", "notifications", "api_tokens"):
        body = pages.get(reverse(name), follow=True).content.decode()
        assert not [e for e in emails if e in body], name
