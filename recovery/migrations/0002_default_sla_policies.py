"""Every practice starts with an SLA policy per severity; managers adjust them on the SLA page."""

from datetime import timedelta

from django.db import migrations

# (severity, respond within, resolve within, second escalation step after the deadline).
# The same promise as recovery.services.DEFAULT_SLA: the second step fires one response window late.
DEFAULTS = [
    ("critical", timedelta(minutes=30), timedelta(days=1), timedelta(minutes=30)),
    ("high", timedelta(hours=4), timedelta(days=3), timedelta(hours=4)),
    ("medium", timedelta(days=1), timedelta(days=7), timedelta(days=1)),
    ("low", timedelta(days=3), timedelta(days=14), timedelta(days=3)),
]


def create_policies(apps, schema_editor):
    SlaPolicy = apps.get_model("recovery", "SlaPolicy")
    EscalationStep = apps.get_model("recovery", "EscalationStep")
    for severity, respond, resolve, second in DEFAULTS:
        policy, created = SlaPolicy.objects.get_or_create(
            severity=severity, defaults={"respond_within": respond, "resolve_within": resolve}
        )
        if created:
            # Managers hear at once when a deadline is missed, and again if it stays missed.
            EscalationStep.objects.create(policy=policy, level=1, after=timedelta(0), notify_role="Managers")
            EscalationStep.objects.create(policy=policy, level=2, after=second, notify_role="Managers")


class Migration(migrations.Migration):
    dependencies = [("recovery", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
