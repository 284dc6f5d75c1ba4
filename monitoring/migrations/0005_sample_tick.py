"""Samples are unique per monitor and tick (Unix seconds), no longer per ``created``.

Without ``USE_TZ``, ``created`` is the site's wall clock, which repeats an
hour when the clocks go back: the second tick of that hour was refused as
taken. Existing rows get their tick from ``created``: a naive one is read in
``TIME_ZONE`` (a time of a repeated hour as its first instant).
"""

import datetime as dt

from django.db import migrations, models
from django.utils import timezone


def fill_ticks(apps, schema_editor):
    Sample = apps.get_model("monitoring", "Sample")
    rows = Sample.objects.using(schema_editor.connection.alias)
    zone = timezone.get_default_timezone()
    batch = []
    for row in rows.only("pk", "created").iterator(chunk_size=2000):
        created = row.created
        if timezone.is_naive(created):
            created = created.replace(tzinfo=zone)
        row.tick = int(created.astimezone(dt.timezone.utc).timestamp())
        batch.append(row)
        if len(batch) == 2000:
            rows.bulk_update(batch, ["tick"])
            batch = []
    rows.bulk_update(batch, ["tick"])


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_alerts"),
    ]

    operations = [
        migrations.AddField(
            model_name="sample",
            name="tick",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(fill_ticks, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(model_name="sample", name="monitoring_sample_key"),
        migrations.AlterField(
            model_name="sample",
            name="tick",
            field=models.BigIntegerField(help_text="The tick's start, in Unix seconds."),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.UniqueConstraint(
                fields=("monitor", "tick"), name="monitoring_sample_key"
            ),
        ),
    ]
