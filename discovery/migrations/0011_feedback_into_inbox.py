"""The backlog's typed-in feedback moves into the insights inbox for good (decision 1613).

Every remaining `backlog.Feedback` row becomes (or, when migration 0002 copied it already, stays)
the insight keyed `feedback-<id>`, of channel "feedback"; its customer becomes a company of the
product (matched by name, else added in the segment of the same name, added too when the product
has none, so the backlog's segment weight still applies); each linked story and epic gets a
highlight of the whole quote with the feedback's importance. The feedback rows are then deleted
(backlog/0008 drops the table), so nothing is counted twice: a story's demand is its highlights'.

Demand is recomputed here for the stories touched (historical models and the pure formula of
discovery/demand.py); the worker recomputes the products whole afterwards (scores that read demand
included) when a broker is there.
"""

from decimal import Decimal

from django.db import migrations


def move_feedback(apps, schema_editor):
    from discovery.demand import highlight_weight

    Feedback = apps.get_model("backlog", "Feedback")
    Insight = apps.get_model("discovery", "Insight")
    Highlight = apps.get_model("discovery", "Highlight")
    Company = apps.get_model("discovery", "Company")
    Segment = apps.get_model("roadmaps", "Segment")
    Story = apps.get_model("backlog", "Story")
    BacklogSettings = apps.get_model("backlog", "BacklogSettings")
    products: set[int] = set()
    for fb in Feedback.objects.order_by("id").iterator(chunk_size=500):
        products.add(fb.product_id)
        customer = (fb.customer or "").strip()[:160] or "Unknown customer"
        company = Company.objects.filter(product_id=fb.product_id, name__iexact=customer).order_by("id").first()
        if company is None:
            segment = None
            if (fb.segment or "").strip():
                name = fb.segment.strip()[:120]
                segment = (Segment.objects.filter(product_id=fb.product_id, name__iexact=name).order_by("id").first()
                           or Segment.objects.create(product_id=fb.product_id, name=name))
            company = Company.objects.create(product_id=fb.product_id, name=customer, segment=segment)
        source = f" ({fb.source})" if fb.source else ""
        insight, _ = Insight.objects.get_or_create(
            product_id=fb.product_id, key=f"feedback-{fb.id}",
            defaults={"title": f"{customer}{source}"[:200], "text": fb.quote, "channel": "feedback",
                      "state": "reviewed", "author_name": customer, "created_by_id": fb.created_by_id})
        if insight.company_id is None:
            Insight.objects.filter(pk=insight.pk).update(company=company)
        importance = min(max(int(fb.importance or 3), 1), 5)
        passage = fb.quote or customer
        Highlight.objects.bulk_create(
            [Highlight(insight_id=insight.pk, passage=passage, importance=importance, story_id=s)
             for s in fb.stories.values_list("id", flat=True)]
            + [Highlight(insight_id=insight.pk, passage=passage, importance=importance, epic_id=e)
               for e in fb.epics.values_list("id", flat=True)])
        fb.delete()
    for product_id in sorted(products):
        settings = BacklogSettings.objects.filter(product_id=product_id).first()
        weights = (settings.segment_weights if settings else None) or {}
        totals: dict[int, Decimal] = {}
        for story_id, importance, revenue, segment in (
                Highlight.objects.filter(insight__product_id=product_id, story__isnull=False)
                .values_list("story_id", "importance", "insight__company__revenue", "insight__company__segment__name")):
            w = float(weights.get(segment, 1)) if segment else 1.0
            totals[story_id] = totals.get(story_id, Decimal(0)) + highlight_weight(
                importance=importance, segment_weight=w, revenue=revenue)
        for story in Story.objects.filter(product_id=product_id).only("id", "demand"):
            value = totals.get(story.id, Decimal(0)).quantize(Decimal("0.01"))
            if value != story.demand:
                Story.objects.filter(pk=story.pk).update(demand=value)
    if products:
        from functools import partial

        from django.db import transaction

        def requeue():
            from pmhub.celery import queue_or_leave

            from discovery.tasks import demand_recompute

            for product_id in sorted(products):
                queue_or_leave(demand_recompute, product_id)

        transaction.on_commit(partial(requeue))


class Migration(migrations.Migration):
    dependencies = [("discovery", "0010_portal_logo"), ("backlog", "0007_search_gin_indexes"),
                    ("roadmaps", "0005_share_link_view_and_filters")]

    operations = [migrations.RunPython(move_feedback, migrations.RunPython.noop, elidable=False)]
