# What a peer announces of its protocol versions (federation.protocols).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0010_read_generation"),
    ]

    operations = [
        migrations.AddField(
            model_name="peer",
            name="protocols",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="peer",
            name="protocols_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
