"""The adoption demo stored a KPI unit as its label "%" instead of the key "percent" (outside the
choices, so the API answered a value its schema does not allow). Store the key."""

from django.db import migrations


def unit_keys(apps, schema_editor):
    Kpi = apps.get_model("metrics", "Kpi")
    Kpi.objects.filter(unit="%").update(unit="percent")


class Migration(migrations.Migration):
    dependencies = [("metrics", "0004_metrics_version_for_optimistic_locking")]

    operations = [migrations.RunPython(unit_keys, migrations.RunPython.noop, elidable=True)]
