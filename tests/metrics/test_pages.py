"""KPI pages: create, edit with optimistic locking, action plans by hand; the demo seed."""

import pytest
from django.urls import reverse

from metrics.models import ActionPlan, Kpi, Measurement
from pmhub.models import Activity

pytestmark = pytest.mark.django_db


def test_editor_creates_a_kpi_in_the_browser(client_as, editor, workspace, product):
    url = reverse("metrics_kpi_list", kwargs={"ws": workspace.slug, "product_id": product.id})
    response = client_as(editor).post(url, {"name": "Signups", "unit": "count", "direction": "higher",
                                            "aggregation": "sum", "cadence": "weekly", "owner": editor.id,
                                            "target_value": "500", "target_date": "2027-01-31",
                                            "warning_threshold": "300", "critical_threshold": "200"})
    assert response.status_code == 302
    kpi = Kpi.objects.get()
    assert (kpi.cadence, kpi.owner, kpi.target_value) == ("weekly", editor, 500)
    assert Activity.objects.filter(verb="created KPI").exists()
    page = client_as(editor).get(response.url)
    assert page.status_code == 200 and b"Signups" in page.content


def test_bad_kpi_form_is_400_and_creates_nothing(client_as, editor, workspace, product):
    url = reverse("metrics_kpi_list", kwargs={"ws": workspace.slug, "product_id": product.id})
    response = client_as(editor).post(url, {"name": "X", "unit": "count", "direction": "higher",
                                            "aggregation": "sum", "cadence": "daily",
                                            "warning_threshold": "10", "critical_threshold": "50"})
    assert response.status_code == 400
    assert b"critical threshold must not be above" in response.content
    assert not Kpi.objects.exists()


