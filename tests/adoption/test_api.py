"""Adoption API: tenancy matrix, roles, bad input, query counts, schema."""

from datetime import date
from decimal import Decimal

import pytest

from adoption.models import Feature, FeatureDaily, IngestionKey, OutcomeReview
from metrics.models import Kpi
from pmhub.models import hash_secret

from .factories import FeatureFactory, ProductFactory, make_ingestion_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def feature(product):
    return FeatureFactory(product=product, key="search", name="Search", target_percent=Decimal("40"))


def snapshot(feature):
    feature.refresh_from_db()
    return (feature.key, feature.name, feature.target_percent, feature.kpi_id)


# --- features ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_outsider_gets_404_on_a_feature(api, outsider, feature, method):
    before = snapshot(feature)
    api.force_authenticate(outsider)
    response = getattr(api, method)(f"/api/v1/features/{feature.id}/", {"key": "search", "name": "pwned"},
                                    format="json")
    assert response.status_code == 404
    assert snapshot(feature) == before


@pytest.mark.parametrize("action", ["adoption", "retention"])
def test_outsider_gets_404_on_feature_figures(api, outsider, feature, action):
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/features/{feature.id}/{action}/").status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_viewer_cannot_change_a_feature(api, viewer, feature, method):
    before = snapshot(feature)
    api.force_authenticate(viewer)
    response = getattr(api, method)(f"/api/v1/features/{feature.id}/", {"key": "search", "name": "Renamed"},
                                    format="json")
    assert response.status_code == 403
    assert snapshot(feature) == before


def test_viewer_cannot_create_a_feature(api, viewer, product):
    api.force_authenticate(viewer)
    response = api.post("/api/v1/features/", {"product": product.id, "key": "new"}, format="json")
    assert response.status_code == 403
    assert not Feature.objects.exists()


