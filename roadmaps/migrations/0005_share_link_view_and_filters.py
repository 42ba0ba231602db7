"""Share links choose their view and filters; existing links keep showing the whole timeline."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("roadmaps", "0004_search_gin_indexes")]

    operations = [
        migrations.AddField(
            model_name="sharelink", name="view",
            field=models.CharField(choices=[("timeline", "Timeline"), ("board", "Now / Next / Later board"),
                                            ("list", "List")], default="timeline", max_length=10)),
        migrations.AddField(model_name="sharelink", name="filters", field=models.JSONField(blank=True, default=dict)),
        migrations.AddField(
            model_name="sharelink", name="allow_present",
            field=models.BooleanField(default=False, help_text="The link also opens presentation mode.")),
    ]
