"""Release scope approval and change requests: who may do what, what happens to scope."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.services import story_status_set
from delivery import services
from delivery.models import ChangeRequest, IterationItem, ReleaseScopeItem, ScopeApproval
from pmhub.models import Activity, Notification

from .factories import IterationFactory, StoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(release, product, admin, editor):
    """A release with two stories (3 + 5 points) in its approved scope."""
    stories = [StoryFactory(product=product, points=3), StoryFactory(product=product, points=5)]
    for story in stories:
        services.scope_change(actor=editor, release=release, story_id=story.id, kind="add")
    services.scope_approve(actor=admin, release=release)
    return stories


def test_editor_changes_scope_directly_before_approval(release, product, editor):
    story = StoryFactory(product=product)
    services.scope_change(actor=editor, release=release, story_id=story.id, kind="add")
    assert ReleaseScopeItem.objects.filter(release=release, story=story).exists()
    assert not ChangeRequest.objects.exists()


def test_only_admins_approve_scope(release, editor):
    with pytest.raises(PermissionDenied):
        services.scope_approve(actor=editor, release=release)
    assert not ScopeApproval.objects.exists()


def test_approval_snapshots_stories_and_points(release, approved):
    approval = ScopeApproval.objects.get(release=release)
    assert approval.story_ids == sorted(s.id for s in approved)
    assert approval.total_points == 8


def test_after_approval_a_change_is_a_pending_request_and_admins_are_notified(release, product, approved, editor,
                                                                               admin):
    extra = StoryFactory(product=product, points=5)
    cr = services.scope_change(actor=editor, release=release, story_id=extra.id, kind="add", reason="Customer ask")
    assert isinstance(cr, ChangeRequest) and cr.status == "pending" and cr.points_delta == 5
    assert not ReleaseScopeItem.objects.filter(story=extra).exists()  # scope unchanged until decided
    notification = Notification.objects.get(recipient=admin)
    assert notification.kind == "change_request" and "/scope/" in notification.url
    assert not Notification.objects.filter(recipient=editor).exists()


def test_change_request_needs_a_reason(release, product, approved, editor):
    with pytest.raises(ValidationError) as e:
        services.scope_change(actor=editor, release=release, story_id=StoryFactory(product=product).id, kind="add")
    assert "reason" in e.value.message_dict


def test_editor_cannot_decide_a_change_request(release, product, approved, editor):
    cr = services.scope_change(actor=editor, release=release, story_id=approved[0].id, kind="remove", reason="Cut")
    with pytest.raises(PermissionDenied):
        services.change_request_decide(actor=editor, change_request=cr, approve=True)
    cr.refresh_from_db()
    assert cr.status == "pending"
    assert ReleaseScopeItem.objects.filter(story=approved[0]).exists()


def test_approve_applies_the_change_and_keeps_history(release, product, approved, editor, admin, monkeypatch):
    emitted = []
    monkeypatch.setattr(services, "webhook_emit", lambda **kw: emitted.append(kw))
    cr = services.scope_change(actor=editor, release=release, story_id=approved[0].id, kind="remove", reason="Cut")
    services.change_request_decide(actor=admin, change_request=cr, approve=True, note="ok")
    cr.refresh_from_db()
    assert (cr.status, cr.decided_by, cr.decision_note) == ("approved", admin, "ok")
    assert cr.decided_at is not None
    assert not ReleaseScopeItem.objects.filter(release=release, story=approved[0]).exists()
    assert emitted[-1]["event"] == "release.scope_changed" and emitted[-1]["payload"]["total_points"] == 5
    assert Activity.objects.filter(verb="approved scope change").exists()
    with pytest.raises(ValidationError):  # decided once
        services.change_request_decide(actor=admin, change_request=cr, approve=False)


def test_reject_leaves_scope_unchanged(release, product, approved, editor, admin):
    extra = StoryFactory(product=product, points=2)
    cr = services.scope_change(actor=editor, release=release, story_id=extra.id, kind="add", reason="Nice to have")
    services.change_request_decide(actor=admin, change_request=cr, approve=False)
    cr.refresh_from_db()
    assert cr.status == "rejected"
    assert set(ReleaseScopeItem.objects.filter(release=release).values_list("story_id", flat=True)) == {
        s.id for s in approved}
    assert ChangeRequest.objects.count() == 1  # the history stays


def test_duplicate_pending_request_is_refused(release, product, approved, editor):
    extra = StoryFactory(product=product)
    services.scope_change(actor=editor, release=release, story_id=extra.id, kind="add", reason="a")
    with pytest.raises(ValidationError):
        services.scope_change(actor=editor, release=release, story_id=extra.id, kind="add", reason="b")


def test_date_impact_estimated_from_velocity(release, product, approved, editor):
    # Two finished 10-day iterations completing 4 and 6 points: velocity 5 per 10 days.
    for start, end, pts in ((date(2026, 10, 5), date(2026, 10, 14), 4), (date(2026, 10, 19), date(2026, 10, 28), 6)):
        it = IterationFactory(product=product, start_date=start, end_date=end)
        story = StoryFactory(product=product, points=pts)
        IterationItem.objects.create(iteration=it, story=story, added_at=datetime(2026, 10, 1, tzinfo=UTC))
        story_status_set(actor=editor, story=story, status="done", at=datetime(end.year, end.month, end.day, 9, tzinfo=UTC))
    extra = StoryFactory(product=product, points=8)
    with time_machine.travel(datetime(2026, 11, 2, 12, tzinfo=UTC), tick=False):
        cr = services.scope_change(actor=editor, release=release, story_id=extra.id, kind="add", reason="Big ask")
    assert (cr.velocity, cr.iteration_days, cr.date_impact_days) == (5, 10, 16)  # 8 / 5 x 10


def test_scope_summary_shows_original_against_current(client_as, release, product, approved, editor, admin):
    extra = StoryFactory(product=product, points=5, title="Extra story")
    cr = services.scope_change(actor=editor, release=release, story_id=extra.id, kind="add", reason="Needed")
    services.change_request_decide(actor=admin, change_request=cr, approve=True)
    cr2 = services.scope_change(actor=editor, release=release, story_id=approved[0].id, kind="remove", reason="Cut")
    services.change_request_decide(actor=admin, change_request=cr2, approve=True)
    from delivery.selectors import scope_summary

    summary = scope_summary(release=release)
    assert [s.id for s in summary["added"]] == [extra.id]
    assert [s.id for s in summary["removed"]] == [approved[0].id]
    assert (summary["approved_points"], summary["current_points"], summary["points_delta"]) == (8, 10, 2)
    page = client_as(admin).get(f"/w/{product.workspace.slug}/products/{product.id}/releases/{release.id}/scope/")
    assert page.status_code == 200
    assert "Original 8 points → current 10 points" in page.content.decode()


def test_api_scope_flow(api_as, release, product, editor, admin):
    story = StoryFactory(product=product, points=3)
    ed, ad = api_as(editor), api_as(admin)
    assert ed.post(f"/api/v1/release-scopes/{release.id}/add/", {"story": story.id}, format="json").status_code == 200
    assert ed.post(f"/api/v1/release-scopes/{release.id}/approve/", {}, format="json").status_code == 403
    approved = ad.post(f"/api/v1/release-scopes/{release.id}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.json()["approved_points"] == 3
    extra = StoryFactory(product=product, points=2)
    proposed = ed.post("/api/v1/change-requests/", {"release": release.id, "story": extra.id, "kind": "add",
                                                   "reason": "Why not"}, format="json")
    assert proposed.status_code == 201
    cr_id = proposed.json()["id"]
    assert ed.post(f"/api/v1/change-requests/{cr_id}/approve/", {}, format="json").status_code == 403
    decided = ad.post(f"/api/v1/change-requests/{cr_id}/approve/", {}, format="json")
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    scope = ed.get(f"/api/v1/release-scopes/{release.id}/").json()
    assert scope["current_points"] == 5 and scope["added"] == [extra.id] and scope["points_delta"] == 2
    bad = ed.post("/api/v1/change-requests/", {"release": release.id, "story": extra.id, "kind": "sideways",
                                              "reason": "x"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()["errors"]
    assert ChangeRequest.objects.count() == 1
