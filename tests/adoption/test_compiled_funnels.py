"""The dashboards' adoption reads compiled once (pmhub.prepared, decision 2142) answer what the
ORM's queries answered: the funnels and adoption % of several products, stored and live, only of
the products asked for, and a new rollup shows at the next read."""

from datetime import timedelta

import pytest
from django.db.models import Count, Q

from adoption import selectors
from adoption.models import ActorDay, Feature, WindowCount
from adoption.rollups import windows_refresh
from tests.adoption.factories import ProductFactory

from .test_funnel_windows import END, _events

pytestmark = pytest.mark.django_db


def _orm_funnel_counts(ids, start, end, days):
    """The queries of adoption_funnels before decision 2142, as the ORM wrote them."""
    stored = list(WindowCount.objects.filter(product_id__in=ids, days=days, end__lte=end,
                                             end__gte=end - timedelta(days=7))
                  .order_by("product_id", "-end").values_list("product_id", "end", "feature_key", "users"))
    live = ActorDay.objects.filter(product_id__in=ids, day__gte=start, day__lte=end)
    by_key = list(live.values("product_id", "feature_key").annotate(n=Count("actor", distinct=True))
                  .values_list("product_id", "feature_key", "n"))
    per_product = list(live.values("product_id").annotate(n=Count("actor", distinct=True)).values_list("product_id", "n"))
    features = list(Feature.objects.filter(product_id__in=ids).order_by("name", "key")
                    .values_list("id", "product_id", "key", "name"))
    return stored, by_key, per_product, features


def _orm_window_counts(ids, end, window):
    cur_start, prev_start = end - timedelta(days=window), end - timedelta(days=2 * window)
    rows = ActorDay.objects.filter(product_id__in=ids, day__gt=prev_start, day__lte=end)
    figures = {"cur": Count("actor", distinct=True, filter=Q(day__gt=cur_start)),
               "prev": Count("actor", distinct=True, filter=Q(day__lte=cur_start))}
    return (sorted(rows.values_list("product_id", "feature_key").annotate(**figures)),
            sorted(rows.values_list("product_id").annotate(**figures)),
            sorted(WindowCount.objects.filter(product_id__in=ids, days=window, end__in=[end, end - timedelta(days=window)])
                   .values_list("product_id", "end", "feature_key", "users")),
            list(Feature.objects.filter(product_id__in=ids).values_list("id", "product_id", "key")))


@pytest.fixture
def products(workspace, other_workspace):
    mine = [ProductFactory(workspace=workspace) for _ in range(4)]
    foreign = ProductFactory(workspace=other_workspace)
    for i, product in enumerate([*mine[:3], foreign]):
        _events(product, seed=30 + i, days=60, n=150)
    windows_refresh(product_id=mine[0].id, end=END)
    windows_refresh(product_id=foreign.id, end=END)
    return mine, foreign


@pytest.mark.parametrize("days", [30, 10])
def test_the_compiled_funnel_queries_are_the_orm_s(products, days):
    mine, foreign = products
    ids, start = [p.id for p in mine], END - timedelta(days=days - 1)
    stored, by_key, per_product, features = _orm_funnel_counts(ids, start, END, days)
    assert selectors._STORED_FUNNELS.rows(ids, days, END, END - timedelta(days=7)) == stored
    assert sorted(selectors._LIVE_FUNNELS_BY_KEY.rows(ids, start, END)) == sorted(by_key)
    assert sorted(selectors._LIVE_FUNNELS.rows(ids, start, END)) == sorted(per_product)
    assert selectors._FEATURE_ROWS.rows(ids) == features
    assert stored if days == 30 else not stored
    assert by_key and features and foreign.id not in {row[1] for row in features}
    funnels = selectors.adoption_funnels(products=mine, start=start, end=END)
    assert set(funnels) == set(ids) and [bool(funnels[i]) for i in ids] == [True, True, True, False]


@pytest.mark.parametrize("window", [7, 28, 5])
def test_the_compiled_adoption_queries_are_the_orm_s(products, window):
    mine, foreign = products
    ids = [p.id for p in mine]
    cur_start, prev_start = END - timedelta(days=window), END - timedelta(days=2 * window)
    by_key, per_product, stored, features = _orm_window_counts(ids, END, window)
    assert sorted(selectors._LIVE_WINDOWS_BY_KEY.rows(ids, prev_start, END, cur_start)) == by_key
    assert sorted(selectors._LIVE_WINDOWS.rows(ids, prev_start, END, cur_start)) == per_product
    assert sorted(selectors._STORED_WINDOWS.rows(ids, window, END, END - timedelta(days=window))) == stored
    assert selectors._FEATURE_KEYS.rows(ids) == features
    assert by_key and features and foreign.id not in {row[0] for row in by_key}
    figures = selectors.adoption_of_products(product_ids=ids, end=END, window=window)
    assert set(figures) == set(ids) and any(f["users"] for f in figures[mine[1].id].values())


def test_a_new_rollup_shows_at_the_next_read(products):
    mine, _ = products
    start = END - timedelta(days=29)
    assert not selectors.adoption_funnels(products=[mine[3]], start=start, end=END)[mine[3].id]
    assert selectors.adoption_of_products(product_ids=[mine[3].id], end=END) == {mine[3].id: {}}
    _events(mine[3], seed=99, days=20, n=40)
    funnel = selectors.adoption_funnels(products=[mine[3]], start=start, end=END)[mine[3].id]
    assert funnel and funnel[0]["active_users"] > 0
    assert any(f["users"] for f in selectors.adoption_of_products(product_ids=[mine[3].id], end=END)[mine[3].id].values())
    windows_refresh(product_id=mine[3].id, end=END)
    assert selectors.adoption_funnels(products=[mine[3]], start=start, end=END)[mine[3].id] == funnel


def test_no_products_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.adoption_funnels(products=[], start=END - timedelta(days=29), end=END) == {}
        assert selectors.adoption_of_products(product_ids=[], end=END) == {}
