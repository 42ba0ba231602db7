"""Recompute a product's adoption rollups over a span of days (after a backfill of old events or
a change of the workspace's time zone)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from adoption import tasks
from adoption.models import UsageEvent
from roadmaps.models import Product


class Command(BaseCommand):
    help = "Recompute the daily and 7-day adoption rollups of a product for a span of local days."

    def add_arguments(self, parser):
        parser.add_argument("--product", type=int, required=True, help="product id")
        parser.add_argument("--from", dest="first", type=date.fromisoformat,
                            help="first local day (default: the day of the product's oldest event)")
        parser.add_argument("--to", dest="last", type=date.fromisoformat,
                            help="last local day (default: today)")
        parser.add_argument("--queue", action="store_true", help="send the work to a Celery worker instead")

    def handle(self, *args, product, first, last, queue, **options):
        found = Product.objects.filter(pk=product).first()
        if found is None:
            raise CommandError(f"No product with id {product}.")
        if first is None:
            oldest = UsageEvent.objects.filter(product_id=product).order_by("occurred_at").first()
            if oldest is None:
                self.stdout.write("No events: nothing to recompute.")
                return
            first = oldest.occurred_at.date() - timedelta(days=1)  # the oldest event's local day, whatever the zone
        last = last or date.today()
        if last < first:
            raise CommandError("--to must not be before --from.")
        if queue:
            tasks.rollup_span.delay(product, first.isoformat(), last.isoformat())
            self.stdout.write(f"Queued the rollup of {first} .. {last} for product {product}.")
            return
        result = tasks.rollup_span(product, first.isoformat(), last.isoformat())
        self.stdout.write(f"Recomputed {first} .. {last} for product {product}: {result['events']:,} events, "
                          f"up to {result['active_users']:,} active users a day, "
                          f"{result['windows_refreshed']} days with rows.")
