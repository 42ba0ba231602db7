"""The progress selectors: the rollup story -> epic -> initiative -> objective / release, the
product's workflow categories, and a fixed number of queries whatever the number of rows."""

from datetime import date

import pytest

from backlog import selectors, services
from backlog.models import Epic, Story
from delivery.models import ReleaseScopeItem
from delivery.selectors import release_progress
from roadmaps.models import Initiative, Objective, Product, Release

pytestmark = pytest.mark.django_db

SHIPPING = [{"key": "todo", "label": "To do", "category": "todo"},
            {"key": "doing", "label": "Doing", "category": "active"},
            {"key": "shipped", "label": "Shipped", "category": "done"},
            {"key": "dropped", "label": "Dropped", "category": "excluded"}]


@pytest.fixture
def product(workspace, admin):
    return Product.objects.create(workspace=workspace, name="Acme")


def _story(product, epic, status, points, title=None):
    return Story.objects.create(product=product, epic=epic, status=status, points=points,
                                title=title or f"{status}-{points}-{Story.objects.count()}")


def test_initiative_rolls_up_the_stories_of_all_its_epics(product):
    initiative = Initiative.objects.create(product=product, title="I")
    e1 = Epic.objects.create(product=product, title="E1", initiative=initiative)
    e2 = Epic.objects.create(product=product, title="E2", initiative=initiative)
    _story(product, e1, "done", 3)
    _story(product, e1, "in_progress", 5)
    _story(product, e2, "done", 2)
    _story(product, e2, "wont_do", 13)  # excluded: in neither side
    epics = selectors.progress_for_epics(epic_ids=[e1.id, e2.id])
    assert (epics[e1.id].done_points, epics[e1.id].total_points) == (3, 8)
    assert (epics[e2.id].done_points, epics[e2.id].total_points) == (2, 2)
    work = selectors.progress_for_initiatives(initiative_ids=[initiative.id])[initiative.id]
    assert (work.done_points, work.total_points, work.done_count, work.total_count) == (5, 10, 2, 3)
    assert work.percent == 50


def test_objective_counts_the_stories_of_its_initiatives(product):
    objective = Objective.objects.create(product=product, title="O", start_date=date(2026, 1, 1),
                                         end_date=date(2026, 3, 31))
    a, b = (Initiative.objects.create(product=product, title=t) for t in "AB")
    a.objectives.add(objective)
    b.objectives.add(objective)
    _story(product, Epic.objects.create(product=product, title="EA", initiative=a), "done", 4)
    _story(product, Epic.objects.create(product=product, title="EB", initiative=b), "idea", 4)
    work = selectors.progress_for_objectives(objective_ids=[objective.id])[objective.id]
    assert (work.done_points, work.total_points) == (4, 8)


def test_release_scope_is_its_epics_stories_plus_stories_added_one_by_one_each_once(product):
    release = Release.objects.create(product=product, name="R")
    other = Release.objects.create(product=product, name="Other")
    initiative = Initiative.objects.create(product=product, title="I", release=release)
    through_initiative = Epic.objects.create(product=product, title="A", initiative=initiative)
    own = Epic.objects.create(product=product, title="B", release=release)
    elsewhere = Epic.objects.create(product=product, title="C", initiative=initiative, release=other)
    _story(product, through_initiative, "done", 2)
    in_both = _story(product, own, "idea", 3)
    _story(product, elsewhere, "done", 100)  # the epic's own release wins over its initiative's
    loose = _story(product, None, "done", 5)
    ReleaseScopeItem.objects.create(release=release, story=loose)
    ReleaseScopeItem.objects.create(release=release, story=in_both)  # already in through its epic
    work = release_progress(release_ids=[release.id, other.id])
    assert (work[release.id].done_points, work[release.id].total_points, work[release.id].total_count) == (7, 10, 3)
    assert (work[other.id].done_points, work[other.id].total_points) == (100, 100)


def test_a_custom_workflow_decides_what_is_done_and_what_is_left_out(product, admin):
    services.settings_update(actor=admin, product=product, workflow=SHIPPING)
    initiative = Initiative.objects.create(product=product, title="I")
    epic = Epic.objects.create(product=product, title="E", initiative=initiative)
    _story(product, epic, "shipped", 3)
    _story(product, epic, "doing", 1)
    _story(product, epic, "dropped", 8)
    work = selectors.progress_for_initiatives(initiative_ids=[initiative.id])[initiative.id]
    assert (work.done_points, work.total_points) == (3, 4)


def test_products_with_different_workflows_are_judged_each_by_its_own(product, admin, workspace):
    services.settings_update(actor=admin, product=product, workflow=SHIPPING)
    plain = Product.objects.create(workspace=workspace, name="Plain")
    ours = Epic.objects.create(product=product, title="Ours")
    theirs = Epic.objects.create(product=plain, title="Theirs")
    _story(product, ours, "shipped", 2)
    _story(plain, theirs, "done", 2)
    _story(plain, theirs, "ready", 2)
    work = selectors.progress_for_epics(epic_ids=[ours.id, theirs.id])
    assert work[ours.id].percent == 100 and work[theirs.id].percent == 50


def test_initiative_progress_is_a_fixed_number_of_queries(product, django_assert_max_num_queries):
    initiatives = Initiative.objects.bulk_create(Initiative(product=product, title=f"I{i}") for i in range(40))
    epics = Epic.objects.bulk_create(Epic(product=product, title=f"E{i}", initiative=i_) for i, i_ in
                                     enumerate(initiatives))
    Story.objects.bulk_create(Story(product=product, epic=e, title=f"S{e.id}-{n}", status="done" if n else "idea",
                                    points=n + 1, rank=f"r{e.id:05d}{n}") for e in epics for n in range(3))
    fetched = list(Initiative.objects.filter(product=product))
    with django_assert_max_num_queries(2):  # the workflows, one grouped query
        selectors.attach_initiative_progress(fetched)
    assert {i.work.percent for i in fetched} == {83}  # (2 + 3) / (1 + 2 + 3)


def test_release_progress_is_a_fixed_number_of_queries(product, django_assert_max_num_queries):
    releases = Release.objects.bulk_create(Release(product=product, name=f"R{i}") for i in range(20))
    for r in releases:
        epic = Epic.objects.create(product=product, title=f"E{r.id}", release=r)
        _story(product, epic, "done", 1)
        ReleaseScopeItem.objects.create(release=r, story=_story(product, None, "idea", 1))
    with django_assert_max_num_queries(3):  # the workflows, epics' stories, stories added one by one
        work = release_progress(release_ids=[r.id for r in releases])
    assert {w.percent for w in work.values()} == {50}
