"""Workspace export/import: every model with a foreign-key path to pmhub.Workspace is exported
and comes back identical after a flush. Generic: other apps' models are in scope the moment
they are merged (data for them comes from the tenancy-matrix builders)."""

import io
import json

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError

from pmhub import services
from pmhub.models import Activity, BackgroundJob, Membership, Notification, Role, User, Workspace
from pmhub.portability import EXCLUDED, workspace_paths
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

from .matrix import Route, load_registry


def _populate(workspace, admin):
    """Core rows plus one object of every route builder of every app (tenancy-matrix registry)."""
    registry = load_registry()
    for entry in list(registry.api.values()) + list(registry.pages.values()):
        if isinstance(entry, Route):
            entry.build(workspace)
    services.activity_record(workspace_id=workspace.id, actor=admin, verb="did", target=workspace, data={"k": [1]})
    Notification.objects.create(recipient=admin, workspace=workspace, kind="other", title="hello", data={"a": 1})
    BackgroundJob.objects.create(workspace=workspace, kind="import", total=4, progress=2, result={"ok": True})


def _normalised(model, lookup, ws_id):
    """Rows of one model in one workspace, with user and content-type references by natural key."""
    rows = []
    for row in model._base_manager.filter(**{lookup: ws_id}).order_by("pk").values():
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is User and row.get(f.attname):
                row[f.attname] = User.objects.get(pk=row[f.attname]).email
            if f.is_relation and f.related_model is ContentType and row.get(f.attname):
                row[f.attname] = ContentType.objects.get_for_id(row[f.attname]).natural_key()
        rows.append(row)
    return rows


@pytest.mark.django_db
def test_scope_is_derived_from_foreign_keys():
    paths = workspace_paths()
    labels = {m._meta.label: p for m, p in paths.items()}
    assert labels["pmhub.Workspace"] == "pk"
    assert labels["pmhub.Membership"] == "workspace"
    assert labels["pmhub.Activity"] == "workspace"
    assert not set(labels) & EXCLUDED
    for model, path in paths.items():  # every path really is a query that runs
        assert model._base_manager.filter(**{path: 0}).count() == 0
        assert model._meta.app_label in ["pmhub", *settings.DOMAIN_APPS]


@pytest.mark.django_db(transaction=True)
def test_export_flush_import_gives_back_every_row(tmp_path):
    workspace = WorkspaceFactory(name="Acme", slug="acme")
    other = WorkspaceFactory(name="Globex", slug="globex")
    admin = UserFactory(email="admin@acme.test", name="Ada")
    MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    MembershipFactory(user=UserFactory(email="viewer@acme.test"), workspace=workspace, role=Role.VIEWER)
    MembershipFactory(user=UserFactory(email="boss@globex.test"), workspace=other, role=Role.ADMIN)
    _populate(workspace, admin)
    _populate(other, admin)  # must not leak into Acme's export
    paths = workspace_paths()
    before = {m._meta.label: _normalised(m, p, workspace.id) for m, p in paths.items()}
    out = io.StringIO()
    call_command("export_workspace", "acme", stdout=out)
    dump = out.getvalue()
    assert "boss@globex.test" not in dump and "Globex" not in dump
    for secret in (admin.password, "key_hash", "token_hash"):
        at = dump.find(secret)
        assert at < 0, dump[max(0, at - 400):at + 50]
    path = tmp_path / "acme.json"
    path.write_text(dump)

    call_command("flush", interactive=False, verbosity=0)
    assert not Workspace.objects.exists() and not User.objects.exists()
    call_command("import_workspace", str(path), stdout=io.StringIO())

    ws = Workspace.objects.get(slug="acme")
    after = {m._meta.label: _normalised(m, p, ws.id) for m, p in paths.items()}
    assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
    assert after == before
    assert sum(len(v) for v in after.values()) >= 6
    assert Membership.objects.get(user__email="admin@acme.test").role == Role.ADMIN
    assert not User.objects.get(email="admin@acme.test").has_usable_password()
    # Sequences were moved past the imported ids: new rows do not collide.
    Activity.objects.create(workspace=ws, verb="after import")


@pytest.mark.django_db
def test_import_refuses_a_database_that_already_holds_the_workspace(workspace, admin, tmp_path):
    out = io.StringIO()
    call_command("export_workspace", workspace.slug, stdout=out)
    path = tmp_path / "ws.json"
    path.write_text(out.getvalue())
    with pytest.raises(CommandError, match="already exist"):
        call_command("import_workspace", str(path))


@pytest.mark.django_db
def test_import_refuses_a_file_that_is_not_an_export(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"objects": []}))
    with pytest.raises(CommandError, match="Not a PMHub workspace export"):
        call_command("import_workspace", str(path))


@pytest.mark.django_db
def test_export_of_unknown_workspace_is_an_error():
    with pytest.raises(CommandError):
        call_command("export_workspace", "nope")
