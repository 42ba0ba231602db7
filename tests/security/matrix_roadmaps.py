"""Tenancy-matrix entries of the roadmaps app. Format: see tests/security/README.md.

Builders reuse the app's own factories (tests/roadmaps/factories.py) and services; "unchanged"
is every row of every roadmaps table (tests/roadmaps/conftest.fingerprint), so a refused write
that touched a neighbour row (a rating, a dependency, a soft delete) is caught too.
"""

from datetime import date
from decimal import Decimal

from pmhub.models import Role
from roadmaps import services
from roadmaps.models import Capability, Competitor, KeyResult, RoadmapSnapshot, Segment
from tests.factories import MembershipFactory, UserFactory
from tests.roadmaps.conftest import fingerprint
from tests.roadmaps.factories import (
    DependencyFactory,
    InitiativeFactory,
    ObjectiveFactory,
    ProductFactory,
    ReleaseFactory,
)

from .matrix import Exempt, Route


def _actor(ws, role=Role.EDITOR):
    return MembershipFactory(workspace=ws, role=role, user=UserFactory()).user


def _product(ws):
    return ProductFactory(workspace=ws, vision="Decide with **data**.")


def _deleted_product(ws):
    product = _product(ws)
    services.product_delete(actor=_actor(ws, Role.ADMIN), product=product)
    product.refresh_from_db()
    return product


def _segment(ws):
    return Segment.objects.create(product=_product(ws), name="PMs", needs="Answers", size="4k")


def _competitor(ws):
    return Competitor.objects.create(product=_product(ws), name="Lookr")


def _capability(ws):
    return Capability.objects.create(product=_product(ws), name="Dashboards", ours="yes")


def _objective(ws):
    return ObjectiveFactory(product=_product(ws), quarter="2026-Q4")


def _key_result(ws):
    return KeyResult.objects.create(objective=_objective(ws), title="WAU", start_value=Decimal(100),
                                    target_value=Decimal(200), current_value=Decimal(150), unit="users")


def _initiative(ws):
    return InitiativeFactory(product=_product(ws), start_date=date(2026, 10, 1), end_date=date(2026, 11, 15),
                             horizon="now", status="planned")


def _dependency(ws):
    product = _product(ws)
    blocker = InitiativeFactory(product=product, start_date=date(2026, 10, 1), end_date=date(2026, 10, 31))
    blocked = InitiativeFactory(product=product, start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))
    return DependencyFactory(blocker=blocker, blocked=blocked)


def _release(ws):
    return ReleaseFactory(product=_product(ws))


def _snapshot(ws):
    return RoadmapSnapshot.objects.create(product=_product(ws), name="Q4 plan", data={"initiatives": []})


def _share_link(ws):
    link, _raw = services.share_link_create(actor=_actor(ws), product=_product(ws), days=3)
    return link


def _everything(_obj):
    return fingerprint()


def _product_kwargs(obj):
    return {"product_id": obj.product_id}


def _route(build, **kwargs):
    """A Route whose "unchanged" is the whole roadmaps fingerprint."""
    kwargs.setdefault("snapshot", _everything)
    return Route(build=build, **kwargs)


# The refused writes carry a valid body, so a refusal is the role check, not a validation error.
PAYLOAD = {"name": "Pwned", "title": "Pwned", "level": "yes", "target_value": "1", "current_value": "2",
           "days": 5, "horizon": "later", "initiatives": [], "epics": []}


def _payload(obj):
    return dict(PAYLOAD, version=getattr(obj, "version", 1))


