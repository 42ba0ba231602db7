"""The timeline's reads compiled once (decisions 2130, 2131) answer what the ORM reads they stand
for answer: the roadmap's initiatives, links and releases, the work progress of every initiative
(by the product's own workflow, another product's stories by the default one, excluded stories
left out), the risk flags and the statements. Written, then read again: never a stale figure."""

from datetime import date, timedelta

import pytest

from backlog import selectors as backlog_selectors
from backlog.models import BacklogSettings, Epic, Story
from governance import selectors as governance_selectors
from governance.models import ImpactStatement, Risk
from roadmaps import selectors
from roadmaps.models import Dependency, Initiative, Objective, Product, Release

pytestmark = pytest.mark.django_db

HOSTILE = '<b>"R&D" & <script>alert(1)</script>\'s'


@pytest.fixture
def roadmap(product, editor):
    start = date(2026, 1, 1)
    objective = Objective.objects.create(product=product, title=HOSTILE, start_date=start,
                                         end_date=start + timedelta(days=90))
    made = Initiative.objects.bulk_create(
        Initiative(product=product, title=f"{HOSTILE} {k}", status=["planned", "in_progress", "done"][k % 3],
                   start_date=start + timedelta(days=k) if k % 4 else None, end_date=start + timedelta(days=k + 9),
                   owner=editor if k % 2 else None, rank=k) for k in range(12))
    objective.initiatives.add(*made[::2])
    Dependency.objects.bulk_create(Dependency(blocker=a, blocked=b) for a, b in zip(made, made[1:], strict=False))
    Release.objects.create(product=product, name=HOSTILE, release_date=start + timedelta(days=30))
    # A workflow of its own: "shipped" is done, "dropped" left out; "done" is no status of it.
    BacklogSettings.objects.update_or_create(product=product, defaults={"workflow": [
        {"key": "idea", "label": "Idea", "category": "todo"},
        {"key": "shipped", "label": "Shipped", "category": "done"},
        {"key": "dropped", "label": "Dropped", "category": "excluded"}]})
    epics = Epic.objects.bulk_create(Epic(product=product, initiative=i, title=f"E{n}") for n, i in enumerate(made[:9]))
    statuses = ["idea", "shipped", "dropped", "done", "wont_do"]
    Story.objects.bulk_create(Story(product=product, epic=e, title="s", status=statuses[k % 5], points=k % 4 or None)
                              for n, e in enumerate(epics) for k in range(n + 1))
    # A story of another product (default workflow: "done" is done there) in an epic of this one.
    other = Product.objects.create(workspace=product.workspace, name="Other")
    Story.objects.create(product=other, epic=epics[0], title="elsewhere", status="done", points=5)
    Story.objects.create(product=other, epic=epics[0], title="elsewhere", status="shipped", points=7)
    risk = Risk.objects.create(product=product, title=HOSTILE, likelihood=5, impact=5)
    risk.initiatives.add(*made[:3])
    Risk.objects.create(product=product, title="low", likelihood=1, impact=1).initiatives.add(made[0])
    Risk.objects.create(product=product, title="second", likelihood=4, impact=5).initiatives.add(made[0])
    ImpactStatement.objects.create(product=product, initiative=made[1], status=ImpactStatement.Status.AWAITING)
    return made


def _fresh(product):
    return Product.objects.select_related("backlog_settings", "workspace").get(pk=product.pk)


def _orm_progress(product, initiatives):
    """attach_initiative_progress's figures (the ORM's grouped query) and the stories counted."""
    product = _fresh(product)
    ids = [i.pk for i in initiatives]
    filters = backlog_selectors.category_filters(workflows=backlog_selectors.product_workflows(product=product))
    tally = backlog_selectors.progress_for_initiatives(initiative_ids=ids, filters=filters)
    counted = backlog_selectors.progress_for_initiatives(initiative_ids=ids, filters=filters, counted=True)
    return tally, counted


def test_progress_of_every_initiative_is_attach_initiative_progress(product, roadmap):
    tally, counted = _orm_progress(product, roadmap)
    compiled = backlog_selectors.progress_for_product_initiatives(product=_fresh(product))
    assert compiled == tally == counted
    # Its own story is an idea; the other product's "done" is done, its "shipped" is no status of
    # the default workflow (to do).
    assert compiled[roadmap[0].pk] == backlog_selectors.Progress(done_points=5, total_points=12, done_count=1,
                                                                 total_count=3)
    assert (compiled[roadmap[2].pk].done_count, compiled[roadmap[2].pk].total_count) == (1, 2)  # "dropped" left out


