"""Tenancy-matrix entries of the adoption app. Format: see tests/security/README.md.

Builders reuse the adoption tests' factories (tests/adoption/factories.py). Payloads of the refused
page writes are valid forms, so a missing role check would really write and the snapshot would see it.
"""

from datetime import UTC, date, datetime

from django.forms.models import model_to_dict

from adoption.models import Feature, FeatureDaily, IngestionKey, OutcomeReview
from backlog.models import Epic
from tests.adoption.factories import FeatureFactory, ProductFactory, make_ingestion_key
from tests.metrics.factories import KpiFactory

from .matrix import Exempt, Route


def _row(obj):
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _product(ws):
    return ProductFactory(workspace=ws)


def _feature(ws):
    return FeatureFactory(product=_product(ws), target_percent=40)


def _rollup(ws):
    feature = _feature(ws)
    return FeatureDaily.objects.create(product=feature.product, feature=feature, day=date(2026, 11, 20), users=3,
                                       events=9, users_7d=5)


def _review(ws):
    product = _product(ws)
    return OutcomeReview.objects.create(product=product, epic=Epic.objects.create(product=product, title="Search v2"),
                                        kpi=KpiFactory(product=product),
                                        released_at=datetime(2026, 9, 1, tzinfo=UTC))


def _key(ws):
    product = _product(ws)
    make_ingestion_key(product)
    return IngestionKey.objects.get(product=product)


def _features_of(product):
    return (_row(product), sorted(Feature.objects.filter(product_id=product.id).values_list("id", "key", "name")))


def _keys_of(product):
    return (_row(product), sorted(IngestionKey.objects.filter(product_id=product.id).values_list("id", "revoked_at")))


# API: router basename -> Route (covers every detail route of the viewset, incl. @action(detail=True)).
API = {
    # feature-detail, feature-adoption, feature-retention
    "feature": Route(build=_feature, payload=lambda f: {"name": "Pwned", "target_percent": "99"}),
    "outcome-review": Exempt(
        "The viewset's list-level action calibration/ requires ?product= (400 without it, by design), and the "
        "matrix's list test calls every list GET route of a registered basename without parameters. Read-only "
        "resource: outsider 404 on GET and 405 on writes, calibration of a foreign product refused: "
        "tests/adoption/test_api.py (test_outsider_gets_nothing_of_an_outcome_review, "
        "test_outsider_cannot_read_calibration_of_a_foreign_product)."),
    # List-only viewset: the entry adds it to test_api_lists_do_not_show_another_workspaces_objects.
    "rollup": Route(build=_rollup),
    "ingestion-key": Exempt(
        "Admin-only resource: retrieve/destroy need Role.ADMIN, so a viewer's GET is 403 where the matrix "
        "asserts 200 (it cannot express 'members below admin may not read'). Outsider 404 on GET/DELETE and "
        "viewer/editor 403 with the key unchanged are asserted in tests/adoption/test_api.py "
        "(test_outsider_gets_nothing_of_a_foreign_key, test_non_admins_cannot_manage_keys)."),
}

# Pages: URL name -> Route.
PAGES = {
    "adoption": Route(build=_product, payload=lambda p: {"key": "pwned", "name": "Pwned"}, snapshot=_features_of),
    "adoption_feature": Route(build=_feature, kwargs=lambda f: {"product_id": f.product_id, "feature_id": f.id},
                              payload=lambda f: {"name": "Pwned", "description": "x", "target_percent": "99"}),
    "adoption_keys": Route(build=_product, payload=lambda p: {"name": "Pwned"}, snapshot=_keys_of),
    "adoption_key_revoke": Exempt(
        "POST-only product page: ProductPageMixin resolves the product before the method, so the IDOR case "
        "answers 404 to GET where the matrix expects 405 (404 reveals less). Outsider 404 on GET/POST and "
        "viewer 403 with the key unchanged: tests/adoption/test_pages.py (test_outsider_gets_404_on_every_page, "
        "test_viewer_writes_are_403_and_change_nothing)."),
    "outcomes": Exempt(
        "GET-only product page: ProductPageMixin resolves the product before the method, so the IDOR case "
        "answers 404 to POST where the matrix expects 405 (404 reveals less). Outsider 404 on every method and "
        "POST refused: tests/adoption/test_pages.py (test_outsider_gets_404_on_every_page, "
        "test_read_only_pages_refuse_posts)."),
}

# The exempt pages' entries, ready for the day the matrix accepts 404 for an unoffered method in the
# IDOR case (or ProductPageMixin answers 405 first): move them into PAGES then.
ENTRIES_BLOCKED_BY_IDOR_405 = {
    "adoption_key_revoke": Route(build=_key, kwargs=lambda k: {"product_id": k.product_id, "key_id": k.id}),
    "outcomes": Route(build=_product),
}
# Blocked by the parameterless list test (calibration/ needs ?product=): move into API then.
API_ENTRIES_BLOCKED_BY_LIST_PARAMS = {
    "outcome-review": Route(build=_review, payload=lambda r: {"baseline_value": "999"}),
}

# Viewsets that do not derive from pmhub.api.base.ScopedViewSet: basename -> reason.
API_BASE_EXCEPTIONS = {
    "event": "Bulk event ingestion (POST /api/v1/events/bulk/, no detail route) authenticated only by a "
             "product's ingestion key (adoption.api.authentication: IngestionKeyAuthentication + HasIngestionKey; "
             "the only authentication class, so user tokens and sessions are 401). The key names its one product: "
             "events are written to key.product, a body naming another product is 403 "
             "(tests/adoption/test_ingestion.py: test_key_of_product_a_cannot_write_to_product_b, "
             "test_user_api_token_cannot_ingest, test_revoked_key_is_401).",
}
