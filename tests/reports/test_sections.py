"""Report sections read what exists, with a fixed number of queries."""

from datetime import date, timedelta

import pytest
import time_machine

from backlog.models import Story
from metrics.models import Kpi
from reports import sections, services
from reports.models import ReportRun
from tests.roadmaps.factories import DependencyFactory

from .factories import InitiativeFactory, ReleaseFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 26)


@pytest.fixture
def world(product):
    InitiativeFactory(product=product, title="Shipped", status="done", end_date=TODAY - timedelta(days=10))
    InitiativeFactory(product=product, title="Slipping", status="in_progress", end_date=TODAY - timedelta(days=1))
    InitiativeFactory(product=product, title="Fine", status="planned", end_date=TODAY + timedelta(days=30))
    InitiativeFactory(product=product, title="Dropped", status="cancelled")
    ReleaseFactory(product=product, name="v1", status="released", release_date=TODAY - timedelta(days=20))
    ReleaseFactory(product=product, name="v2", release_date=TODAY - timedelta(days=2))
    Kpi.objects.create(product=product, name="Activation", target_value=40, current_value=45)
    Kpi.objects.create(product=product, name="Churn", direction="lower", target_value=2, current_value=3)
    for i in range(12):
        Story.objects.create(product=product, title=f"Story {i}", status="ready", points=i)
    Story.objects.create(product=product, title="Finished", status="done")
    return product


def test_roadmap_counts_done_on_track_and_late(world):
    data = sections.roadmap(products=[world], today=TODAY, previous=None)
    assert data["counts"] == {"done": 1, "on_track": 1, "at_risk": 0, "late": 1}
    assert [i["title"] for i in data["late"]] == ["Slipping"]


def test_an_initiative_in_a_dependency_conflict_is_at_risk(world):
    fine = world.initiatives.get(title="Fine")
    fine.start_date = TODAY + timedelta(days=5)
    fine.save()
    blocker = InitiativeFactory(product=world, title="Platform", status="in_progress", start_date=TODAY,
                                end_date=TODAY + timedelta(days=20))  # ends after "Fine" starts
    DependencyFactory(blocker=blocker, blocked=fine)
    data = sections.roadmap(products=[world], today=TODAY, previous=None)
    assert data["counts"] == {"done": 1, "on_track": 0, "at_risk": 2, "late": 1}
    assert {i["title"]: i["state"] for i in data["items"]}["Fine"] == "at_risk"


def test_roadmap_lists_changes_since_the_previous_report(world):
    previous = sections.roadmap(products=[world], today=TODAY, previous=None)
    world.initiatives.filter(title="Fine").update(status="in_progress")
    data = sections.roadmap(products=[world], today=TODAY, previous=previous)
    assert data["changes"] == [{"title": "Fine", "from": "planned", "to": "in_progress"}]


def test_kpi_health_and_kpis_that_changed_state(world):
    previous = sections.kpis(products=[world], today=TODAY, previous=None)
    assert {i["name"]: i["state"] for i in previous["items"]} == {"Activation": "on_track", "Churn": "off_track"}
    Kpi.objects.filter(name="Churn").update(current_value=1)
    data = sections.kpis(products=[world], today=TODAY, previous=previous)
    assert data["changed"] == [{"name": "Churn", "from": "off_track", "to": "on_track"}]


def test_kpi_health_computed_by_metrics_wins_over_the_fallback(world):
    Kpi.objects.filter(name="Activation").update(health="at_risk")
    data = sections.kpis(products=[world], today=TODAY, previous=None)
    assert {i["name"]: i["state"] for i in data["items"]}["Activation"] == "at_risk"


def test_backlog_top_ten_open_stories(world):
    data = sections.backlog(products=[world], today=TODAY, previous=None)
    assert len(data["items"]) == 10 and "Finished" not in [s["title"] for s in data["items"]]


def test_releases_flag_overdue_ones(world):
    data = sections.releases(products=[world], today=TODAY, previous=None)
    assert [(r["name"], r["overdue"]) for r in data["upcoming"]] == [("v2", True)]
    assert [r["name"] for r in data["released"]] == ["v1"]


