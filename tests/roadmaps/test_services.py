"""Service rules: progress from the backlog, conflicts, cycles, locking, soft delete, signals, webhooks."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import Epic, Story
from pmhub.errors import Conflict
from pmhub.models import Activity
from roadmaps import selectors, services
from roadmaps.models import Dependency, Initiative, KeyResult, Product, Release
from roadmaps.signals import release_shipped

pytestmark = pytest.mark.django_db


def _progress(initiative):
    from backlog.selectors import progress_for_initiatives

    work = progress_for_initiatives(initiative_ids=[initiative.pk]).get(initiative.pk)
    return None if work is None else work.ratio


def test_initiative_progress_is_weighted_by_points_of_its_epics_stories(world):
    initiative = world["initiatives"]
    epic = Epic.objects.create(product=initiative.product, initiative=initiative, title="E")
    Story.objects.create(product=initiative.product, epic=epic, title="s1", status="done", points=3)
    Story.objects.create(product=initiative.product, epic=epic, title="s2", status="in_progress", points=5)
    Story.objects.create(product=initiative.product, epic=epic, title="s3", status="wont_do", points=8)
    assert _progress(initiative) == pytest.approx(3 / 8, abs=1e-4)


def test_initiative_progress_falls_back_to_counts_without_points(world):
    initiative = world["initiatives"]
    epic = Epic.objects.create(product=initiative.product, initiative=initiative, title="E")
    for status in ("done", "idea", "ready", "wont_do"):
        Story.objects.create(product=initiative.product, epic=epic, title=status, status=status)
    assert _progress(initiative) == pytest.approx(1 / 3, abs=1e-4)


def test_initiative_without_stories_has_no_progress(world):
    assert _progress(world["initiatives"]) is None


def test_release_progress_covers_its_epics_and_initiatives(world):
    release, initiative = world["releases"], world["initiatives"]
    initiative.release = release
    initiative.save()
    via_initiative = Epic.objects.create(product=release.product, initiative=initiative, title="A")
    direct = Epic.objects.create(product=release.product, release=release, title="B")
    Story.objects.create(product=release.product, epic=via_initiative, title="1", status="done", points=2)
    Story.objects.create(product=release.product, epic=direct, title="2", status="idea", points=2)
    from delivery.selectors import release_progress

    work = release_progress(release_ids=[release.pk])[release.pk]
    assert (work.done_points, work.total_points) == (2, 4)


def test_dependency_ending_after_start_is_flagged_as_conflict(world):
    dep = selectors.dependencies_annotated().get(pk=world["dependencies"].pk)
    assert dep.conflict is True  # Alpha ends 15 Nov, Beta starts 1 Nov
    Initiative.objects.filter(pk=world["initiative_b"].pk).update(start_date=date(2026, 11, 20))
    assert selectors.dependencies_annotated().get(pk=dep.pk).conflict is False


def test_cycle_is_refused_with_a_clear_error(world, editor):
    a, b = world["initiatives"], world["initiative_b"]
    c = Initiative.objects.create(product=a.product, title="Gamma")
    services.dependency_create(actor=editor, blocker=b, blocked=c)
    with pytest.raises(ValidationError) as err:
        services.dependency_create(actor=editor, blocker=c, blocked=a)
    assert "cycle" in err.value.message_dict["blocked"][0]
    assert Dependency.objects.count() == 2


def test_self_and_cross_product_dependencies_are_refused(world, editor, foreign_product):
    a = world["initiatives"]
    with pytest.raises(ValidationError):
        services.dependency_create(actor=editor, blocker=a, blocked=a)
    other = Initiative.objects.create(product=Product.objects.create(workspace=a.product.workspace, name="P2"),
                                      title="X")
    with pytest.raises(ValidationError):
        services.dependency_create(actor=editor, blocker=a, blocked=other)


def test_stale_version_is_a_conflict_with_current_state(world, editor):
    initiative = world["initiatives"]
    services.initiative_update(actor=editor, initiative=initiative, data={"title": "First"}, version=1)
    stale = Initiative.objects.get(pk=initiative.pk)
    stale.version = 1
    with pytest.raises(Conflict) as err:
        services.initiative_update(actor=editor, initiative=stale, data={"title": "Second"}, version=1)
    assert err.value.current["title"] == "First" and err.value.current["version"] == 2
    assert Initiative.objects.get(pk=initiative.pk).title == "First"


def test_initiative_writes_emit_webhook_and_activity(world, editor, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "webhook_emit", lambda **kw: calls.append(kw))
    product = world["products"]
    initiative = services.initiative_create(actor=editor, product=product, data={"title": "New", "labels": ["A "]})
    services.initiative_move(actor=editor, initiative=initiative, version=1, horizon="later")
    services.initiative_delete(actor=editor, initiative=initiative)
    assert [c["payload"]["action"] for c in calls] == ["created", "moved", "deleted"]
    assert all(c["event"] == "initiative.changed" and c["workspace_id"] == product.workspace_id for c in calls)
    assert calls[0]["payload"]["initiative"]["labels"] == ["a"]
    assert Activity.objects.filter(verb__endswith="initiative").count() == 3


def test_viewer_cannot_write_through_services(world, viewer):
    with pytest.raises(PermissionDenied):
        services.initiative_create(actor=viewer, product=world["products"], data={"title": "x"})


def test_product_soft_delete_and_restore(world, admin):
    product = world["products"]
    services.product_delete(actor=admin, product=product)
    assert not selectors.products_for_user(user=admin).filter(pk=product.pk).exists()
    assert Product.objects.filter(pk=product.pk).exists()
    services.product_restore(actor=admin, product=product)
    assert selectors.products_for_user(user=admin).filter(pk=product.pk).exists()


def test_editor_cannot_delete_a_product(world, editor):
    with pytest.raises(PermissionDenied):
        services.product_delete(actor=editor, product=world["products"])


def test_marking_released_sends_release_shipped_once(world, editor):
    received = []

    def receiver(sender, release, actor, **kw):
        received.append((release.pk, actor))

    release_shipped.connect(receiver)
    try:
        services.release_mark_released(actor=editor, release=world["releases"])
        services.release_mark_released(actor=editor, release=world["releases"])
    finally:
        release_shipped.disconnect(receiver)
    assert received == [(world["releases"].pk, editor)]
    assert Release.objects.get(pk=world["releases"].pk).released_at is not None


def test_key_result_follows_linked_kpi(world):
    from metrics.models import Kpi

    kr = world["key-results"]
    kpi = Kpi.objects.create(product=world["products"], name="WAU", current_value=Decimal(175))
    kr.kpi = kpi
    kr.save()
    kr = KeyResult.objects.select_related("kpi").get(pk=kr.pk)
    assert kr.current == Decimal(175) and kr.progress == pytest.approx(0.75)


def test_objective_from_quarter_and_bad_dates(world, editor):
    objective = services.objective_create(actor=editor, product=world["products"],
                                          data={"title": "Q", "quarter": "2027-q2"})
    assert (objective.start_date, objective.end_date) == (date(2027, 4, 1), date(2027, 6, 30))
    with pytest.raises(ValidationError):
        services.objective_create(actor=editor, product=world["products"],
                                  data={"title": "Bad", "start_date": date(2027, 5, 1), "end_date": date(2027, 4, 1)})


def test_demo_seed_is_idempotent(workspace, admin):
    from roadmaps import demo
    from tests.roadmaps.conftest import fingerprint

    demo.seed(workspace=workspace, users={"demo": admin})
    before = fingerprint()
    demo.seed(workspace=workspace, users={"demo": admin})
    assert fingerprint() == before
    product = Product.objects.get(workspace=workspace, name="Acme Analytics")
    assert product.initiatives.count() == 8 and product.segments.count() == 2
    assert Dependency.objects.filter(blocker__product=product).count() == 2
