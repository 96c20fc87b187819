"""The dashboard's tables move to the dashboard app: the core forgets them, the tables stay.

Only Django's picture of the models changes (state); no table is dropped. ``dashboard.0001``
takes them over under the same table names.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("servicedesk", "0005_closed_days"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DigestDelivery"),
                migrations.DeleteModel(name="FeedbackThemeDay"),
                migrations.DeleteModel(name="FeedbackDay"),
            ],
            database_operations=[],
        ),
    ]
