"""The successful effect of roadmap writes that were only tested through their refusals or not
at all: rows, versions, activity, webhooks (tests/core/test_service_success.py keeps the list)."""

from datetime import date
from decimal import Decimal

import pytest

from backlog import services as backlog_services
from backlog.models import Epic
from roadmaps import services
from roadmaps.models import (
    BusinessCase,
    Capability,
    CapabilityRating,
    Dependency,
    Initiative,
    KeyResult,
    Objective,
    Product,
    Release,
    RoadmapSnapshot,
    Segment,
)
from tests.effects import emitted, subscribe_all, verbs

pytestmark = pytest.mark.django_db


def test_product_create_and_update_are_recorded(workspace, editor):
    product = services.product_create(actor=editor, workspace=workspace, name="  Maps ", vision="Find it")
    services.product_update(actor=editor, product=product, data={"name": "Maps 2", "vision": "Find it fast"})
    product = Product.objects.get(id=product.id)
    assert (product.name, product.vision) == ("Maps 2", "Find it fast")
    assert verbs(workspace)[-2:] == ["created product", "updated product"]


def test_business_case_update_creates_then_changes_the_case(product, editor):
    services.business_case_update(actor=editor, product=product, data={"problem": "Slow", "cost": "2 teams"})
    case = BusinessCase.objects.get(product=product)
    assert (case.problem, case.cost) == ("Slow", "2 teams")
    assert verbs(product.workspace)[-1] == "updated business case"


def test_children_are_created_updated_and_deleted(product, editor):
    segment = services.child_create(actor=editor, model=Segment, product=product, data={"name": "PMs", "size": "4k"})
    services.child_update(actor=editor, obj=segment, data={"name": "Product managers"})
    assert Segment.objects.get(id=segment.id).name == "Product managers"
    services.child_delete(actor=editor, obj=segment)
    assert not Segment.objects.filter(id=segment.id).exists()
    assert verbs(product.workspace)[-1] == "deleted segment"


def test_capability_rate_records_and_changes_a_rating(product, editor, world):
    competitor, capability = world["competitors"], world["capabilities"]
    services.capability_rate(actor=editor, competitor=competitor, capability=capability, level="partial")
    services.capability_rate(actor=editor, competitor=competitor, capability=capability, level="yes")
    assert CapabilityRating.objects.get(competitor=competitor, capability=capability).level == "yes"
    assert Capability.objects.filter(product=product).count() == 1


def test_objective_create_and_update(product, editor):
    objective = services.objective_create(actor=editor, product=product, data={"title": "Grow", "quarter": "2026-Q4"})
    services.objective_update(actor=editor, objective=objective, data={"title": "Grow faster", "quarter": "2027-Q1"})
    objective = Objective.objects.get(id=objective.id)
    assert (objective.title, objective.start_date, objective.end_date) == (
        "Grow faster", date(2027, 1, 1), date(2027, 3, 31))
    assert verbs(product.workspace)[-1] == "updated objective"


def test_key_result_create_adds_it_to_the_objective(product, editor, world):
    objective = world["objectives"]
    kr = services.key_result_create(actor=editor, objective=objective,
                                    data={"title": "Signups", "start_value": 0, "target_value": 500, "unit": "users"})
    assert KeyResult.objects.get(id=kr.id).target_value == Decimal(500)
    assert objective.key_results.count() == 2
    assert verbs(product.workspace)[-1] == "created key result"


def test_initiative_update_bumps_the_version_and_emits(product, admin, editor, world):
    subscribe_all(workspace=product.workspace, admin=admin)
    initiative = world["initiatives"]
    services.initiative_update(actor=editor, initiative=initiative, data={"title": "Alpha+"},
                               version=initiative.version)
    initiative = Initiative.objects.get(id=initiative.id)
    assert (initiative.title, initiative.version) == ("Alpha+", 2)
    event, payload = emitted(product.workspace)[-1]
    assert (event, payload["action"], payload["initiative"]["title"]) == ("initiative.changed", "updated", "Alpha+")


def test_dependency_create_and_delete(product, editor, world):
    a, b = world["initiatives"], world["initiative_b"]
    Dependency.objects.all().delete()
    dependency = services.dependency_create(actor=editor, blocker=b, blocked=a)
    assert Dependency.objects.filter(blocker=b, blocked=a).exists()
    services.dependency_delete(actor=editor, dependency=dependency)
    assert not Dependency.objects.exists()
    assert verbs(product.workspace)[-1] == "removed dependency"


def test_release_assign_and_epics_link_put_initiatives_and_epics_in_scope_and_take_them_out(product, editor, world):
    release, initiative = world["releases"], world["initiatives"]
    epic = Epic.objects.create(product=product, title="Checkout")
    services.release_assign(actor=editor, release=release, initiative_ids=[initiative.id])
    backlog_services.epics_link(actor=editor, product=product, epic_ids=[epic.id], release=release)
    assert Initiative.objects.get(id=initiative.id).release_id == release.id
    assert Epic.objects.get(id=epic.id).release_id == release.id
    backlog_services.epics_link(actor=editor, product=product, epic_ids=[epic.id], unlink_from=release)
    assert Epic.objects.get(id=epic.id).release_id is None
    assert Release.objects.get(id=release.id).initiatives.count() == 1


def test_snapshot_create_freezes_the_roadmap(product, editor, world):
    snapshot = services.snapshot_create(actor=editor, product=product, name="Board review")
    stored = RoadmapSnapshot.objects.get(id=snapshot.id)
    assert {i["title"] for i in stored.data["initiatives"]} == {"Alpha", "Beta"}


def test_share_link_revoke_stops_the_link(product, editor):
    link, raw = services.share_link_create(actor=editor, product=product, days=7)
    assert services.share_link_resolve(raw) == link
    services.share_link_revoke(actor=editor, link=link)
    assert services.share_link_resolve(raw) is None
    assert verbs(product.workspace)[-1] == "revoked share link"
