"""Delivery logs written before pmhub/outbound.py held the socket's error text ("URLError:
[Errno 111] Connection refused") and the time a failed connection took, which told an endpoint's
admin what listened on the server's network. Keep only the short reasons the log now writes."""

from django.db import migrations
from django.db.models import Q

SHORT_REASONS = ("HTTP ", "refused: ", "timeout", "connection failed", "TLS error", "name not resolved",
                 "Endpoint disabled before delivery.")


def scrub(apps, schema_editor):
    Delivery = apps.get_model("reports", "WebhookDelivery")
    unanswered = Delivery.objects.filter(response_status__isnull=True)
    unanswered.exclude(response_ms=None).update(response_ms=None)
    short = Q()
    for reason in SHORT_REASONS:
        short |= Q(error__startswith=reason)
    unanswered.exclude(error="").exclude(short).filter(error__icontains="timed out").update(error="timeout")
    unanswered.exclude(error="").exclude(short).update(error="connection failed")


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_reports_version_for_optimistic_locking")]
    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