def test_objective_progress_is_the_mean_of_its_key_results_and_follows_linked_kpis(world):
    from roadmaps.models import KeyResult, Objective

    objective = Objective.objects.create(product=world, title="Grow", start_date=TODAY, end_date=TODAY)
    kpi = Kpi.objects.create(product=world, name="Active teams", target_value=100, current_value=75)
    KeyResult.objects.create(objective=objective, title="Typed", start_value=0, target_value=10, current_value=5)
    KeyResult.objects.create(objective=objective, title="Linked", start_value=0, target_value=100, current_value=0,
                             kpi=kpi)
    Objective.objects.create(product=world, title="Empty", start_date=TODAY, end_date=TODAY)
    data = sections.objectives(products=[world], today=TODAY, previous=None)
    grow, empty = data["items"]
    assert grow["progress"] == 62  # (50 % + 75 %) / 2, rounded
    assert [(kr["title"], kr["current"]) for kr in grow["key_results"]] == [("Typed", 5.0), ("Linked", 75.0)]
    assert empty["progress"] is None and empty["key_results"] == []


@pytest.mark.parametrize("key", list(sections.SECTIONS))
def test_each_section_has_a_fixed_query_count(key, world, django_assert_max_num_queries):
    from roadmaps.models import Product

    products = Product.objects.filter(id=world.id)
    # Work progress (backlog/progress.py) adds the products' workflows and one grouped query
    # (releases: and one for the stories added one by one); the roadmap reads the dependencies
    # that make an initiative at risk (roadmaps.selectors.initiative_schedule); never a query per row.
    # Charts (decisions/1400): KPI trends read dashboard_data's two queries; the burn-down reads the
    # running iterations (one query; no iteration runs here, at most BURN_CHARTS add four each).
    limit = {"objectives": 4, "releases": 5, "roadmap": 4, "kpis": 5}.get(key, 3)
    with django_assert_max_num_queries(limit):
        sections.SECTIONS[key](products=products, today=TODAY, previous=None)
    from roadmaps.models import KeyResult, Objective

    for i in range(10):
        InitiativeFactory(product=world, end_date=TODAY - timedelta(days=i))
        kpi = Kpi.objects.create(product=world, name=f"K{i}", target_value=1, current_value=i)
        ReleaseFactory(product=world)
        objective = Objective.objects.create(product=world, title=f"O{i}", start_date=TODAY, end_date=TODAY)
        KeyResult.objects.create(objective=objective, title=f"KR{i}", target_value=10, kpi=kpi)
    with django_assert_max_num_queries(limit):
        sections.SECTIONS[key](products=products, today=TODAY, previous=None)


def test_report_build_uses_the_previous_run_for_changes(world):
    subscription = SubscriptionFactory(product=world)
    with time_machine.travel("2026-11-26 12:00", tick=False):
        first = services.report_build(subscription=subscription, period="2026-W48")
        ReportRun.objects.create(subscription=subscription, period="2026-W48", data=first)
        world.initiatives.filter(title="Slipping").update(status="done")
        second = services.report_build(subscription=subscription, period="2026-W49")
    roadmap = next(s for s in second["sections"] if s["key"] == "roadmap")["data"]
    assert roadmap["changes"] == [{"title": "Slipping", "from": "in_progress", "to": "done"}]
    assert roadmap["counts"]["late"] == 0


def test_whole_workspace_report_covers_every_live_product(world, workspace):
    from .factories import ProductFactory

    other = ProductFactory(workspace=workspace, name="Other")
    InitiativeFactory(product=other, title="Elsewhere", status="planned")
    data = services.report_build(product=None, workspace=workspace, section_keys=["roadmap"])
    titles = {i["title"] for i in data["sections"][0]["data"]["items"]}
    assert {"Elsewhere", "Fine"} <= titles and data["scope"] == "All products"


def test_render_text_and_pdf(world):
    from reports.rendering import report_pdf, report_render

    data = services.report_build(product=world)
    assert "Slipping" in report_render(data, fmt="text")
    assert report_pdf(data).startswith(b"%PDF")
