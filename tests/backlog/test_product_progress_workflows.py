"""Products' progress reads their saved workflows by the products' ids, compiled once (decision
2224): the figures equal what the selector gave when it read them through a subquery of the
counted rows, for products on the default workflow, on their own, without stories, and after a
workflow is saved."""

import pytest

from backlog import selectors, services
from backlog.models import BacklogSettings
from roadmaps.models import Product

from .test_story_tally import SHIPPING


def _before(ids, counted=False):
    """progress_for_products as it was: the workflows of the products the rows point at."""
    rows = selectors.progress_rows(counted=counted).filter(product_id__in=ids, epic__isnull=False)
    return selectors.progress_grouped(rows=rows, key="product_id")


@pytest.mark.django_db
@pytest.mark.parametrize("counted", [False, True])
def test_product_progress_is_what_the_subquery_gave(workspace, admin, counted):
    first = Product.objects.create(workspace=workspace, name="Default")
    second = Product.objects.create(workspace=workspace, name="Shipping")
    empty = Product.objects.create(workspace=workspace, name="Empty")
    BacklogSettings.objects.create(product=second, workflow=SHIPPING)
    BacklogSettings.objects.create(product=empty, workflow=SHIPPING)
    for product, statuses in ((first, ("ready", "in_progress", "done", "wont_do")), (second, ("todo", "doing", "shipped",
                                                                                  "dropped"))):
        epic = services.epic_create(actor=admin, product=product, title=f"Epic of {product.name}")
        services.stories_bulk_create(actor=admin, product=product, stories=[
            {"title": f"S{i}", "epic_id": epic.id, "points": i, "status": statuses[i % len(statuses)]}
            for i in range(1, 13)])
    ids = [first.id, second.id, empty.id]
    figures = selectors.progress_for_products(product_ids=ids, counted=counted)
    assert figures == _before(ids, counted=counted)
    assert set(figures) == {first.id, second.id} and figures[second.id].done_count > 0
    assert selectors.progress_for_products(product_ids=[], counted=counted) == {}
    BacklogSettings.objects.create(product=first, workflow=SHIPPING)  # "done" is no longer done there
    after = selectors.progress_for_products(product_ids=ids, counted=counted)
    assert after == _before(ids, counted=counted) and after[first.id] != figures[first.id]


@pytest.mark.django_db
def test_product_progress_from_status_rows_is_the_grouped_query_s(workspace, admin):
    """Home's tally per product and status, categorised in Python (decision 2322), against the
    grouped query with the workflows in its SQL: loose stories, a status the workflow no longer
    has, a product whose stories are all excluded, one whose stories were all deleted (signed tally
    rows that cancel out), stories without points."""
    from backlog.models import Story

    products = {name: Product.objects.create(workspace=workspace, name=name)
                for name in ("Default", "Shipping", "Excluded", "Deleted", "No points")}
    BacklogSettings.objects.create(product=products["Shipping"], workflow=SHIPPING)
    plans = {"Default": ("ready", "in_progress", "done", "wont_do"), "Shipping": ("todo", "doing", "shipped", "dropped"),
             "Excluded": ("wont_do",), "Deleted": ("done", "ready"), "No points": ("done", "ready")}
    for name, statuses in plans.items():
        product = products[name]
        epic = services.epic_create(actor=admin, product=product, title=f"Epic of {name}")
        services.stories_bulk_create(actor=admin, product=product, stories=[
            {"title": f"S{i}", "epic_id": epic.id, "points": 0 if name == "No points" else i,
             "status": statuses[i % len(statuses)]} for i in range(1, 9)])
        services.stories_bulk_create(actor=admin, product=product, stories=[
            {"title": "Loose", "points": 40, "status": statuses[0]}])
    Story.objects.filter(product=products["Deleted"]).delete()
    # statuses the products' workflows do not have (an older workflow's): to do
    Story.objects.filter(product=products["Default"], title="S1").update(status="retired")
    Story.objects.filter(product=products["Shipping"], title="S2").update(status="done")
    ids = [p.id for p in products.values()]
    for size in (ids, ids[:2]):
        figures = selectors.progress_for_products(product_ids=size)
        assert figures == _before(size) == selectors.progress_for_products(product_ids=size, counted=True)
    figures = selectors.progress_for_products(product_ids=ids)
    assert set(figures) == {products[n].id for n in ("Default", "Shipping", "No points")}
    assert figures[products["No points"].id].total_points == 0 and figures[products["No points"].id].done_count
