from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Exchange",
            fields=[
                ("code", models.CharField(max_length=8, primary_key=True, serialize=False)),
                (
                    "order",
                    models.PositiveSmallIntegerField(
                        help_text="Order in the initiative's list of signatories.", unique=True
                    ),
                ),
                ("name_zh", models.CharField(max_length=64)),
                ("name_en", models.CharField(max_length=128)),
                ("province_code", models.CharField(help_text="GB/T 2260 province-level code.", max_length=6)),
                ("province_zh", models.CharField(max_length=16)),
                ("runs_node", models.BooleanField(default=False)),
                ("node_url", models.URLField(blank=True)),
            ],
            options={"ordering": ["order"]},
        ),
    ]
