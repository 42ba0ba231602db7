"""Tenancy-matrix entries of the integrations app. Format: see tests/security/README.md."""

from django.forms.models import model_to_dict

from integrations import services
from pmhub.models import Membership, Role

from .matrix import Exempt, Route

HOOK = "https://hooks.slack.com/services/T1/B1/matrix"


def _channel(ws):
    admin = Membership.objects.filter(workspace=ws, role=Role.ADMIN).select_related("user").first()
    if admin is None:
        from tests.factories import MembershipFactory, UserFactory

        admin = MembershipFactory(workspace=ws, user=UserFactory(), role=Role.ADMIN)
    return services.channel_create(user=admin.user, workspace=ws, kind="slack", name="#matrix", url=HOOK,
                                   events=["story.created"])


def _state(channel):
    """The channel, its delivery state and its log (a test message adds a delivery)."""
    from integrations.models import Channel

    row = Channel.objects.filter(pk=channel.pk).select_related("endpoint").first()
    if row is None:
        return None
    return (model_to_dict(row), model_to_dict(row.endpoint), row.endpoint.deliveries.count())


API = {
    "channel": Exempt(
        "Admin-only resource (as webhook-endpoint): retrieve and deliveries need Role.ADMIN, so a viewer's GET is "
        "403 where the matrix asserts 200. Outsider 404 on every method incl. deliveries/ and send-test/, viewer "
        "and editor 403 on every write with the row and its log unchanged: tests/integrations/test_tenancy.py."),
}

PAGES = {
    "integrations:channel": Route(build=_channel, payload=lambda c: {"action": "test"}, snapshot=_state),
}
