"""Quarantine bounded per source: a digest per case (a repeat raises its count and last_seen), the bytes of
each raw body, and the overflow counted per source. Rows quarantined before keep what they hold: digest
`legacy:<id>` (each its own case), last_seen = created_at, raw_bytes = the length of raw (in characters, near
enough for the bound) — so a node already filled by a peer is over that peer's bound at once."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Cast, Concat, Length


def legacy_rows(apps, schema_editor):
    QuarantinedEntry = apps.get_model("federation", "QuarantinedEntry")
    QuarantinedEntry.objects.update(
        digest=Concat(
            Value("legacy:"), Cast("id", output_field=models.CharField()), output_field=models.CharField()
        ),
        last_seen=F("created_at"),
        raw_bytes=Length("raw"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0005_origincounter_wake_queued_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="QuarantineOverflow",
            fields=[
                ("source", models.CharField(max_length=8, primary_key=True, serialize=False)),
                ("entries", models.PositiveBigIntegerField(default=0)),
                ("first_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("logged_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.AddField(
            model_name="quarantinedentry",
            name="count",
            field=models.PositiveBigIntegerField(default=1, help_text="How many times it was refused."),
        ),
        migrations.AddField(
            model_name="quarantinedentry",
            name="digest",
            field=models.CharField(
                default="",
                help_text="SHA-256 (hex) of the reason and the refused item without its seq and signature; legacy:<id> for a row quarantined before digests.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="quarantinedentry",
            name="last_seen",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="quarantinedentry",
            name="raw_bytes",
            field=models.PositiveIntegerField(
                default=0, help_text="UTF-8 bytes of raw: what the bound counts."
            ),
        ),
        migrations.AlterField(
            model_name="quarantinedentry",
            name="raw",
            field=models.TextField(
                blank=True, help_text="The entry as received (JSON); empty beyond the bounds."
            ),
        ),
        migrations.AlterField(
            model_name="quarantinedentry",
            name="seq",
            field=models.PositiveBigIntegerField(help_text="Where the case was first seen."),
        ),
        migrations.RunPython(legacy_rows, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="quarantinedentry",
            constraint=models.UniqueConstraint(fields=("source", "origin", "digest"), name="quarantine_case"),
        ),
    ]
