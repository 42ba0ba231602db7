"""The progress tally (backlog.models.StoryTally, docs/decisions/2040): kept by PostgreSQL
triggers, so after every kind of write to stories, through the services, the ORM in bulk or raw
SQL, every figure read from it (progress of products, epics, initiatives, objectives, releases
through epics; the status board's counts) equals counting the stories; compaction keeps the
figures; two writers of one product do not wait for each other; the migration counts the stories
it finds."""

import threading
from datetime import date

import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from backlog import selectors, services
from backlog.models import BacklogSettings, Epic, Story, StoryTally
from roadmaps.models import Initiative, Objective, Product, Release
from tests.services import on_postgres, require

from .factories import make_stories

SHIPPING = [{"key": "todo", "label": "To do", "category": "todo"},
            {"key": "doing", "label": "Doing", "category": "active"},
            {"key": "shipped", "label": "Shipped", "category": "done"},
            {"key": "dropped", "label": "Dropped", "category": "excluded"}]


@pytest.fixture
def postgres():
    require(on_postgres(), "PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def products(workspace, admin, postgres):
    """Two products: one on the default workflow, one on its own (done = shipped, dropped excluded)."""
    first = Product.objects.create(workspace=workspace, name="Acme")
    second = Product.objects.create(workspace=workspace, name="Shipping")
    BacklogSettings.objects.create(product=second, workflow=SHIPPING)
    return first, second


def _agree(products):
    """Every figure from the tally equals the same figure counted from the stories; returns the
    products' progress."""
    ids = [p.id for p in products]
    epics = list(Epic.objects.values_list("id", flat=True))
    initiatives = list(Initiative.objects.values_list("id", flat=True))
    objectives = list(Objective.objects.values_list("id", flat=True))
    releases = list(Release.objects.values_list("id", flat=True))
    for figures, kwargs in ((selectors.progress_for_products, {"product_ids": ids}),
                            (selectors.progress_for_epics, {"epic_ids": epics}),
                            (selectors.progress_for_initiatives, {"initiative_ids": initiatives}),
                            (selectors.progress_for_objectives, {"objective_ids": objectives}),
                            (selectors.progress_for_releases_through_epics, {"release_ids": releases})):
        assert figures(**kwargs) == figures(**kwargs, counted=True), figures.__name__
    for product in products:
        assert (selectors.status_counts(product=product)
                == selectors.status_counts(product=product, counted=True)), product.name
    return selectors.progress_for_products(product_ids=ids)


@pytest.fixture
def plan(products):
    """Epics under initiatives under an objective and in releases, so every roll-up has a scope."""
    first, second = products
    objective = Objective.objects.create(product=first, title="Grow", start_date=date(2026, 10, 1), end_date=date(2026, 12, 31))
    release = Release.objects.create(product=first, name="R1")
    i1 = Initiative.objects.create(product=first, title="I1", release=release)
    i2 = Initiative.objects.create(product=second, title="I2")
    i1.objectives.add(objective)
    i2.objectives.add(objective)
    return i1, i2, release


@pytest.mark.django_db
def test_every_kind_of_story_write_keeps_the_tally_equal_to_counting(products, plan, admin):
    first, second = products
    i1, i2, release = plan
    e1 = services.epic_create(actor=admin, product=first, title="Checkout")
    e2 = services.epic_create(actor=admin, product=second, title="Wallets")
    Epic.objects.filter(id=e1.id).update(initiative=i1)
    Epic.objects.filter(id=e2.id).update(initiative=i2)
    e3 = Epic.objects.create(product=second, title="Cards", initiative=i2, release=None)
    assert _agree(products) == {}

    a = services.story_create(actor=admin, product=first, title="A", epic_id=e1.id, points=3)
    b = services.story_create(actor=admin, product=first, title="B", epic_id=e1.id, points=5, status="done")
    services.story_create(actor=admin, product=first, title="Loose", points=8)  # no epic: an idea, not counted
    figures = _agree(products)
    assert figures[first.id].as_dict()["done_points"] == 5 and figures[first.id].total_count == 2

    services.stories_bulk_create(actor=admin, product=second, stories=[
        {"title": f"S{i}", "epic_id": e2.id, "points": i, "status": ("todo", "doing", "shipped", "dropped")[i % 4]}
        for i in range(1, 13)])
    figures = _agree(products)
    assert figures[second.id].total_count == 9  # three of twelve dropped: excluded

    services.story_status_set(actor=admin, story=a, status="done")
    services.story_update(actor=admin, story=Story.objects.get(id=b.id), data={"points": 8}, version=None)
    _agree(products)
    services.story_move(actor=admin, story=Story.objects.get(id=a.id), before=b.id)  # rank only: no tally row
    _agree(products)

    shipped = list(Story.objects.filter(product=second).values_list("id", flat=True)[:4])
    services.stories_bulk_update(actor=admin, product=second, ids=shipped, status="shipped")
    _agree(products)
    services.stories_bulk_update(actor=admin, product=second, ids=shipped[:2], epic_id=None)  # out of the plan
    _agree(products)

    Story.objects.filter(product=second, status="doing").update(points=None)  # points gone: counts 0
    Story.objects.filter(product=second, status="todo").update(epic=e3)  # to another epic of the plan
    Epic.objects.filter(id=e3.id).update(initiative=None)  # the epic leaves the initiative: no story changes
    Story.objects.filter(id=a.id).update(product=second, epic=e2, rank="zz")  # moved to another product
    _agree(products)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE backlog_story SET status = 'dropped' WHERE product_id = %s AND points > 5", [second.id])
    _agree(products)

    services.story_delete(actor=admin, story=Story.objects.get(id=b.id))
    services.epic_delete(actor=admin, epic=e1)  # its stories leave the plan
    _agree(products)
    Story.objects.filter(product=second).delete()
    assert _agree(products) == {}


@pytest.mark.django_db
def test_a_rank_move_or_a_title_edit_appends_no_tally_row(products, admin):
    first, _ = products
    epic = Epic.objects.create(product=first, title="E")
    stories = make_stories(first, 3, actor=admin, epic_id=epic.id)
    before = StoryTally.objects.count()
    services.story_move(actor=admin, story=stories[2], before=stories[0].id)
    Story.objects.filter(id=stories[1].id).update(title="Renamed", description="More words")
    assert StoryTally.objects.count() == before


@pytest.mark.django_db
def test_a_bulk_insert_appends_one_row_per_product_epic_and_status(products, admin):
    first, _ = products
    epic = Epic.objects.create(product=first, title="E")
    Story.objects.bulk_create([Story(product=first, epic=epic, title=f"S{i}", rank=f"a{i:04d}",
                                     status="done" if i % 2 else "ready", points=1) for i in range(200)])
    assert StoryTally.objects.filter(product_id=first.id).count() == 2
    assert _agree(products)[first.id].total_count == 200


@pytest.mark.django_db
def test_compaction_folds_the_rows_and_keeps_the_figures(products, admin):
    first, second = products
    epic = Epic.objects.create(product=first, title="E")
    stories = make_stories(first, 6, actor=admin, epic_id=epic.id)
    for story in stories[:4]:
        services.story_status_set(actor=admin, story=story, status="done")
    Story.objects.filter(id=stories[5].id).delete()
    figures = _agree(products)
    rows = StoryTally.objects.count()
    assert services.compact_story_tallies() == rows
    assert _agree(products) == figures
    by_status = list(StoryTally.objects.filter(product_id=first.id).values_list("epic_id", "status", "stories")
                     .order_by("status"))
    assert by_status == [(epic.id, "done", 4), (epic.id, stories[4].status, 1)]  # the deleted story's rows cancelled
    assert services.compact_story_tallies() == 2  # nothing more to fold: the same rows again
    Story.objects.filter(product=first).delete()
    services.compact_story_tallies()
    assert not StoryTally.objects.filter(product_id=first.id).exists()  # rows that sum to nothing are dropped


@pytest.mark.django_db
def test_the_periodic_task_compacts(products, admin, settings):
    from backlog.tasks import compact_story_tallies

    first, _ = products
    epic = Epic.objects.create(product=first, title="E")
    make_stories(first, 3, actor=admin, epic_id=epic.id)
    StoryTally.objects.create(product_id=first.id, status="done", stories=0, points=0)
    rows = StoryTally.objects.count()
    assert compact_story_tallies.apply().get() == rows
    assert StoryTally.objects.count() == 1  # the three stories' row; the empty one dropped
    assert settings.CELERY_BEAT_SCHEDULE["backlog-compact-story-tallies"]["task"] == compact_story_tallies.name


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_product_do_not_wait_for_each_other(products, admin):
    """Rows are only appended: a writer holding its transaction open does not block another
    writer changing a story of the same product and status (lock_timeout would fail it)."""
    first, _ = products
    epic = Epic.objects.create(product=first, title="E")
    one, two = make_stories(first, 2, actor=admin, epic_id=epic.id)
    held, release, outcome = threading.Event(), threading.Event(), {}

    def holder():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("UPDATE backlog_story SET status = 'done' WHERE id = %s", [one.id])
                held.set()
                release.wait(10)
                cursor.execute("COMMIT")
        finally:
            connections["default"].close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SET LOCAL lock_timeout = '1s'")
            cursor.execute("UPDATE backlog_story SET status = 'done' WHERE id = %s", [two.id])
            cursor.execute("COMMIT")
        outcome["second"] = "committed"
    finally:
        release.set()
        thread.join(10)
    assert outcome == {"second": "committed"}
    assert _agree(products)[first.id].done_count == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_stories_already_there(products, admin):
    first, second = products
    e1 = Epic.objects.create(product=first, title="E1")
    e2 = Epic.objects.create(product=second, title="E2")
    make_stories(first, 4, actor=admin, epic_id=e1.id)
    make_stories(second, 3, actor=admin, epic_id=e2.id, status="shipped", points=2)
    expected = selectors.progress_for_products(product_ids=[first.id, second.id], counted=True)
    executor = MigrationExecutor(connection)
    latest = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "backlog"]
    executor.migrate([("backlog", "0010_story_progress_index")])
    try:
        Story.objects.filter(product=first).update(points=13)  # written while no trigger existed
        expected = selectors.progress_for_products(product_ids=[first.id, second.id], counted=True)
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert expected[first.id].total_points == 52
    assert _agree(products) == expected
    story = Story.objects.filter(product=first).first()
    services.story_status_set(actor=admin, story=story, status="done")  # the triggers are back
    assert _agree(products)[first.id].done_count == 1
