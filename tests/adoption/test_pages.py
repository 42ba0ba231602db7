"""Adoption pages: tenancy (404 for outsiders, 403 for viewers' writes), forms, query counts."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from adoption.models import Feature, FeatureDaily, IngestionKey, ProductDaily
from pmhub.models import hash_secret

from .factories import FeatureFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def feature(product):
    return FeatureFactory(product=product, key="search", name="Search")


def urls(workspace, product, feature):
    kw = {"ws": workspace.slug, "product_id": product.id}
    key = IngestionKey.objects.create(product=product, name="app", prefix="pmhi_x", key_hash="h")
    return {
        "adoption": reverse("adoption", kwargs=kw),
        "feature": reverse("adoption_feature", kwargs=kw | {"feature_id": feature.id}),
        "outcomes": reverse("outcomes", kwargs=kw),
        "keys": reverse("adoption_keys", kwargs=kw),
        "revoke": reverse("adoption_key_revoke", kwargs=kw | {"key_id": key.id}),
    }


@pytest.mark.parametrize("page", ["adoption", "feature", "outcomes", "keys", "revoke"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_outsider_gets_404_on_every_page(client_as, outsider, workspace, product, feature, page, method):
    url = urls(workspace, product, feature)[page]
    response = getattr(client_as(outsider), method)(url, {"key": "x", "name": "pwned"})
    assert response.status_code == 404
    assert Feature.objects.count() == 1 and IngestionKey.objects.get().revoked_at is None


def test_product_of_another_workspace_under_own_slug_is_404(client_as, admin, workspace, other_product):
    url = reverse("adoption", kwargs={"ws": workspace.slug, "product_id": other_product.id})
    assert client_as(admin).get(url).status_code == 404


@pytest.mark.parametrize("page", ["adoption", "feature", "outcomes"])
def test_viewer_sees_the_pages(client_as, viewer, workspace, product, feature, page):
    assert client_as(viewer).get(urls(workspace, product, feature)[page]).status_code == 200


def test_viewer_does_not_see_ingestion_keys(client_as, viewer, workspace, product, feature):
    assert client_as(viewer).get(urls(workspace, product, feature)["keys"]).status_code == 403


@pytest.mark.parametrize("page", ["adoption", "feature", "keys", "revoke"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_viewer_writes_are_403_and_change_nothing(client_as, viewer, workspace, product, feature, page, method):
    response = getattr(client_as(viewer), method)(urls(workspace, product, feature)[page],
                                                  {"key": "new", "name": "Renamed", "target_percent": "10"})
    assert response.status_code == 403
    assert list(Feature.objects.values_list("key", "name", "target_percent")) == [("search", "Search", None)]
    assert IngestionKey.objects.count() == 1 and IngestionKey.objects.get().revoked_at is None


@pytest.mark.parametrize("page", ["outcomes"])
def test_read_only_pages_refuse_posts(client_as, admin, workspace, product, feature, page):
    assert client_as(admin).post(urls(workspace, product, feature)[page]).status_code == 405


def test_editor_adds_a_feature_and_bad_input_is_400(client_as, editor, workspace, product):
    client = client_as(editor)
    url = reverse("adoption", kwargs={"ws": workspace.slug, "product_id": product.id})
    response = client.post(url, {"key": "bad key", "target_percent": "120"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"key", "target_percent"}
    assert not Feature.objects.exists()
    response = client.post(url, {"key": "exports", "name": "Exports", "target_percent": "25"})
    assert response.status_code == 302
    assert Feature.objects.get().target_percent == Decimal("25")


def test_editor_edits_a_feature_target(client_as, editor, workspace, product, feature):
    url = reverse("adoption_feature", kwargs={"ws": workspace.slug, "product_id": product.id,
                                              "feature_id": feature.id})
    response = client_as(editor).post(url, {"name": "Site search", "target_percent": "35", "version": feature.version})
    assert response.status_code == 302
    feature.refresh_from_db()
    assert (feature.name, feature.target_percent) == ("Site search", Decimal("35"))


def test_feature_of_another_product_is_404(client_as, admin, workspace, product):
    stranger = FeatureFactory(product=ProductFactory(workspace=workspace))
    url = reverse("adoption_feature", kwargs={"ws": workspace.slug, "product_id": product.id,
                                              "feature_id": stranger.id})
    assert client_as(admin).get(url).status_code == 404


def test_admin_creates_a_key_shown_once(client_as, admin, workspace, product):
    client = client_as(admin)
    url = reverse("adoption_keys", kwargs={"ws": workspace.slug, "product_id": product.id})
    response = client.post(url, {"name": "web"})
    raw = response.context["new_key"]
    assert IngestionKey.objects.get().key_hash == hash_secret(raw)
    assert raw not in client.get(url).content.decode()


def test_admin_revokes_a_key(client_as, admin, workspace, product, feature):
    url = urls(workspace, product, feature)["revoke"]
    assert client_as(admin).post(url).status_code == 302
    assert IngestionKey.objects.get().revoked_at is not None


@time_machine.travel("2026-11-21T12:00:00Z", tick=False)
def test_adoption_table_page_sorts_and_has_a_fixed_query_count(client_as, viewer, workspace, product,
                                                               django_assert_max_num_queries):
    from adoption.models import ActorDay

    for i in range(12):
        f = FeatureFactory(product=product, key=f"f{i}")
        ActorDay.objects.bulk_create([ActorDay(product=product, day=date(2026, 11, 20), feature_key=f.key,
                                               actor=f"a{j}", events=1) for j in range(i + 1)])
    client = client_as(viewer)
    url = reverse("adoption", kwargs={"ws": workspace.slug, "product_id": product.id})
    # Session, user, roles, product, workspace, 3 aggregate/feature queries, KPI choices, nav, session save.
    with django_assert_max_num_queries(15):
        response = client.get(url + "?sort=adoption")
    rows = response.context["table"]["rows"]
    assert [r["feature"].key for r in rows][:2] == ["f11", "f10"]
    assert rows[0]["percent"] == 100.0
    assert client.get(url + "?sort=-adoption").context["table"]["rows"][0]["feature"].key == "f0"


@time_machine.travel("2026-11-21T12:00:00Z", tick=False)
def test_feature_page_has_chart_data_and_a_fixed_query_count(client_as, viewer, workspace, product, feature,
                                                             django_assert_max_num_queries):
    for d in range(1, 21):
        FeatureDaily.objects.create(product=product, feature=feature, day=date(2026, 11, d), users=d, users_7d=d)
        ProductDaily.objects.create(product=product, day=date(2026, 11, d), active_users=40, active_7d=40)
    from adoption.models import ActorDay

    ActorDay.objects.bulk_create([ActorDay(product=product, day=date(2026, 11, d), feature_key="search",
                                           actor=f"a{d % 7}", events=1) for d in range(1, 21)])
    url = reverse("adoption_feature", kwargs={"ws": workspace.slug, "product_id": product.id,
                                              "feature_id": feature.id})
    client = client_as(viewer)
    # Login/session/nav ~9, the page's own reads 9 (feature, 2 series, 3 adoption, 2 retention, KPI choices).
    with django_assert_max_num_queries(19):
        response = client.get(url)
    chart = response.context["chart"]
    assert len(chart["days"]) == 90 and chart["days"][-1] == "2026-11-21"
    assert chart["adoption"][-2] == 50.0  # 20 of 40 weekly active on 20 Nov
    html = response.content.decode()
    assert 'id="adoption-chart-data"' in html and "adoption/charts.js" in html
    assert "<script>" not in html  # CSP: no inline script
