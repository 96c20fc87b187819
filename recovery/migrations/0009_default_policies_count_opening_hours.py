"""The default SLA policies for high, medium and low incidents count opening hours only.

Under the defaults every hour counted, so a high incident logged at 23:04 was due for a first
response at 03:04. Only policies still holding their seeded promise are changed; a policy a
manager has edited keeps what they chose. Critical incidents keep counting every hour.
"""

from datetime import timedelta

from django.db import migrations

SEEDED = {
    "high": (timedelta(hours=4), timedelta(days=3)),
    "medium": (timedelta(days=1), timedelta(days=7)),
    "low": (timedelta(days=3), timedelta(days=14)),
}


def count_opening_hours(apps, schema_editor):
    SlaPolicy = apps.get_model("recovery", "SlaPolicy")
    for severity, (respond, resolve) in SEEDED.items():
        SlaPolicy.objects.filter(
            severity=severity, respond_within=respond, resolve_within=resolve, opening_hours_only=False
        ).update(opening_hours_only=True)


class Migration(migrations.Migration):
    dependencies = [("recovery", "0008_safety_category")]

    operations = [migrations.RunPython(count_opening_hours, migrations.RunPython.noop)]