def test_progress_after_a_write_is_the_new_figure(product, roadmap):
    before = backlog_selectors.progress_for_product_initiatives(product=_fresh(product))
    Story.objects.filter(epic__initiative=roadmap[4], status="idea").update(status="shipped")
    after = backlog_selectors.progress_for_product_initiatives(product=_fresh(product))
    assert after[roadmap[4].pk].done_count > before[roadmap[4].pk].done_count
    assert after == _orm_progress(product, roadmap)[0]
    # The workflow changes: the same statuses fall in other categories, read at once.
    BacklogSettings.objects.filter(product=product).update(workflow=[
        {"key": "idea", "label": "Idea", "category": "done"}, {"key": "shipped", "label": "Shipped", "category": "todo"}])
    changed = backlog_selectors.progress_for_product_initiatives(product=_fresh(product))
    assert changed == _orm_progress(product, roadmap)[0] != after


def test_flags_and_statements_of_the_product_are_those_of_its_initiatives(product, roadmap, other_workspace):
    ids = [i.pk for i in roadmap]
    foreign = Product.objects.create(workspace=other_workspace, name="Foreign")
    Risk.objects.create(product=foreign, title="foreign", likelihood=5, impact=5).initiatives.add(
        Initiative.objects.create(product=foreign, title="theirs"))
    flags = governance_selectors.flags_for_product_initiatives(product_id=product.pk)
    assert flags == governance_selectors.flags_for_initiatives(initiative_ids=ids)
    assert [f["title"] for f in flags[roadmap[0].pk]] == [HOSTILE, "second"]  # highest score first
    statements = governance_selectors.statement_statuses_for_product(product_id=product.pk)
    assert statements == governance_selectors.statement_statuses_for_initiatives(initiative_ids=ids)
    Risk.objects.filter(title="second").update(status=Risk.Status.CLOSED)
    assert [f["title"] for f in governance_selectors.flags_for_product_initiatives(product_id=product.pk)[
        roadmap[0].pk]] == [HOSTILE]


@pytest.mark.parametrize("owners", [False, True])
def test_unfiltered_roadmap_is_the_orm_read(product, roadmap, owners, monkeypatch):
    compiled = selectors.roadmap_for_product(product=product, params={}, links_only=True, owners=owners)
    # The same read through the ORM's querysets: a filter key that filters nothing.
    monkeypatch.setattr(selectors, "FILTER_KEYS", ("none",))
    orm = selectors.roadmap_for_product(product=product, params={"none": "1"}, links_only=True, owners=owners)
    assert [vars(i) for i in compiled["initiatives"]] == [vars(i) for i in orm["initiatives"]]
    assert [tuple(d) for d in compiled["dependencies"]] == [tuple(d) for d in orm["dependencies"]]
    assert [d.conflict for d in compiled["dependencies"]] == [d.conflict for d in orm["dependencies"]]
    assert [vars(r) | {"_state": None} for r in compiled["releases"]] == [
        vars(r) | {"_state": None} for r in orm["releases"]]
    assert any(i.objective_title == HOSTILE for i in compiled["initiatives"])
    Initiative.objects.filter(pk=roadmap[3].pk).update(title="renamed")
    again = selectors.roadmap_for_product(product=product, params={}, links_only=True, owners=owners)
    assert "renamed" in [i.title for i in again["initiatives"]]


def test_objective_choices_are_the_products_objectives_in_order(product, roadmap):
    Objective.objects.create(product=product, title="Earlier", start_date=date(2025, 1, 1), end_date=date(2025, 2, 1))
    assert selectors.objective_choices(product_id=product.pk) == list(product.objectives.values_list("id", "title"))


def test_board_places_unfiltered_are_the_orm_read(product, roadmap, monkeypatch):
    Initiative.objects.filter(pk=roadmap[5].pk).update(horizon="next", rank=-1.5)
    compiled = selectors.initiative_places(product=product, params={})
    monkeypatch.setattr(selectors, "FILTER_KEYS", ("none",))
    assert compiled == selectors.initiative_places(product=product, params={"none": "1"})
    assert compiled[0] == (roadmap[5].pk, "next", -1.5)


