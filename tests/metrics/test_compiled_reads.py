"""The KPI page's and the workspace dashboard's reads compiled once (pmhub.prepared, decisions
2140-2141) answer what the ORM's queries answer, show a write at the next read, and keep every
read inside the user's workspaces."""

import pytest
from django.http import Http404
from django.urls import reverse

from metrics.models import Kpi
from metrics.selectors import kpi_for_user, kpis_for_user
from roadmaps.models import Product

from .factories import KpiFactory

pytestmark = pytest.mark.django_db


def _fields(kpi):
    return ({f.attname: getattr(kpi, f.attname) for f in Kpi._meta.concrete_fields},
            {f.attname: getattr(kpi.product, f.attname) for f in Product._meta.concrete_fields},
            kpi.product.workspace.slug, kpi.owner and kpi.owner.email)


def test_the_kpi_of_a_page_is_the_orm_s(kpi, editor, viewer, product):
    unowned = KpiFactory(product=product, name="<b>Unowned</b> & co", owner=None)
    for k in (kpi, unowned):
        expected = (kpis_for_user(user=viewer).select_related("product__workspace", "owner").get(pk=k.id))
        assert _fields(kpi_for_user(user=viewer, kpi_id=k.id)) == _fields(expected)
    assert kpi_for_user(user=viewer, kpi_id=unowned.id).owner is None


def test_a_write_shows_at_the_next_read(kpi, viewer, product):
    assert kpi_for_user(user=viewer, kpi_id=kpi.id).name == "Signups"
    Kpi.objects.filter(pk=kpi.pk).update(name="Sign-ups & more", version=7)
    Product.objects.filter(pk=product.pk).update(name="Renamed")
    read = kpi_for_user(user=viewer, kpi_id=kpi.id)
    assert (read.name, read.version, read.product.name) == ("Sign-ups & more", 7, "Renamed")


def test_tenancy_and_deleted_products(kpi, foreign_product, viewer, outsider, product):
    foreign = KpiFactory(product=foreign_product)
    with pytest.raises(Http404):
        kpi_for_user(user=viewer, kpi_id=foreign.id)
    with pytest.raises(Http404):
        kpi_for_user(user=outsider, kpi_id=kpi.id)
    with pytest.raises(Http404):
        kpi_for_user(user=viewer, kpi_id=10**9)
    assert kpi_for_user(user=outsider, kpi_id=foreign.id).product == foreign_product
    Product.objects.filter(pk=product.pk).update(deleted_at="2026-01-01T00:00:00Z")
    with pytest.raises(Http404):
        kpi_for_user(user=viewer, kpi_id=kpi.id)


def test_the_kpi_page_is_the_kpi_s_product_and_workspace(client_as, kpi, viewer, outsider, workspace, product,
                                                         foreign_product, other_workspace):
    """The page's product comes with the KPI: another product's id, another workspace's slug, a
    deleted product and a non-member are each 404, as when the product was read again."""
    c = client_as(viewer)

    def url(ws=workspace.slug, product_id=product.id, kpi_id=kpi.id):
        return reverse("metrics_kpi_detail", kwargs={"ws": ws, "product_id": product_id, "kpi_id": kpi_id})

    response = c.get(url())
    assert response.status_code == 200 and response.context["product"] is response.context["kpi"].product
    second = KpiFactory(product=foreign_product)
    assert c.get(url(product_id=foreign_product.id)).status_code == 404
    assert c.get(url(ws=other_workspace.slug)).status_code == 404
    assert c.get(url(product_id=foreign_product.id, kpi_id=second.id)).status_code == 404
    assert client_as(outsider).get(url()).status_code == 404
    Product.objects.filter(pk=product.pk).update(deleted_at="2026-01-01T00:00:00Z")
    assert c.get(url()).status_code == 404
