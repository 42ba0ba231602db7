"""A roadmap world: a product of workspace "acme" with one of everything, and a foreign product."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from roadmaps.models import (
    BusinessCase,
    Capability,
    CapabilityRating,
    Competitor,
    Dependency,
    Initiative,
    KeyResult,
    Objective,
    Product,
    Release,
    RoadmapSnapshot,
    Segment,
    ShareLink,
)
from roadmaps.services import _hash

ROADMAP_MODELS = (Product, BusinessCase, Segment, Competitor, Capability, CapabilityRating, Objective, KeyResult,
                  Initiative, Initiative.objectives.through, Dependency, Release, RoadmapSnapshot, ShareLink)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Users are created in every test here; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def product(workspace, admin):
    return Product.objects.create(workspace=workspace, name="Acme Analytics", vision="Decide with **data**.")


@pytest.fixture
def foreign_product(other_workspace, outsider):
    return Product.objects.create(workspace=other_workspace, name="Globex Maps")


@pytest.fixture
def world(product, editor, viewer):
    """One of each object in the product (ids in a dict by API route)."""
    objective = Objective.objects.create(product=product, title="Grow", quarter="2026-Q4",
                                         start_date=date(2026, 10, 1), end_date=date(2026, 12, 31))
    kr = KeyResult.objects.create(objective=objective, title="WAU", start_value=Decimal(100),
                                  target_value=Decimal(200), current_value=Decimal(150), unit="users")
    release = Release.objects.create(product=product, name="2.0", release_date=date(2026, 12, 1))
    a = Initiative.objects.create(product=product, title="Alpha", start_date=date(2026, 10, 1),
                                  end_date=date(2026, 11, 15), horizon="now", status="planned", labels=",growth,")
    b = Initiative.objects.create(product=product, title="Beta", start_date=date(2026, 11, 1),
                                  end_date=date(2026, 12, 15), horizon="next")
    a.objectives.add(objective)
    dependency = Dependency.objects.create(blocker=a, blocked=b)
    segment = Segment.objects.create(product=product, name="PMs", needs="Answers", size="4k")
    competitor = Competitor.objects.create(product=product, name="Lookr")
    capability = Capability.objects.create(product=product, name="Dashboards", ours="yes")
    snapshot = RoadmapSnapshot.objects.create(product=product, name="Q4 plan", data={"initiatives": []})
    link = ShareLink.objects.create(product=product, token_hash=_hash("raw-token"), prefix="raw-toke",
                                    expires_at=timezone.now() + timedelta(days=3))
    return {
        "products": product, "objectives": objective, "key-results": kr, "releases": release,
        "initiatives": a, "initiative_b": b, "dependencies": dependency, "segments": segment,
        "competitors": competitor, "capabilities": capability, "snapshots": snapshot, "share-links": link,
    }


def fingerprint():
    """Every row of every roadmaps table, to assert that a refused write changed nothing."""
    return {m.__name__: sorted(map(repr, m.objects.values())) for m in ROADMAP_MODELS}
