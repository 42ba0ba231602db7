"""Factories of the reports tests; products, initiatives and releases are the roadmaps tests'."""

import factory

from reports.models import SECTION_KEYS, ReportRecipient, ReportSubscription, WebhookEndpoint
from tests.factories import WorkspaceFactory
from tests.roadmaps import factories as roadmaps
from tests.roadmaps.factories import ProductFactory  # noqa: F401  (re-exported: reports tests import it from here)


class InitiativeFactory(roadmaps.InitiativeFactory):
    status = "planned"


class ReleaseFactory(roadmaps.ReleaseFactory):
    name = factory.Sequence(lambda n: f"v{n}")
    release_date = None


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportSubscription

    workspace = factory.LazyAttribute(lambda o: o.product.workspace if o.product else WorkspaceFactory())
    product = None
    name = factory.Sequence(lambda n: f"Weekly report {n}")
    sections = factory.LazyFunction(lambda: list(SECTION_KEYS))


def subscribe(subscription, *emails, users=()):
    for user in users:
        ReportRecipient.objects.create(subscription=subscription, user=user, email=user.email)
    for email in emails:
        ReportRecipient.objects.create(subscription=subscription, email=email)
    return subscription


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    workspace = factory.SubFactory(WorkspaceFactory)
    url = "http://127.0.0.1:9/hook"
    events = factory.LazyFunction(lambda: ["story.created"])
