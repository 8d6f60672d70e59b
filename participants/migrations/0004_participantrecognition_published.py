# Which of this node's participant recognitions are in its change log (protocol 2 publishes only exceptions).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0003_trust_first_seen_standing_conflicts"),
    ]

    operations = [
        migrations.AddField(
            model_name="participantrecognition",
            name="published",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text=(
                    "In the change log: every record held from a peer; of this node's own, those it published "
                    "(participant recognition protocol 2 publishes only exceptions: participants.verdicts). Once "
                    "published, always published, so peers hold its latest."
                ),
            ),
        ),
    ]