def test_editor_creates_and_edits_a_feature_with_its_kpi(api, editor, product):
    kpi = Kpi.objects.create(product=product, name="Search adoption", target_value=Decimal("55"))
    api.force_authenticate(editor)
    response = api.post("/api/v1/features/", {"product": product.id, "key": "search", "name": "Search",
                                              "target_percent": "30", "kpi": kpi.id}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kpi"] == kpi.id and body["target"] == "55.0000"
    response = api.patch(f"/api/v1/features/{body['id']}/", {"name": "Site search", "kpi": None,
                                                             "version": body["version"]}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Site search" and response.json()["target"] == "30.0000"


@pytest.mark.parametrize("payload,field", [
    ({"key": "bad key!"}, "key"),
    ({"key": "ok", "target_percent": "150"}, "target_percent"),
    ({"key": "ok", "kpi": 999999}, "kpi"),
])
def test_bad_feature_input_is_400_with_field_errors(api, editor, product, payload, field):
    api.force_authenticate(editor)
    response = api.post("/api/v1/features/", {"product": product.id, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Feature.objects.exists()


def test_feature_key_cannot_change(api, editor, feature):
    api.force_authenticate(editor)
    response = api.patch(f"/api/v1/features/{feature.id}/", {"key": "other", "version": feature.version}, format="json")
    assert response.status_code == 400
    assert snapshot(feature)[0] == "search"


def test_kpi_of_another_product_is_refused(api, editor, feature, workspace):
    foreign = Kpi.objects.create(product=ProductFactory(workspace=workspace), name="Other")
    api.force_authenticate(editor)
    response = api.patch(f"/api/v1/features/{feature.id}/", {"kpi": foreign.id}, format="json")
    assert response.status_code == 400 and "kpi" in response.json()["errors"]
    assert snapshot(feature)[3] is None


def test_editor_cannot_create_a_feature_in_a_foreign_product(api, editor, other_product):
    api.force_authenticate(editor)
    response = api.post("/api/v1/features/", {"product": other_product.id, "key": "x"}, format="json")
    assert response.status_code == 404
    assert not Feature.objects.exists()


def test_feature_list_is_scoped_and_has_a_fixed_query_count(api, viewer, product, other_product,
                                                            django_assert_max_num_queries):
    for i in range(10):
        FeatureFactory(product=product, kpi=Kpi.objects.create(product=product, name=f"k{i}"))
    FeatureFactory(product=other_product)
    api.force_authenticate(viewer)
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/features/")
    assert response.json()["count"] == 10


def test_feature_adoption_and_retention_endpoints(api, viewer, feature):
    api.force_authenticate(viewer)
    adoption = api.get(f"/api/v1/features/{feature.id}/adoption/?window=28&end=2026-11-20")
    assert adoption.status_code == 200
    assert adoption.json()["window_days"] == 28 and adoption.json()["percent"] is None
    assert api.get(f"/api/v1/features/{feature.id}/adoption/?window=3").status_code == 400
    retention = api.get(f"/api/v1/features/{feature.id}/retention/?cohorts=4&end=2026-11-20")
    assert retention.status_code == 200 and len(retention.json()["cohorts"]) == 4
    assert api.get(f"/api/v1/features/{feature.id}/retention/?cohorts=0").status_code == 400


# --- rollups -------------------------------------------------------------------------------------
def test_rollups_filter_by_product_feature_and_dates(api, viewer, product, other_product, feature,
                                                     django_assert_max_num_queries):
    other = FeatureFactory(product=product, key="export")
    for day in range(1, 11):
        FeatureDaily.objects.create(product=product, feature=feature, day=date(2026, 11, day), users=day)
        FeatureDaily.objects.create(product=product, feature=other, day=date(2026, 11, day), users=1)
    foreign = FeatureFactory(product=other_product)
    FeatureDaily.objects.create(product=other_product, feature=foreign, day=date(2026, 11, 5), users=99)
    api.force_authenticate(viewer)
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/rollups/")
    assert response.json()["count"] == 20
    response = api.get(f"/api/v1/rollups/?product={product.id}&feature={feature.id}&start=2026-11-03&end=2026-11-05")
    assert [r["users"] for r in response.json()["results"]] == [5, 4, 3]
    assert response.json()["results"][0]["feature_key"] == "search"


def test_outsider_sees_no_rollups_of_another_workspace(api, outsider, product, feature):
    FeatureDaily.objects.create(product=product, feature=feature, day=date(2026, 11, 1), users=3)
    api.force_authenticate(outsider)
    assert api.get("/api/v1/rollups/").json()["results"] == []
    # Naming the product is answered like naming one that does not exist (no existence oracle).
    foreign = api.get(f"/api/v1/rollups/?product={product.id}")
    missing = api.get(f"/api/v1/rollups/?product={product.id + 10_000}")
    assert foreign.status_code == missing.status_code == 400


# --- outcome reviews -----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_outsider_gets_nothing_of_an_outcome_review(api, outsider, product, method):
    from backlog.models import Epic

    kpi = Kpi.objects.create(product=product, name="k")
    review = OutcomeReview.objects.create(product=product, epic=Epic.objects.create(product=product, title="e"),
                                          kpi=kpi, released_at="2026-09-01T00:00:00Z")
    api.force_authenticate(outsider)
    response = getattr(api, method)(f"/api/v1/outcome-reviews/{review.id}/", {}, format="json")
    # Read-only resource: writes are 405 for everyone (reveals nothing), reads are 404.
    assert response.status_code == (404 if method == "get" else 405)
    assert OutcomeReview.objects.filter(pk=review.pk, baseline_value__isnull=True).exists()


def test_outsider_cannot_read_calibration_of_a_foreign_product(api, outsider, product):
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/outcome-reviews/calibration/?product={product.id}").status_code == 404


# --- ingestion keys ------------------------------------------------------------------------------
def test_admin_creates_a_key_shown_once_and_stored_hashed(api, admin, product, ingest):
    api.force_authenticate(admin)
    response = api.post("/api/v1/ingestion-keys/", {"product": product.id, "name": "web app"}, format="json")
    assert response.status_code == 201
    raw = response.json()["key"]
    assert raw.startswith("pmhi_")
    stored = IngestionKey.objects.get()
    assert stored.key_hash == hash_secret(raw) and raw not in str(api.get("/api/v1/ingestion-keys/").json())
    assert ingest(raw, [{"id": "1", "feature": "f", "actor": "a", "occurred_at": "2026-01-01T00:00:00Z"}]
                  ).status_code in (202, 400)  # authenticated (400 only if the date is out of range)


def test_admin_revokes_a_key_and_it_stops_working(api, admin, product, key, ingest):
    api.force_authenticate(admin)
    key_id = IngestionKey.objects.get().id
    assert api.delete(f"/api/v1/ingestion-keys/{key_id}/").status_code == 204
    assert IngestionKey.objects.get().revoked_at is not None
    assert ingest(key, [{"id": "1"}]).status_code == 401


@pytest.mark.parametrize("user", ["viewer", "editor"])
def test_non_admins_cannot_manage_keys(api, request, product, key, user):
    member = request.getfixturevalue(user)
    api.force_authenticate(member)
    key_id = IngestionKey.objects.get().id
    assert api.get("/api/v1/ingestion-keys/").status_code == 403
    assert api.post("/api/v1/ingestion-keys/", {"product": product.id, "name": "x"}, format="json").status_code == 403
    assert api.delete(f"/api/v1/ingestion-keys/{key_id}/").status_code == 403
    assert IngestionKey.objects.count() == 1 and IngestionKey.objects.get().revoked_at is None


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_outsider_gets_nothing_of_a_foreign_key(api, outsider, product, key, method):
    api.force_authenticate(outsider)
    key_id = IngestionKey.objects.get().id
    response = getattr(api, method)(f"/api/v1/ingestion-keys/{key_id}/", {"name": "x"}, format="json")
    assert response.status_code == (405 if method in ("put", "patch") else 404)
    assert IngestionKey.objects.get().revoked_at is None


def test_admin_lists_only_keys_of_own_products(api, admin, product, other_product, key,
                                               django_assert_max_num_queries):
    make_ingestion_key(other_product)
    for i in range(5):
        make_ingestion_key(product, name=f"k{i}")
    api.force_authenticate(admin)
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/ingestion-keys/")
    assert response.json()["count"] == 6


def test_admin_cannot_create_a_key_for_a_foreign_product(api, admin, other_product):
    api.force_authenticate(admin)
    response = api.post("/api/v1/ingestion-keys/", {"product": other_product.id, "name": "x"}, format="json")
    assert response.status_code == 404
    assert not IngestionKey.objects.exists()


# --- schema --------------------------------------------------------------------------------------
def test_adoption_endpoints_are_in_the_schema_without_warnings():
    from tests.schemacheck import spectacular_run

    run = spectacular_run()  # `manage.py spectacular --validate`, once per process
    assert run.failure is None, run.failure
    schema = run.schema
    for path in ["/api/v1/events/bulk/", "/api/v1/features/", "/api/v1/features/{id}/adoption/",
                 "/api/v1/features/{id}/retention/", "/api/v1/rollups/", "/api/v1/outcome-reviews/",
                 "/api/v1/outcome-reviews/calibration/", "/api/v1/ingestion-keys/"]:
        assert path in schema["paths"], path
    assert "ingestionKey" in schema["components"]["securitySchemes"]
    problems = [m for m in run.problems if "adoption" in m]
    assert problems == []
