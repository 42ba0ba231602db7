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


@pytest.fixture
def kpi_page_data(kpi, product, workspace, editor, foreign_product):
    """A KPI with values, history, plans, linked work and a key result; the same of a KPI of
    another product and of another workspace (never read for this one)."""
    from datetime import UTC, date, datetime, timedelta

    from backlog.models import Epic
    from metrics.models import ActionPlan, KpiHealth, Measurement
    from roadmaps.models import Initiative, KeyResult, Objective
    from tests.factories import MembershipFactory, UserFactory

    second = KpiFactory(product=ProductFactory_(workspace))
    foreign = KpiFactory(product=foreign_product)
    for i, k in enumerate((kpi, second, foreign)):
        Measurement.objects.bulk_create(Measurement(kpi=k, period_start=date(2026, 1, 1) + timedelta(days=d + i),
                                                    value=d * 1.5 + i) for d in range(120))
        for h in range(25):
            KpiHealth.objects.create(kpi=k, status="at_risk", previous_status="on_track", reason=f"<why> {h}",
                                     evaluated_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h % 3))
        for p in range(22):
            ActionPlan.objects.create(kpi=k, title=f"Plan <{p}> & {i}", owner=editor if p % 2 else None,
                                      status=ActionPlan.Status.OPEN if p == 0 else ActionPlan.Status.CLOSED)
        initiatives = Initiative.objects.bulk_create(Initiative(product=k.product, title=f"I{n} <{i}>")
                                                     for n in (3, 1, 2))
        epics = Epic.objects.bulk_create(Epic(product=k.product, title=f"E{n} & {i}") for n in (2, 1))
        k.initiatives.set(initiatives[:2])
        k.epics.set(epics)
        objective = Objective.objects.create(product=k.product, title=f"O{i}", start_date=date(2026, 1, 1),
                                             end_date=date(2026, 3, 31))
        KeyResult.objects.create(objective=objective, title=f"KR <{i}>", kpi=k, target_value=10)
    for n in range(3):
        MembershipFactory(workspace=workspace, user=UserFactory(name=("Zed", "", "<Ann>")[n]))
    return second, foreign


def ProductFactory_(workspace):
    from tests.roadmaps.factories import ProductFactory

    return ProductFactory(workspace=workspace, name="Second")


def _plain(objects):
    return [({f.attname: getattr(o, f.attname) for f in type(o)._meta.concrete_fields},
             getattr(getattr(o, "owner", None), "email", None)) for o in objects]


def test_the_kpi_page_reads_are_the_orm_s(kpi_page_data, kpi, product):
    from django.db.models import Max, Min

    from metrics import selectors

    second, foreign = kpi_page_data
    for k in (kpi, second, foreign):
        assert selectors.measurement_span(k) == k.measurements.aggregate(first=Min("period_start"),
                                                                         last=Max("period_start"))
        initiatives, epics = selectors.linked_work(k)
        assert (initiatives, epics) == (list(k.initiatives.values_list("id", "title", named=True)),
                                        list(k.epics.values_list("id", "title", named=True)))
        assert initiatives[0].title == initiatives[0][1] and len(initiatives) == 2 and len(epics) == 2
        assert selectors.latest_values(k) == list(k.measurements.order_by("-period_start").values_list(
            "id", "period_start", "value", "source")[:100])
        assert _plain(selectors.health_history(k)) == _plain(k.health_history.all()[:20])
        assert _plain(selectors.plans_of_kpi(k)) == _plain(k.action_plans.select_related("owner")[:20])
        assert _plain(selectors.key_results_of_kpi(k)) == _plain(selectors.linked_key_results(k))
        assert all(p.kpi is k for p in selectors.plans_of_kpi(k))
    empty = KpiFactory(product=product)
    assert selectors.measurement_span(empty) == {"first": None, "last": None}
    assert (selectors.linked_work(empty), selectors.latest_values(empty), selectors.health_history(empty),
            selectors.plans_of_kpi(empty), selectors.key_results_of_kpi(empty)) == (([], []), [], [], [], [])


def test_the_kpi_form_lists_are_the_orm_s(kpi_page_data, kpi, product, foreign_product, outsider):
    from metrics.forms import KpiForm

    for p in (product, foreign_product):
        form = KpiForm(product=p)
        bound = KpiForm({}, product=p)  # the querysets a submitted form validates against (decision 2342)
        for name in ("owner", "initiatives", "epics"):
            field = form.fields[name]
            assert field.queryset is None
            expected = [(o.pk, str(o)) for o in bound.fields[name].queryset]
            empty = [("", field.empty_label)] if getattr(field, "empty_label", None) is not None else []
            assert list(field.choices) == empty + expected and len(expected) >= 1


