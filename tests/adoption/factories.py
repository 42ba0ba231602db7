"""Factories and helpers of the adoption tests."""

import factory

from adoption.models import Feature, IngestionKey
from pmhub.models import hash_secret
from tests.roadmaps.factories import ProductFactory


class FeatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feature

    product = factory.SubFactory(ProductFactory)
    key = factory.Sequence(lambda n: f"feature-{n}")
    name = factory.Sequence(lambda n: f"Feature {n}")


def make_ingestion_key(product, name="app") -> str:
    raw = IngestionKey.generate_key()
    IngestionKey.objects.create(product=product, name=name, prefix=raw[:12], key_hash=hash_secret(raw))
    return raw


def event(i, feature="search", actor="u1", at="2026-11-20T10:00:00Z", **extra):
    return {"id": f"e{i}", "feature": feature, "actor": actor, "occurred_at": at, **extra}
