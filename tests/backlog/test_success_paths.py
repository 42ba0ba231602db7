"""The successful effect of backlog writes that were only tested through their refusals: rows,
versions, activity, webhooks, recomputed figures. (tests/core/test_service_success.py keeps the
list of write services and the test of each.)"""

from decimal import Decimal

import pytest

from backlog import services
from backlog.models import AcceptanceCriterion, Comment, CustomField, Epic, SavedView, Story
from pmhub.errors import Conflict
from pmhub.models import Notification
from tests.effects import emitted, subscribe_all, verbs

from .factories import make_stories

pytestmark = pytest.mark.django_db


@pytest.fixture
def epic(product, editor):
    return services.epic_create(actor=editor, product=product, title="Checkout")


def test_story_delete_removes_the_story_and_records_who_deleted_it(product, editor, stories):
    services.story_delete(actor=editor, story=stories[1])
    assert not Story.objects.filter(id=stories[1].id).exists()
    assert Story.objects.filter(product=product).count() == 4
    assert verbs(product.workspace)[-1] == "deleted story"


def test_epic_update_bumps_its_version_and_emits(product, admin, editor, epic):
    subscribe_all(workspace=product.workspace, admin=admin)
    updated = services.epic_update(actor=editor, epic=epic, data={"title": "Checkout v2"}, version=epic.version)
    epic.refresh_from_db()
    assert (epic.title, epic.version) == ("Checkout v2", updated.version)
    assert epic.version == 2
    assert verbs(product.workspace)[-1] == "updated epic"
    assert emitted(product.workspace)[-1] == ("epic.updated", {
        "id": epic.id, "product_id": product.id, "title": "Checkout v2", "status": epic.status,
        "initiative_id": None, "release_id": None, "version": 2})


def test_epic_update_with_a_stale_version_is_a_conflict_with_the_current_state(product, editor, epic):
    services.epic_update(actor=editor, epic=epic, data={"title": "First"}, version=1)
    stale = Epic.objects.get(id=epic.id)
    with pytest.raises(Conflict) as conflict:
        services.epic_update(actor=editor, epic=stale, data={"title": "Second"}, version=1)
    assert conflict.value.current["title"] == "First"
    assert Epic.objects.get(id=epic.id).title == "First"


def test_epic_update_through_the_api_answers_409_when_stale_and_200_when_current(api, product, editor, epic):
    api.force_authenticate(editor)
    ok = api.patch(f"/api/v1/epics/{epic.id}/", {"title": "Renamed", "version": 1}, format="json")
    assert ok.status_code == 200, ok.json()
    stale = api.patch(f"/api/v1/epics/{epic.id}/", {"title": "Lost", "version": 1}, format="json")
    assert stale.status_code == 409
    assert Epic.objects.get(id=epic.id).title == "Renamed"


def test_epic_delete_removes_it_and_keeps_its_stories(product, editor, epic):
    story = services.story_create(actor=editor, product=product, title="Pay", epic=epic)
    services.epic_delete(actor=editor, epic=epic)
    assert not Epic.objects.filter(id=epic.id).exists()
    story.refresh_from_db()
    assert story.epic_id is None
    assert verbs(product.workspace)[-1] == "deleted epic"


def test_demand_recompute_sums_importance_times_segment_weight(product, admin, editor, stories,
                                                               django_capture_on_commit_callbacks):
    """Story demand is what the registered providers give (discovery's highlighted insights, where all
    feedback lives: decision 1613): importance x segment weight (x a revenue factor of 1 here)."""
    from discovery.services import feedback_file
    from roadmaps.models import Segment

    services.settings_update(actor=admin, product=product, segment_weights={"enterprise": 2})
    enterprise = Segment.objects.create(product=product, name="enterprise")
    with django_capture_on_commit_callbacks(execute=True):
        for customer, importance, segment in (("C", 3, enterprise), ("D", 2, None)):
            feedback_file(user=editor, product=product, customer=customer, quote="Q", importance=importance,
                          segment=segment, story_ids=[stories[0].id])
    Story.objects.filter(id=stories[0].id).update(demand=0)
    services.demand_recompute(product=product)
    assert Story.objects.get(id=stories[0].id).demand == Decimal("8.00")  # 3 x 2 + 2 x 1


def test_custom_field_update_changes_label_options_and_required(product, admin):
    field = services.custom_field_create(actor=admin, product=product, key="team", label="Team",
                                         type="single_select", options=["Web"])
    services.custom_field_update(actor=admin, field=field, label="Squad", options=["Web", "Mobile"], required=True)
    field = CustomField.objects.get(id=field.id)
    assert (field.label, field.options, field.required) == ("Squad", ["Web", "Mobile"], True)


def test_custom_field_delete_removes_the_definition(product, admin):
    field = services.custom_field_create(actor=admin, product=product, key="team", label="Team", type="text")
    services.custom_field_delete(actor=admin, field=field)
    assert not CustomField.objects.filter(id=field.id).exists()


def test_saved_view_create_update_and_delete(product, editor):
    view = services.saved_view_create(actor=editor, product=product, name="Mine", config={"sort": "rank"})
    services.saved_view_update(actor=editor, view=view, name="Top scored", config={"sort": "-score"}, shared=True)
    view = SavedView.objects.get(id=view.id)
    assert (view.name, view.config, view.shared) == ("Top scored", {"sort": "-score"}, True)
    services.saved_view_delete(actor=editor, view=view)
    assert not SavedView.objects.filter(id=view.id).exists()


def test_rebalance_rewrites_ranks_short_and_keeps_the_order(product, editor):
    stories = make_stories(product, 6, actor=editor)
    for _ in range(3):  # moves squeeze keys between neighbours, making them longer
        services.story_move(actor=editor, story=Story.objects.get(id=stories[5].id), after=stories[0].id)
        services.story_move(actor=editor, story=Story.objects.get(id=stories[4].id), after=stories[0].id)
    before = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True))
    assert services.rebalance(product_id=product.id) == 6
    after = Story.objects.filter(product=product).order_by("rank")
    assert [s.id for s in after] == before
    assert max(len(s.rank) for s in after) <= max(2, len(after[0].rank))


def test_criteria_are_added_and_ticked(product, editor, stories):
    criterion = services.criterion_add(actor=editor, story=stories[0], text="Shows the total")
    services.criterion_toggle(actor=editor, criterion=criterion, done=True)
    assert AcceptanceCriterion.objects.get(id=criterion.id).done is True


def test_a_comment_notifies_the_mentioned_member(product, editor, admin, stories):
    comment = services.comment_create(actor=editor, story=stories[0], body="@admin can you look?")
    assert Comment.objects.filter(id=comment.id, story=stories[0]).exists()
    assert Notification.objects.filter(recipient=admin).count() == 1


def test_rescore_product_recomputes_an_outdated_score(product, editor):
    story = services.story_create(actor=editor, product=product, title="Scored",
                                  score_inputs={"reach": 100, "impact": 1, "confidence": 100, "effort": 1})
    Story.objects.filter(id=story.id).update(score=Decimal("1"))
    assert services.rescore_product(product_id=product.id) >= 1
    assert Story.objects.get(id=story.id).score == Decimal("100")
