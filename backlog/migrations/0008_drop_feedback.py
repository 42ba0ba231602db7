"""The backlog's own feedback table goes: customer feedback lives in discovery's insights inbox
(decision 1613). discovery/0011 moves every remaining row into the inbox first."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('backlog', '0007_search_gin_indexes'),
        ('discovery', '0011_feedback_into_inbox'),
    ]

    operations = [
        migrations.DeleteModel(
            name='Feedback',
        ),
    ]
