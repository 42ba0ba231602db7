"""Business impact statements: revisions, submission, decisions by a role or named members, the
gate on an initiative moving to planned (service, API and page), notifications, the roadmap's
"awaiting approval", the activity log."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance import services
from governance.models import ImpactDecision, ImpactStatement
from pmhub.errors import Conflict
from pmhub.models import Notification, Role
from roadmaps import services as roadmap_services
from roadmaps.models import Initiative
from tests.effects import emitted, subscribe_all, verbs
from tests.factories import MembershipFactory, UserFactory
from tests.roadmaps.factories import InitiativeFactory

from .factories import ProductFactory

pytestmark = pytest.mark.django_db
TEXT = {"benefit": "Fewer tickets.", "cost": Decimal("1200.50"), "people": "Support"}


@pytest.fixture
def gated(product):
    from governance.models import ProductGovernance

    ProductGovernance.objects.create(product=product, require_impact_statement=True)
    return product


@pytest.fixture
def initiative(product):
    return InitiativeFactory(product=product, title="Lineage view", status="proposed")


def _submitted(editor, product, initiative, **data):
    statement = services.statement_save(user=editor, product=product, initiative=initiative, data=TEXT | data)
    return services.statement_submit(user=editor, statement=statement, version=statement.version)


def test_statement_save_keeps_every_revision_and_goes_back_to_draft(product, editor, admin, initiative):
    subscribe_all(workspace=product.workspace, admin=admin)
    statement = services.statement_save(user=editor, product=product, initiative=initiative, data=TEXT)
    assert (statement.revision, statement.status) == (1, "draft")
    services.statement_submit(user=editor, statement=statement, version=statement.version)
    services.statement_save(user=editor, product=product, statement=statement, version=statement.version,
                            data=TEXT | {"benefit": "Many fewer tickets."})
    statement.refresh_from_db()
    assert (statement.revision, statement.status) == (2, "draft")
    assert list(statement.revisions.values_list("number", "benefit")) == [(2, "Many fewer tickets."),
                                                                         (1, "Fewer tickets.")]
    assert verbs(product.workspace)[-1] == "revised the business impact statement of"
    assert emitted(product.workspace)[-1][0] == "governance.statement.revised"


def test_a_benefit_is_required_and_nothing_is_written_without_it(product, editor, initiative):
    with pytest.raises(ValidationError) as e:
        services.statement_save(user=editor, product=product, initiative=initiative, data={"benefit": " "})
    assert "benefit" in e.value.error_dict and not ImpactStatement.objects.exists()


def test_statement_submit_asks_the_admins_once(product, editor, admin, initiative, django_capture_on_commit_callbacks):
    subscribe_all(workspace=product.workspace, admin=admin)
    with django_capture_on_commit_callbacks(execute=True):
        statement = _submitted(editor, product, initiative)
    assert statement.status == "awaiting" and statement.requested_by == editor
    assert Notification.objects.filter(recipient=admin, kind="approval").count() == 1
    assert not Notification.objects.filter(recipient=editor, kind="approval").exists()
    assert services.statement_approvers_notify_once(statement_id=statement.id) == 0  # a retry tells nobody again
    assert emitted(product.workspace)[-1][0] == "governance.statement.submitted"


def test_statement_decide_approves_records_and_tells_the_requester(product, editor, admin, initiative,
                                                                   django_capture_on_commit_callbacks):
    statement = _submitted(editor, product, initiative)
    with django_capture_on_commit_callbacks(execute=True):
        record = services.statement_decide(user=admin, statement=statement, decision="approved",
                                           comment="Worth it.", version=statement.version)
    statement.refresh_from_db()
    assert statement.status == "approved" and (record.revision, record.approver) == (1, admin)
    note = Notification.objects.get(recipient=editor, kind="approval")
    assert "approved the impact statement of “Lineage view”: Worth it." in note.title
    assert services.statement_requester_notify_once(decision_id=record.id) is False
    assert verbs(product.workspace)[-1] == "approved the impact statement of"


def test_rejecting_needs_a_comment_and_a_rejected_revision_cannot_be_resubmitted(product, editor, admin, initiative):
    statement = _submitted(editor, product, initiative)
    with pytest.raises(ValidationError) as e:
        services.statement_decide(user=admin, statement=statement, decision="rejected", version=statement.version)
    assert "comment" in e.value.error_dict
    services.statement_decide(user=admin, statement=statement, decision="rejected", comment="Give the cost.",
                              version=statement.version)
    with pytest.raises(ValidationError):
        services.statement_submit(user=editor, statement=statement, version=statement.version)
    services.statement_save(user=editor, product=product, statement=statement, version=statement.version, data=TEXT)
    services.statement_submit(user=editor, statement=statement, version=statement.version)
    assert ImpactStatement.objects.get(pk=statement.pk).status == "awaiting"
    assert list(ImpactDecision.objects.values_list("revision", "decision")) == [(1, "rejected")]


def test_an_editor_may_not_decide_when_admins_approve(product, editor, initiative):
    other = UserFactory()
    MembershipFactory(user=other, workspace=product.workspace, role=Role.EDITOR)
    statement = _submitted(editor, product, initiative)
    with pytest.raises(PermissionDenied):
        services.statement_decide(user=other, statement=statement, decision="approved", version=statement.version)
    assert ImpactStatement.objects.get(pk=statement.pk).status == "awaiting"


def test_named_approvers_are_the_only_ones_who_decide(product, editor, admin, initiative,
                                                      django_capture_on_commit_callbacks):
    named = UserFactory()
    MembershipFactory(user=named, workspace=product.workspace, role=Role.EDITOR)
    with django_capture_on_commit_callbacks(execute=True):
        statement = _submitted(editor, product, initiative, approvers=[named])
    assert list(Notification.objects.filter(kind="approval").values_list("recipient", flat=True)) == [named.id]
    with pytest.raises(PermissionDenied):
        services.statement_decide(user=admin, statement=statement, decision="approved", version=statement.version)
    services.statement_decide(user=named, statement=statement, decision="approved", version=statement.version)
    assert ImpactStatement.objects.get(pk=statement.pk).status == "approved"


def test_a_viewer_may_not_be_named_approver(product, editor, viewer, initiative):
    with pytest.raises(ValidationError) as e:
        services.statement_save(user=editor, product=product, initiative=initiative, data=TEXT | {"approvers": [viewer]})
    assert "approvers" in e.value.error_dict


def test_a_stale_version_is_a_conflict(product, editor, admin, initiative):
    statement = _submitted(editor, product, initiative)
    with pytest.raises(Conflict):
        services.statement_decide(user=admin, statement=statement, decision="approved", version=1)


def test_statement_requirement_set_is_recorded(product, admin):
    row = services.statement_requirement_set(user=admin, product=product, required=True, version=None)
    assert row.require_impact_statement is True
    assert verbs(product.workspace)[-1] == "required impact statements on"


# --- the gate -----------------------------------------------------------------------------------------
def test_the_gate_refuses_planned_without_an_approved_statement_then_lets_it_through(gated, editor, admin,
                                                                                      initiative):
    with pytest.raises(ValidationError) as e:
        roadmap_services.initiative_update(actor=editor, initiative=initiative, data={"status": "planned"},
                                           version=initiative.version)
    assert "status" in e.value.error_dict
    assert Initiative.objects.get(pk=initiative.pk).status == "proposed"
    statement = _submitted(editor, gated, initiative)
    with pytest.raises(ValidationError):  # awaiting is not approved
        roadmap_services.initiative_update(actor=editor, initiative=initiative, data={"status": "planned"},
                                           version=initiative.version)
    services.statement_decide(user=admin, statement=statement, decision="approved", version=statement.version)
    roadmap_services.initiative_update(actor=editor, initiative=initiative, data={"status": "planned"},
                                       version=initiative.version)
    assert Initiative.objects.get(pk=initiative.pk).status == "planned"


def test_a_new_initiative_cannot_start_planned_in_a_gated_product(gated, editor):
    with pytest.raises(ValidationError):
        roadmap_services.initiative_create(actor=editor, product=gated, data={"title": "X", "status": "planned"})
    assert roadmap_services.initiative_create(actor=editor, product=gated, data={"title": "X", "status": "proposed"})


def test_a_product_without_the_requirement_is_not_gated(product, editor, initiative):
    roadmap_services.initiative_update(actor=editor, initiative=initiative, data={"status": "planned"},
                                       version=initiative.version)
    assert Initiative.objects.get(pk=initiative.pk).status == "planned"


def test_the_gate_is_a_400_with_a_status_error_in_the_api(gated, api_as, editor, initiative):
    r = api_as(editor).patch(f"/api/v1/initiatives/{initiative.id}/", {"status": "planned",
                                                                       "version": initiative.version}, format="json")
    assert r.status_code == 400 and "status" in r.json()["errors"]
    assert Initiative.objects.get(pk=initiative.pk).status == "proposed"


def test_the_gate_is_a_form_error_on_the_page(gated, client_as, editor, initiative):
    url = reverse("roadmaps:initiative", kwargs={"ws": gated.workspace.slug, "product_id": gated.id,
                                                 "initiative_id": initiative.id})
    r = client_as(editor).post(url, {"title": "Lineage view", "status": "planned", "confidence": 50,
                                     "version": initiative.version})
    assert r.status_code == 400 and b"approved business impact statement" in r.content
    assert Initiative.objects.get(pk=initiative.pk).status == "proposed"


# --- pages, roadmap, API -----------------------------------------------------------------------------
def _page(product, initiative):
    return reverse("governance:statement", kwargs={"ws": product.workspace.slug, "product_id": product.id,
                                                   "initiative_id": initiative.id})


def test_write_submit_and_approve_through_the_page(client_as, editor, admin, viewer, product, initiative):
    url = _page(product, initiative)
    bad = client_as(editor).post(url, {"action": "save", "benefit": "", "approver_role": "30", "people": "kept"})
    assert bad.status_code == 400 and b"kept" in bad.content and not ImpactStatement.objects.exists()
    assert client_as(editor).post(url, {"action": "save", "benefit": "Fewer tickets", "cost": "900",
                                        "approver_role": "30"}).status_code == 302
    statement = ImpactStatement.objects.get()
    assert client_as(editor).post(url, {"action": "submit", "version": statement.version}).status_code == 302
    statement.refresh_from_db()
    html = client_as(admin).get(url).content.decode()
    assert 'data-testid="statement-decide"' in html
    assert 'data-testid="statement-decide"' not in client_as(editor).get(url).content.decode()
    assert client_as(viewer).post(url, {"action": "approved", "version": statement.version}).status_code == 403
    assert client_as(admin).post(url, {"action": "rejected", "version": statement.version}).status_code == 400
    assert client_as(admin).post(url, {"action": "approved", "comment": "Go", "version": statement.version}
                                 ).status_code == 302
    html = client_as(viewer).get(url).content.decode()
    assert "Approved" in html and "“Go”" in html


def test_the_roadmap_shows_which_items_await_approval(client_as, viewer, editor, product, initiative):
    from datetime import date

    Initiative.objects.filter(pk=initiative.pk).update(start_date=date(2026, 7, 1), end_date=date(2026, 9, 1),
                                                        horizon="next")
    other = InitiativeFactory(product=product, title="Calm", start_date=date(2026, 7, 1), end_date=date(2026, 9, 1))
    services.statement_save(user=editor, product=product, initiative=other, data=TEXT)  # a draft: no badge
    _submitted(editor, product, initiative)
    kw = {"ws": product.workspace.slug, "product_id": product.id}
    for page in ("timeline", "board", "list"):
        html = client_as(viewer).get(reverse(f"roadmaps:{page}", kwargs=kw)).content.decode()
        assert html.count('data-testid="awaiting-approval"') == 1, page
    work = client_as(viewer).get(reverse("roadmaps:initiative_work", kwargs=kw | {"initiative_id": initiative.id}))
    assert "Awaiting approval" in work.content.decode()


def test_decisions_are_in_the_activity_log(client_as, viewer, editor, admin, product, initiative):
    statement = _submitted(editor, product, initiative)
    services.statement_decide(user=admin, statement=statement, decision="approved", version=statement.version)
    html = client_as(viewer).get(reverse("activity", kwargs={"ws": product.workspace.slug})).content.decode()
    assert "approved the impact statement of" in html and "asked for approval of the impact statement of" in html


def test_the_api_writes_revisions_submits_and_decides(api_as, editor, admin, product, initiative):
    client = api_as(editor)
    r = client.post("/api/v1/impact-statements/", {"initiative": initiative.id, "benefit": "B", "cost": "10.00"},
                    format="json")
    assert r.status_code == 201 and r.json()["revision"] == 1
    sid, version = r.json()["id"], r.json()["version"]
    r = client.patch(f"/api/v1/impact-statements/{sid}/", {"benefit": "B2", "version": version}, format="json")
    assert r.status_code == 200 and [x["number"] for x in r.json()["revisions"]] == [2, 1]
    r = client.post(f"/api/v1/impact-statements/{sid}/submit/", {"version": r.json()["version"]}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "awaiting"
    assert client.post(f"/api/v1/impact-statements/{sid}/decide/", {"decision": "approved",
                                                                     "version": r.json()["version"]},
                       format="json").status_code == 403
    r = api_as(admin).post(f"/api/v1/impact-statements/{sid}/decide/", {"decision": "rejected",
                                                                         "version": r.json()["version"]}, format="json")
    assert r.status_code == 400 and "comment" in r.json()["errors"]
    version = ImpactStatement.objects.get(pk=sid).version
    r = api_as(admin).post(f"/api/v1/impact-statements/{sid}/decide/", {"decision": "approved", "comment": "ok",
                                                                         "version": version}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["decisions"][0]["revision"] == 2


def test_a_statement_on_a_change_request(api_as, editor, product):
    from delivery.models import ChangeRequest
    from tests.delivery.factories import StoryFactory
    from tests.roadmaps.factories import ReleaseFactory

    release = ReleaseFactory(product=product)
    change = ChangeRequest.objects.create(release=release, story=StoryFactory(product=product), kind="add")
    r = api_as(editor).post("/api/v1/impact-statements/", {"change_request": change.id, "benefit": "Ship the fix"},
                            format="json")
    assert r.status_code == 201 and r.json()["change_request"] == change.id
    assert api_as(editor).post("/api/v1/impact-statements/", {"benefit": "x"}, format="json").status_code == 400


def test_the_gate_with_an_other_product_statement_does_not_pass(gated, editor, admin, workspace):
    other_product = ProductFactory(workspace=workspace)
    mine = InitiativeFactory(product=gated, status="proposed")
    theirs = InitiativeFactory(product=other_product)
    statement = _submitted(editor, other_product, theirs)
    services.statement_decide(user=admin, statement=statement, decision="approved", version=statement.version)
    with pytest.raises(ValidationError):
        roadmap_services.initiative_update(actor=editor, initiative=mine, data={"status": "planned"},
                                           version=mine.version)
