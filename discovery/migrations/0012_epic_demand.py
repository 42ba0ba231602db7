"""Epic.demand (backlog/0009) filled once for existing epics: the sum of the highlight weights of the
insights highlighted for the epic or for one of its stories, each highlight once per epic (the
figure of the epic's "Who asked" panel; discovery.selectors.epics_demand). From then on
backlog.services.demand_recompute keeps it, and scores that read demand follow in the worker."""

from decimal import Decimal

from django.db import migrations


def fill_epic_demand(apps, schema_editor):
    from discovery.demand import highlight_weight

    Epic = apps.get_model("backlog", "Epic")
    Highlight = apps.get_model("discovery", "Highlight")
    BacklogSettings = apps.get_model("backlog", "BacklogSettings")
    weights_of = {}
    totals: dict[int, Decimal] = {}
    rows = Highlight.objects.filter(insight__product__isnull=False).values_list(
        "insight__product_id", "epic_id", "story__epic_id", "importance", "insight__company__revenue",
        "insight__company__segment__name")
    for product_id, epic_id, story_epic_id, importance, revenue, segment in rows.iterator(chunk_size=2000):
        if product_id not in weights_of:
            settings = BacklogSettings.objects.filter(product_id=product_id).first()
            weights_of[product_id] = (settings.segment_weights if settings else None) or {}
        w = float(weights_of[product_id].get(segment, 1)) if segment else 1.0
        value = highlight_weight(importance=importance, segment_weight=w, revenue=revenue)
        for target in {epic_id, story_epic_id} - {None}:
            totals[target] = totals.get(target, Decimal(0)) + value
    for epic_id, value in totals.items():
        Epic.objects.filter(pk=epic_id).update(demand=value.quantize(Decimal("0.01")))


class Migration(migrations.Migration):
    dependencies = [("discovery", "0011_feedback_into_inbox"), ("backlog", "0009_epic_demand")]

    operations = [migrations.RunPython(fill_epic_demand, migrations.RunPython.noop, elidable=False)]
