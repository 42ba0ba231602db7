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
