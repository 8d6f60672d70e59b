"""Seed the 24 signatories of the initiative from standards/data/exchanges.csv (a copy of shared/data)."""

import csv
from pathlib import Path

from django.db import migrations

CSV_PATH = Path(__file__).resolve().parents[2] / "standards" / "data" / "exchanges.csv"


def seed(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    with CSV_PATH.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            Exchange.objects.update_or_create(
                code=row["code"],
                defaults={
                    "order": int(row["order"]),
                    "name_zh": row["name_zh"],
                    "name_en": row["name_en"],
                    "province_code": row["province_code"],
                    "province_zh": row["province_zh"],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("exchanges", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
