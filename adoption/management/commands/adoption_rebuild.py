"""Recompute a product's adoption rollups over a span of local days (after a backfill of old
events, a change of the workspace's time zone, or to repair the 7-day windows that rollups of
nearby days running at the same time left short before 1113: see docs/adoption.md)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from adoption import tasks
from adoption.models import UsageEvent
from pmhub.clock import today_in
from roadmaps.models import Product


class Command(BaseCommand):
    help = "Recompute the daily and 7-day adoption rollups of a product (or of every product) for a span of local days."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--product", type=int, help="product id")
        which.add_argument("--all", action="store_true",
                           help="every product that has events (the repair of old rollups)")
        parser.add_argument("--from", dest="first", type=date.fromisoformat,
                            help="first local day (default: the day of the product's oldest event)")
        parser.add_argument("--to", dest="last", type=date.fromisoformat,
                            help="last local day (default: today in the workspace's time zone)")
        parser.add_argument("--queue", action="store_true", help="send the work to a Celery worker instead")

    def handle(self, *args, product, all, first, last, queue, **options):  # noqa: A002 - the option's name
        if all:
            ids = sorted(set(UsageEvent.objects.values_list("product_id", flat=True).distinct())
                         & set(Product.objects.values_list("id", flat=True)))
            if not ids:
                self.stdout.write("No events: nothing to recompute.")
            for product_id in ids:
                self._rebuild(Product.objects.select_related("workspace").get(pk=product_id), first, last, queue)
            return
        found = Product.objects.select_related("workspace").filter(pk=product).first()
        if found is None:
            raise CommandError(f"No product with id {product}.")
        self._rebuild(found, first, last, queue)

    def _rebuild(self, product, first, last, queue):
        if first is None:
            oldest = UsageEvent.objects.filter(product_id=product.id).order_by("occurred_at").first()
            if oldest is None:
                self.stdout.write(f"Product {product.id}: no events, nothing to recompute.")
                return
            first = oldest.occurred_at.date() - timedelta(days=1)  # the oldest event's local day, whatever the zone
        last = last or today_in(product.workspace.time_zone)
        if last < first:
            raise CommandError("--to must not be before --from.")
        if queue:
            tasks.rollup_span.delay(product.id, first.isoformat(), last.isoformat(), full=True)
            self.stdout.write(f"Queued the rollup of {first} .. {last} for product {product.id}.")
            return
        # Whole: the command repairs rows, so it does not trust the stored ones (decision 1915).
        result = tasks.rollup_span(product.id, first.isoformat(), last.isoformat(), full=True)
        self.stdout.write(f"Recomputed {first} .. {last} for product {product.id}: {result['events']:,} events, "
                          f"up to {result['active_users']:,} active users a day, "
                          f"{result['windows_refreshed']} days with rows.")
