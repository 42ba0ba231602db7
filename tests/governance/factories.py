"""Factories of the governance tests; products and initiatives are the roadmaps tests'."""

import factory

from governance.models import IssueNote, ProductGovernance, Risk
from tests.roadmaps.factories import InitiativeFactory, ProductFactory, ReleaseFactory  # noqa: F401


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Risk {n}")
    likelihood = 3
    impact = 3


class IssueNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IssueNote

    risk = factory.SubFactory(RiskFactory)
    text = "Agreed a workaround."


def appetite(product, value: int) -> ProductGovernance:
    row, _ = ProductGovernance.objects.update_or_create(product=product, defaults={"risk_appetite": value})
    return row
