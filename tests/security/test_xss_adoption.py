"""Every payload of xss_corpus.py in the adoption app's fields (feature names and descriptions,
keys and actors of ingested events, ingestion key names, the work and KPIs of outcome reviews
and their predicted inputs) comes out inert in the adoption, feature, outcome and key pages and
in the metrics dashboard's adoption funnel; refused events answer with JSON data."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from adoption import services
from adoption.models import Feature
from backlog import services as backlog_services
from metrics import services as metrics_services
from roadmaps import services as roadmap_services
from roadmaps.models import Product, Release

from .xss_cases import CASES, assert_json_data, browsable_inert, browser, get_inert, payload

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FIELDS = [
    "feature.name", "feature.description", "named_feature.name", "ingestion_key.name", "event.actor",
    "event.feature", "event.id", "epic.title", "initiative.title", "kpi.name", "score_input.key", "product.name",
    "event.property",
]
# Keys are restricted to letters, digits and _ . : / - ; these are the nastiest that pass.
ODD_KEYS = ["javascript:alert/pmhx", "data:text/html/pmhx", "vbscript:pmhx", "JaVaScRiPt:pmhx"]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _ingest(raw, events):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.post("/api/v1/events/bulk/", {"events": events}, format="json")


def _adoption(case, workspace, admin, capture):
    p = {name: payload(case, k) for k, name in enumerate(FIELDS)}
    product = Product.objects.create(workspace=workspace, name=p["product.name"][:120])
    _, raw = services.ingestion_key_create(user=admin, product=product, name=p["ingestion_key.name"][:100])
    events = [{"id": p["event.id"][:100], "feature": "search", "actor": p["event.actor"][:100],
               "occurred_at": "2026-11-25T10:00:00Z", "properties": {p["event.property"]: p["event.property"]}}]
    events += [{"id": f"e{i}", "feature": key, "actor": f"u{i}", "occurred_at": "2026-11-25T11:00:00Z"}
               for i, key in enumerate(ODD_KEYS)]
    with capture(execute=True):  # the rollups (run on commit) register the features
        assert _ingest(raw, events).status_code == 202
    refused = _ingest(raw, [{"id": "x", "feature": p["event.feature"], "actor": "u",
                             "occurred_at": "2026-11-25T10:00:00Z"}])
    kpi = metrics_services.kpi_create(user=admin, product=product, data={"name": p["kpi.name"]})
    search = Feature.objects.get(product=product, key="search")
    services.feature_update(user=admin, feature=search, data={"name": p["feature.name"][:120],
                                                              "description": p["feature.description"], "kpi": kpi})
    services.feature_create(user=admin, product=product, key="named", name=p["named_feature.name"])
    initiative = roadmap_services.initiative_create(actor=admin, product=product,
                                                    data={"title": p["initiative.title"], "status": "planned"})
    release = Release.objects.create(product=product, name="1.0")
    epic = backlog_services.epic_create(actor=admin, product=product, title=p["epic.title"],
                                        initiative_id=initiative.id, release_id=release.id,
                                        score_inputs={p["score_input.key"]: 3})
    kpi.epics.add(epic)
    kpi.initiatives.add(initiative)
    roadmap_services.release_mark_released(actor=admin, release=release)
    services.outcome_reviews_open_for_release(release_id=release.id)
    return {"product": product, "search": search, "refused": refused, "p": p, "epic": epic}


def _pages(workspace, world):
    ws, product = workspace.slug, world["product"]
    kw = {"ws": ws, "product_id": product.id}
    adoption = reverse("adoption", kwargs=kw)
    return [
        reverse("workspace_home", kwargs={"ws": ws}),
        reverse("activity", kwargs={"ws": ws}),
        adoption, adoption + "?window=28&sort=name",
        *[reverse("adoption_feature", kwargs=kw | {"feature_id": f.id})
          for f in product.adoption_features.filter(key__in=["search", "named", ODD_KEYS[0]])],
        reverse("outcomes", kwargs=kw),
        reverse("adoption_keys", kwargs=kw),
        reverse("metrics_product_dashboard", kwargs=kw) + "?range=30",
        reverse("metrics_workspace_dashboard", kwargs={"ws": ws}),
    ]


@pytest.mark.parametrize("case", CASES)
def test_payloads_in_adoption_fields_and_ingested_events_are_inert_in_pages(case, admin, workspace,
                                                                            django_capture_on_commit_callbacks):
    world = _adoption(case, workspace, admin, django_capture_on_commit_callbacks)
    product = world["product"]
    assert set(product.adoption_features.values_list("key", flat=True)) == {"search", "named", *ODD_KEYS}
    assert product.outcome_reviews.count() == 2
    refused = world["refused"]
    assert refused.status_code == 400 and refused["Content-Type"].startswith("application/json")
    client = browser(admin)
    for url in _pages(workspace, world):
        html = get_inert(client, url)
        assert 'href="javascript' not in html.lower()


@pytest.mark.parametrize("case", CASES[::9])
def test_payloads_in_adoption_fields_come_back_as_json_data(case, api_as, admin, workspace,
                                                            django_capture_on_commit_callbacks):
    world = _adoption(case, workspace, admin, django_capture_on_commit_callbacks)
    search, product = world["search"], world["product"]
    api = api_as(admin)
    assert_json_data(api.get(f"/api/v1/features/{search.id}/"), search.name, search.description)
    assert_json_data(api.get("/api/v1/outcome-reviews/", {"product": product.id}), world["epic"].title)
    assert_json_data(api.get("/api/v1/ingestion-keys/", {"product": product.id}), product.ingestion_keys.get().name)
    browsable_inert(browser(admin), f"/api/v1/outcome-reviews/?product={product.id}")
