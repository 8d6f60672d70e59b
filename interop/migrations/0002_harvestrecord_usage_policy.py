from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="harvestrecord",
            name="usage_policy",
            field=models.JSONField(
                blank=True,
                help_text="The usage policy the source offers (a DCAT record's ODRL offer, read back by the usage policy standard); null when it states none the standard can hold. A product holds no policy of its own: kept for the operators, who set the offer of each deal.",
                null=True,
            ),
        ),
    ]