def test_kpi_page_reads_show_a_write_at_once(kpi_page_data, kpi, editor):
    from datetime import date

    from metrics import selectors
    from metrics.forms import KpiForm
    from metrics.models import ActionPlan, Measurement
    from roadmaps.models import Initiative

    Measurement.objects.create(kpi=kpi, period_start=date(2026, 9, 1), value=42)
    plan = ActionPlan.objects.create(kpi=kpi, title="Newest", owner=editor, status=ActionPlan.Status.CLOSED)
    added = Initiative.objects.create(product=kpi.product, title="Added")
    kpi.initiatives.add(added)
    assert selectors.measurement_span(kpi)["last"] == date(2026, 9, 1)
    assert selectors.latest_values(kpi)[0][1:3] == (date(2026, 9, 1), 42)
    assert plan.id in [p.id for p in selectors.plans_of_kpi(kpi)]
    assert added.id in [i.id for i in selectors.linked_work(kpi)[0]]
    assert (added.id, "Added") in list(KpiForm(product=kpi.product).fields["initiatives"].choices)


def _orm_key(kpis, window):
    """_dashboard_key as the ORM computed it before decision 2143."""
    import hashlib

    from django.db.models import Count, Max, Sum

    from metrics.models import Measurement
    from metrics.selectors import _KPI_FIELDS

    fingerprint = (Measurement.objects.filter(kpi_id__in=[k.id for k in kpis],
                                              period_start__range=(window.previous.start, window.end))
                   .aggregate(n=Count("id"), changed=Max("updated_at"), total=Sum("value"), last=Max("id")))
    inputs = repr(([tuple(getattr(k, f) for f in _KPI_FIELDS) for k in kpis], window.start, window.end,
                   sorted(fingerprint.items())))
    return "metrics:dashboard:" + hashlib.blake2b(inputs.encode(), digest_size=20).hexdigest()


def test_the_workspace_dashboard_reads_are_the_orm_s(kpi_page_data, kpi, workspace, other_workspace, product):
    from datetime import date

    from metrics import selectors
    from metrics.models import KpiMeasured, Measurement
    from pmhub.models import Workspace

    second, foreign = kpi_page_data
    deleted = KpiFactory(product=ProductFactory_(workspace))
    Product.objects.filter(pk=deleted.product_id).update(deleted_at="2026-01-01T00:00:00Z")
    for ws in (workspace, other_workspace):
        read = selectors.dashboard_kpis_of_workspace(workspace=ws)
        expected = list(Kpi.objects.filter(product__workspace=ws, product__deleted_at__isnull=True)
                        .select_related("product").order_by("product__name", "name"))
        names = (*selectors._KPI_FIELDS, "product_id")
        assert [tuple(getattr(k, f) for f in names) + (k.product__name,) for k in read] == [
            tuple(getattr(k, f) for f in names) + (k.product.name,) for k in expected]
        assert [k.measured_stamp for k in read] == [KpiMeasured.objects.get(kpi_id=k.id).stamp for k in expected]
        products = selectors.dashboard_products(read)
        assert [(p.id, p.name) for p in products] == list(dict.fromkeys((k.product.id, k.product.name)
                                                                        for k in expected))
        assert [p.workspace_id for p in products] == [ws.id] * len(products)  # read when asked
    assert {k.id for k in selectors.dashboard_kpis_of_workspace(workspace=workspace)} == {kpi.id, second.id}
    window = selectors.Window(date(2026, 2, 1), date(2026, 4, 1), "custom")
    empty = selectors.Window(date(2020, 2, 1), date(2020, 4, 1), "custom")
    for kpis in ([kpi], [kpi, second], [foreign], [kpi, second, foreign]):
        for w in (window, empty):
            assert selectors._dashboard_key(kpis, w) == _orm_key(kpis, w)
    before = selectors._dashboard_key([kpi, second], window)
    Measurement.objects.filter(kpi=second, period_start=date(2026, 3, 15)).update(value=999)
    assert selectors._dashboard_key([kpi, second], window) == _orm_key([kpi, second], window) != before
    Kpi.objects.filter(pk=kpi.pk).update(name="Renamed <KPI>")
    assert "Renamed <KPI>" in [k.name for k in selectors.dashboard_kpis_of_workspace(
        workspace=Workspace.objects.get(pk=workspace.pk))]
