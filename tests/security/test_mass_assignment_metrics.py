"""Metrics writes that name KPIs, initiatives, epics and owners: the bulk measurement upsert is all
or nothing and refuses KPIs the token cannot see (errors per item index); a KPI links initiatives and
epics of its own product only (400 naming the others); an action plan's owner is a member of the
workspace; and an id of another workspace is answered like an id that exists nowhere."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from metrics.models import ActionPlan
from tests.metrics.factories import KpiFactory, ProductFactory

from .massassign import HOSTILE_ID, ids_of, nothing_changes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    """Measurements are checked against today (none after it): freeze it after the dates used."""
    with time_machine.travel(datetime(2026, 12, 1, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def kpi(workspace):
    return KpiFactory(product=ProductFactory(workspace=workspace))


@pytest.fixture
def api(bridge_api):
    return bridge_api


def test_bulk_measurements_with_a_kpi_of_another_workspace_write_nothing(api_as, bridge, kpi, strangers, workspace,
                                                                          other_workspace):
    theirs = strangers[1]["metrics.Kpi"]
    items = [{"kpi": kpi.id, "period": "2026-11-02", "value": "5"},
             {"kpi": theirs.id, "period": "2026-11-02", "value": "999"},
             {"kpi": HOSTILE_ID, "period": "2026-11-02", "value": "1"}]
    with nothing_changes(workspace, other_workspace):
        response = api_as(bridge, workspace).post("/api/v1/measurements/bulk/", {"items": items}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]["items"]
    assert set(errors) == {"1", "2"} and errors["1"] == errors["2"], "their KPI is answered like a missing one"


def test_kpi_links_initiatives_and_epics_of_its_own_product_only(api, kpi, strangers, workspace, other_workspace):
    initiatives, epics = ids_of(strangers, "roadmaps.Initiative"), ids_of(strangers, "backlog.Epic")
    with nothing_changes(workspace, other_workspace):
        created = api.post("/api/v1/kpis/", {"product": kpi.product_id, "name": "Activation",
                                             "initiatives": initiatives, "epics": epics}, format="json")
        updated = api.patch(f"/api/v1/kpis/{kpi.id}/", {"version": kpi.version, "initiatives": initiatives,
                                                        "epics": epics}, format="json")
    for response in (created, updated):
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert all(str(i) in " ".join(errors["initiatives"]) for i in initiatives)
        assert all(str(i) in " ".join(errors["epics"]) for i in epics)


def test_kpi_answers_ids_of_another_workspace_like_missing_ones(api_as, bridge, kpi, strangers, outsider):
    """With a token of our workspace: their initiative, epic and member are 'does not exist'."""
    client = api_as(bridge, kpi.product.workspace)
    theirs = strangers[1]
    for field, their_id, many in (("initiatives", theirs["roadmaps.Initiative"].pk, True),
                                  ("epics", theirs["backlog.Epic"].pk, True), ("owner", outsider.id, False)):
        answers = []
        for value in (their_id, HOSTILE_ID):
            response = client.patch(f"/api/v1/kpis/{kpi.id}/", {"version": kpi.version,
                                                                field: [value] if many else value}, format="json")
            answers.append((response.status_code, response.json()["errors"][field][0].replace(str(value), "<id>")))
        assert answers[0] == answers[1], f"{field}: {answers}"


def test_action_plan_owner_must_be_a_member_of_the_workspace(api, kpi, outsider, workspace, other_workspace):
    plan = ActionPlan.objects.create(kpi=KpiFactory(product=kpi.product), title="Recover")
    with nothing_changes(workspace, other_workspace):
        created = api.post("/api/v1/action-plans/", {"kpi": kpi.id, "title": "Win back", "owner": outsider.id},
                           format="json")
        updated = api.patch(f"/api/v1/action-plans/{plan.id}/", {"owner": outsider.id, "version": plan.version},
                            format="json")
    assert created.status_code == updated.status_code == 400
    assert "owner" in created.json()["errors"] and "owner" in updated.json()["errors"]


def test_kpi_page_links_initiatives_epics_and_owners_of_its_own_product_only(client_as, bridge, kpi, strangers,
                                                                             outsider, workspace, other_workspace):
    url = reverse("metrics_kpi_detail", kwargs={"ws": workspace.slug, "product_id": kpi.product_id,
                                                "kpi_id": kpi.id})
    form = {"name": "Renamed", "unit": kpi.unit, "direction": kpi.direction, "aggregation": kpi.aggregation,
            "cadence": kpi.cadence, "version": kpi.version}
    client = client_as(bridge)
    for extra in ({"initiatives": ids_of(strangers, "roadmaps.Initiative")}, {"epics": ids_of(strangers, "backlog.Epic")},
                  {"owner": outsider.id}):
        with nothing_changes(workspace, other_workspace):
            response = client.post(url, {**form, **extra})
        assert response.status_code == 400 and set(extra) <= set(response.context["form"].errors)