def _edit(client, workspace, product, kpi, name, version):
    url = reverse("metrics_kpi_detail", kwargs={"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id})
    return client.post(url, {"name": name, "unit": "count", "direction": "higher", "aggregation": "sum",
                             "cadence": "daily", "version": version})


def test_second_of_two_concurrent_edits_is_refused(client_as, editor, admin, workspace, product, kpi):
    assert _edit(client_as(editor), workspace, product, kpi, "Signups (all)", 1).status_code == 302
    response = _edit(client_as(admin), workspace, product, kpi, "Stale", 1)
    assert response.status_code == 409
    assert Kpi.objects.get().name == "Signups (all)"


def test_action_plan_opened_and_closed_by_hand(client_as, editor, workspace, product, kpi):
    c = client_as(editor)
    c.post(reverse("metrics_plan_create", kwargs={"ws": workspace.slug, "product_id": product.id,
                                                  "kpi_id": kpi.id}))
    plan = ActionPlan.objects.get()
    url = reverse("metrics_plan_detail", kwargs={"ws": workspace.slug, "plan_id": plan.id})
    assert c.get(url).status_code == 200
    response = c.post(url, {"title": plan.title, "owner": editor.id, "steps": "- call users", "status": "closed",
                            "version": plan.version})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "closed" and plan.closed_reason == "manual"
    # A second plan may open now that the first is closed; two open ones may not.
    c.post(reverse("metrics_plan_create", kwargs={"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id}))
    c.post(reverse("metrics_plan_create", kwargs={"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id}))
    assert ActionPlan.objects.exclude(status="closed").count() == 1


def test_demo_seed_is_idempotent(workspace, editor):
    from metrics.demo import DAYS, seed

    seed(workspace=workspace, users={"pm": editor})
    counts = (Kpi.objects.count(), Measurement.objects.count(), ActionPlan.objects.count())
    values = list(Measurement.objects.order_by("id").values_list("value", flat=True))
    seed(workspace=workspace, users={"pm": editor})
    assert counts == (5, 5 * DAYS, counts[2])
    assert (Kpi.objects.count(), Measurement.objects.count(), ActionPlan.objects.count()) == counts
    assert list(Measurement.objects.order_by("id").values_list("value", flat=True)) == values


@pytest.mark.parametrize("n", [3, 30])
def test_kpi_list_and_plan_list_pages_have_fixed_query_counts(client_as, viewer, workspace, product, n,
                                                              django_assert_max_num_queries):
    from tests.factories import UserFactory

    from .factories import KpiFactory

    for i in range(n):
        kpi = KpiFactory(product=product, owner=UserFactory() if i % 2 else None, health="off_track")
        ActionPlan.objects.create(kpi=kpi, title=f"Plan {i}", owner=kpi.owner)
    c = client_as(viewer)
    for url in (reverse("metrics_kpi_list", kwargs={"ws": workspace.slug, "product_id": product.id}),
                reverse("metrics_plan_list", kwargs={"ws": workspace.slug})):
        c.get(url)
        with django_assert_max_num_queries(14):
            response = c.get(url)
        assert response.status_code == 200
        assert response.content.count(b"Plan ") >= n or response.content.count(b"KPI ") >= n


@pytest.mark.parametrize("n", [3, 60])
def test_kpi_page_has_a_fixed_query_count(client_as, editor, workspace, product, n, django_assert_max_num_queries):
    """The KPI page at two sizes: values, linked initiatives and epics (the form's check lists),
    members (the owner select) — the same number of queries for 3 and 60 of each."""
    from datetime import date, timedelta

    from backlog.models import Epic
    from roadmaps.models import Initiative
    from tests.factories import MembershipFactory

    from .factories import KpiFactory

    kpi = KpiFactory(product=product)
    Measurement.objects.bulk_create(Measurement(kpi=kpi, period_start=date(2026, 1, 1) + timedelta(days=d), value=d)
                                    for d in range(n))
    initiatives = Initiative.objects.bulk_create(Initiative(product=product, title=f"I{i}") for i in range(n))
    Epic.objects.bulk_create(Epic(product=product, title=f"E{i}") for i in range(n))
    kpi.initiatives.set(initiatives[: n // 2])
    for _ in range(n // 10):
        MembershipFactory(workspace=workspace)
    c = client_as(editor)
    url = reverse("metrics_kpi_detail", kwargs={"ws": workspace.slug, "product_id": product.id, "kpi_id": kpi.id})
    c.get(url)
    with django_assert_max_num_queries(15):  # 14, +1 when the unread count is not cached; 24 before 1955, 15 before 2140
        response = c.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('type="checkbox" name="initiatives"') == n and html.count(" checked>") >= n // 2
    delete = reverse("metrics_measurement_delete", kwargs={"ws": workspace.slug, "product_id": product.id,
                                                           "kpi_id": kpi.id, "measurement_id": kpi.measurements.latest("period_start").id})
    assert f'action="{delete}"' in html


def test_kpi_form_row_choices_render_what_djangos_model_choices_render(editor, workspace, product):
    """The KPI form's owner, initiatives and epics read (id, label) rows once (metrics.forms.RowChoices,
    decision 1955): the page prints the same options and boxes, labels and ticks as Django's own
    ModelChoiceIterator gives."""
    from backlog.models import Epic
    from metrics.forms import KpiForm
    from pmhub.templatetags.pmhub import check_boxes, control
    from roadmaps.models import Initiative
    from tests.factories import MembershipFactory, UserFactory

    from .factories import KpiFactory

    MembershipFactory(workspace=workspace, user=UserFactory(name="", email="no.name@example.com"))
    Initiative.objects.bulk_create(Initiative(product=product, title=f"I <{i}> & co") for i in range(5))
    Epic.objects.bulk_create(Epic(product=product, title=f"Epic {i}") for i in range(4))
    kpi = KpiFactory(product=product, owner=editor)
    kpi.initiatives.set(Initiative.objects.filter(product=product)[:2])
    initial = {"owner": editor.id, "initiatives": list(kpi.initiatives.values_list("id", flat=True)), "epics": []}

    fast = KpiForm(product=product, initial=initial)
    django = KpiForm(product=product, initial=initial)
    for name in ("owner", "initiatives", "epics"):
        field = django.fields[name]
        del field._choices  # back to Django's ModelChoiceIterator over the same queryset
        # An unbound form has none (decision 2342): a submitted form's, which validates against it.
        field.queryset = KpiForm({}, product=product).fields[name].queryset
        field.widget.choices = field.choices
    assert str(control(fast["owner"])) == str(control(django["owner"]))
    assert "no.name</option>" in str(control(fast["owner"]))
    for name in ("initiatives", "epics"):
        assert str(check_boxes(fast[name])) == str(check_boxes(django[name]))
        assert len(fast.fields[name].choices) == len(django.fields[name].choices)
    assert str(check_boxes(fast["initiatives"])).count(" checked>") == 2