def test_timeline_and_board_show_what_was_just_written(client_as, editor, product, roadmap):
    """Write, then read the pages: the figures are the new ones (nothing of them is kept between requests)."""
    client = client_as(editor)
    base = f"/w/{product.workspace.slug}/products/{product.pk}/roadmap/"
    before = client.get(base + "timeline/").content.decode()
    assert 'data-testid="risk-flag"' in before and "awaiting approval" in before
    assert "+1</span>" in before  # initiative 0: two risks above appetite
    Risk.objects.filter(title="second").update(status=Risk.Status.CLOSED)
    ImpactStatement.objects.filter(initiative=roadmap[1]).update(status=ImpactStatement.Status.APPROVED)
    for page in ("timeline/", "board/"):
        html = client.get(base + page).content.decode()
        assert "awaiting approval" not in html and "+1</span>" not in html
        assert 'data-testid="risk-flag"' in html  # the first risk still flags initiatives 0, 1 and 2
    Risk.objects.update(status=Risk.Status.CLOSED)
    for page in ("timeline/", "board/"):
        assert 'data-testid="risk-flag"' not in client.get(base + page).content.decode()


def test_board_card_rows_are_the_models_the_board_read(product, roadmap, editor):
    """board_initiatives (one compiled query, decision 2211): every initiative of the product in
    board order with what a card prints, as the Initiative models with their owner say it."""
    Initiative.objects.filter(pk=roadmap[5].pk).update(horizon="next", rank=-1.5, labels=",growth,<b>x</b>,")
    rows = selectors.board_initiatives(product=product)
    models = list(product.initiatives.select_related("owner").order_by("rank", "id"))
    assert [r.id for r in rows] == [m.id for m in models] and rows[0].id == roadmap[5].pk
    for r, m in zip(rows, models, strict=True):
        for name in ("title", "status", "horizon", "start_date", "end_date", "version", "confidence", "rank",
                     "owner_id", "label_list"):
            assert getattr(r, name) == getattr(m, name), name
        assert r.owner == (str(m.owner) if m.owner_id else None) and r.pk == m.pk
    assert rows[0].label_list == ["growth", "<b>x</b>"]
    assert [(r.id, r.horizon, r.rank) for r in rows] == selectors.initiative_places(product=product, params={})


def test_board_shows_a_new_initiative_and_a_new_owner_at_once(client_as, editor, product, roadmap):
    client = client_as(editor)
    url = f"/w/{product.workspace.slug}/products/{product.pk}/roadmap/board/"
    client.get(url)
    Initiative.objects.create(product=product, title="Fresh <one>", horizon="now", rank=-9, labels=",new,")
    editor.name = "Renamed & Co"
    editor.save(update_fields=["name"])
    html = client.get(url).content.decode()
    assert "Fresh &lt;one&gt;" in html and "Renamed &amp; Co" in html and '<span class="tag">new</span>' in html


@pytest.mark.parametrize("count", [1, 3, 5, 12])
def test_progress_of_some_initiatives_is_theirs_of_every_initiatives(product, roadmap, other_workspace, count):
    """Decision 2351: the figures of the initiatives asked for (padded to a power of two of ids),
    those of the whole product's read; another product's initiative asked for is not answered."""
    every = backlog_selectors.progress_for_product_initiatives(product=_fresh(product))
    some = [i.pk for i in roadmap[:count]]
    foreign = Initiative.objects.create(product=Product.objects.create(workspace=other_workspace, name="F"),
                                        title="theirs")
    epic = Epic.objects.create(product=foreign.product, initiative=foreign, title="theirs")
    Story.objects.create(product=foreign.product, epic=epic, title="s", status="done", points=3)
    read = backlog_selectors.progress_for_product_initiatives(product=_fresh(product),
                                                              initiative_ids=[*some, foreign.pk])
    assert read == {pk: every[pk] for pk in some if pk in every}
    assert backlog_selectors.progress_for_product_initiatives(product=_fresh(product), initiative_ids=[]) == {}
    # A write is read back at once.
    Story.objects.filter(epic__initiative=roadmap[0], status="idea").update(status="shipped")
    after = backlog_selectors.progress_for_product_initiatives(product=_fresh(product), initiative_ids=some)
    assert after[roadmap[0].pk].done_count > every[roadmap[0].pk].done_count
    assert after == {pk: v for pk, v in _orm_progress(product, roadmap)[0].items() if pk in some}
