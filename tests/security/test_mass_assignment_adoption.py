"""Adoption writes that name another product: event ingestion is bound to the ingestion key's
product (a body naming another workspace's product is 403 and nothing is stored), and a feature
follows a KPI of its own product only."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from adoption.models import IngestionKey, UsageEvent
from tests.adoption.factories import FeatureFactory, event, make_ingestion_key
from tests.roadmaps.factories import ProductFactory

from .massassign import foreign_world, nothing_changes

pytestmark = pytest.mark.django_db


def _key_client(product):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_ingestion_key(product)}")
    # Just used: authenticating does not touch the key's row again (nothing_changes sees every row).
    IngestionKey.objects.filter(product=product).update(last_used_at=timezone.now())
    return client


def test_events_naming_a_product_of_another_workspace_are_refused_whole(workspace, other_workspace):
    ours = ProductFactory(workspace=workspace)
    theirs = foreign_world(other_workspace)["roadmaps.Product"]
    client = _key_client(ours)
    with nothing_changes(workspace, other_workspace):
        response = client.post("/api/v1/events/bulk/", {"product": theirs.id, "events": [event(1), event(2)]},
                               format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_events_carrying_another_product_inside_are_stored_for_the_keys_product(workspace, other_workspace):
    ours = ProductFactory(workspace=workspace)
    theirs = foreign_world(other_workspace)["roadmaps.Product"]
    client = _key_client(ours)
    with nothing_changes(other_workspace):
        response = client.post("/api/v1/events/bulk/", {"events": [
            event(1, product=theirs.id, product_id=theirs.id, workspace=other_workspace.id)]}, format="json")
    assert response.status_code == 202
    assert list(UsageEvent.objects.values_list("product_id", flat=True)) == [ours.id]


def test_feature_follows_a_kpi_of_its_own_product_only(client_as, bridge, workspace, other_workspace):
    feature = FeatureFactory(product=ProductFactory(workspace=workspace))
    api = APIClient()
    api.force_authenticate(bridge)
    page = client_as(bridge)
    url = reverse("adoption_feature", kwargs={"ws": workspace.slug, "product_id": feature.product_id,
                                              "feature_id": feature.id})
    for kpi in (foreign_world(workspace)["metrics.Kpi"], foreign_world(other_workspace)["metrics.Kpi"]):
        with nothing_changes(workspace, other_workspace):
            created = api.post("/api/v1/features/", {"product": feature.product_id, "key": "exports", "kpi": kpi.id},
                               format="json")
            updated = api.patch(f"/api/v1/features/{feature.id}/", {"kpi": kpi.id}, format="json")
            posted = page.post(url, {"name": "Renamed", "kpi": kpi.id})
        assert created.status_code == updated.status_code == posted.status_code == 400
        assert "kpi" in created.json()["errors"] and "kpi" in updated.json()["errors"]
        assert "kpi" in posted.context["form"].errors