API = {
    # product-detail, product-restore (admin only), product-timeline (read)
    "product": _route(_product, payload=lambda p: {"name": "Pwned", "vision": "Pwned"}),
    "segment": _route(_segment, payload=_payload),
    # competitor-detail and competitor-rate
    "competitor": _route(_competitor, payload=_payload),
    "capability": _route(_capability, payload=_payload),
    "objective": _route(_objective, payload=_payload),
    "key-result": _route(_key_result, payload=_payload),
    # initiative-detail (versioned), initiative-move, -work (read), -take and -release-work
    "initiative": _route(_initiative, payload=_payload),
    "dependency": _route(_dependency),
    # release-detail, release-ship, release-scope
    "release": _route(_release, payload=_payload),
    "snapshot": Exempt("snapshot-diff (GET /api/v1/snapshots/<id>/diff/?other=<id>) needs the required query "
                       "parameter `other`, which the matrix cannot send, so its viewer GET cannot be 200; an "
                       "exemption is per basename, so snapshot-detail goes with it. Both routes' isolation (outsider "
                       "404 on GET/DELETE and on diff, viewer 403 on DELETE, rows unchanged) is tested in "
                       "tests/roadmaps/test_tenancy.py."),
    "share-link": _route(_share_link, payload=_payload),
}


def _child(kind):
    return lambda obj: {"product_id": obj.product_id, "kind": kind, "obj_id": obj.pk}


PAGES = {
    "roadmaps:product": _route(_product),
    "roadmaps:product_edit": _route(_product),
    "roadmaps:product_delete": _route(_product),
    "roadmaps:product_restore": _route(_deleted_product),
    "roadmaps:child_delete": _route(_segment, kwargs=_child("segments")),
    "roadmaps:timeline": _route(_product),
    "roadmaps:board": _route(_product),
    "roadmaps:list": _route(_product),
    "roadmaps:present": _route(_product),
    "roadmaps:initiative_new": _route(_product),
    "roadmaps:initiative": _route(_initiative, kwargs=lambda i: {"product_id": i.product_id, "initiative_id": i.pk}),
    "roadmaps:initiative_work": _route(_initiative,
                                       kwargs=lambda i: {"product_id": i.product_id, "initiative_id": i.pk}),
    "roadmaps:initiative_delete": _route(_initiative,
                                         kwargs=lambda i: {"product_id": i.product_id, "initiative_id": i.pk}),
    "roadmaps:initiative_move": _route(_initiative,
                                       kwargs=lambda i: {"product_id": i.product_id, "initiative_id": i.pk}),
    "roadmaps:dependency_new": _route(_product),
    "roadmaps:dependency_delete": _route(_dependency, kwargs=lambda d: {"product_id": d.blocker.product_id,
                                                                        "dependency_id": d.pk}),
    "roadmaps:objectives": _route(_product),
    "roadmaps:objective_delete": _route(_objective, kwargs=lambda o: {"product_id": o.product_id,
                                                                      "objective_id": o.pk}),
    "roadmaps:key_result_new": _route(_objective, kwargs=lambda o: {"product_id": o.product_id,
                                                                    "objective_id": o.pk}),
    "roadmaps:key_result": _route(_key_result, kwargs=lambda k: {"product_id": k.objective.product_id,
                                                                 "key_result_id": k.pk}),
    "roadmaps:releases": _route(_product),
    "roadmaps:release": _route(_release, kwargs=lambda r: {"product_id": r.product_id, "release_id": r.pk}),
    "roadmaps:snapshots": _route(_product),
    "roadmaps:snapshot_compare": _route(_product),
    "roadmaps:snapshot_delete": _route(_snapshot, kwargs=lambda s: {"product_id": s.product_id,
                                                                    "snapshot_id": s.pk}),
    "roadmaps:share_links": _route(_product),
    "roadmaps:share_link_revoke": _route(_share_link, kwargs=lambda s: {"product_id": s.product_id,
                                                                        "link_id": s.pk}),
    "share:timeline": Exempt("Public share page /share/<token>/: no sign-in and no workspace in the URL; the "
                             "credential is the random token (only its hash is stored; expiring, revocable). "
                             "Unknown, expired and revoked tokens are 404: tests/roadmaps/test_pages.py."),
    "share:present": Exempt("Public presentation of a share link /share/<token>/present/: the same token as "
                            "share:timeline, and 404 unless its sharer allowed presentation; bad, revoked and "
                            "not-allowed tokens: tests/roadmaps/test_share_views.py."),
}

API_BASE_EXCEPTIONS: dict[str, str] = {}
