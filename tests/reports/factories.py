import factory

from reports.models import SECTION_KEYS, ReportRecipient, ReportSubscription, WebhookEndpoint
from roadmaps.models import Initiative, Product, Release
from tests.factories import WorkspaceFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Product {n}")


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")
    status = "planned"


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"v{n}")


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
