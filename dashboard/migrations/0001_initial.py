"""The dashboard app takes over the summary and digest tables the core created (servicedesk.0003).

The tables already exist with their rows, so this migration changes Django's picture of the
models only (state) and leaves the database alone; content types follow the models, so
permissions and admin history stay attached to them.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

MOVED = ("feedbackday", "feedbackthemeday", "digestdelivery")


def content_types_follow(apps, schema_editor, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor):
    content_types_follow(apps, schema_editor, source="servicedesk", target="dashboard")


def backwards(apps, schema_editor):
    content_types_follow(apps, schema_editor, source="dashboard", target="servicedesk")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("design", "0001_initial"),
        ("feedback", "0007_negative_latest_index"),
        ("servicedesk", "0006_dashboard_models_move_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DigestDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('week_of', models.DateField(help_text='The Monday of the week the digest is about.')),
                        ('sent_at', models.DateTimeField()),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'servicedesk_digestdelivery',
                        'constraints': [models.UniqueConstraint(fields=('week_of', 'recipient'), name='digest_once_per_week_and_manager')],
                    },
                ),
                migrations.CreateModel(
                    name='FeedbackDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('responses', models.PositiveIntegerField(default=0)),
                        ('negative', models.PositiveIntegerField(default=0)),
                        ('fft_very_good', models.PositiveIntegerField(default=0)),
                        ('fft_good', models.PositiveIntegerField(default=0)),
                        ('fft_neither', models.PositiveIntegerField(default=0)),
                        ('fft_poor', models.PositiveIntegerField(default=0)),
                        ('fft_very_poor', models.PositiveIntegerField(default=0)),
                        ('fft_dont_know', models.PositiveIntegerField(default=0)),
                        ('nps_promoters', models.PositiveIntegerField(default=0)),
                        ('nps_passives', models.PositiveIntegerField(default=0)),
                        ('nps_detractors', models.PositiveIntegerField(default=0)),
                        ('invitations_delivered', models.PositiveIntegerField(default=0)),
                        ('invitations_answered', models.PositiveIntegerField(default=0)),
                        ('refreshed_at', models.DateTimeField()),
                        ('location', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='servicedesk.location')),
                        ('need_profile', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='design.patientneedprofile')),
                        ('touchpoint', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='servicedesk.touchpoint')),
                    ],
                    options={
                        'db_table': 'servicedesk_feedbackday',
                        'indexes': [models.Index(fields=['day'], name='feedbackday_day'), models.Index(fields=['location', 'day'], name='feedbackday_location_day'), models.Index(fields=['touchpoint', 'day'], name='feedbackday_touchpoint_day'), models.Index(fields=['need_profile', 'day'], name='feedbackday_profile_day')],
                        'constraints': [models.UniqueConstraint(models.F('day'), django.db.models.functions.comparison.Coalesce('location', models.Value(0)), django.db.models.functions.comparison.Coalesce('touchpoint', models.Value(0)), django.db.models.functions.comparison.Coalesce('need_profile', models.Value(0)), name='feedbackday_one_row_per_day_and_place')],
                    },
                ),
                migrations.CreateModel(
                    name='FeedbackThemeDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('mentions', models.PositiveIntegerField(default=0)),
                        ('negative_mentions', models.PositiveIntegerField(default=0)),
                        ('location', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='servicedesk.location')),
                        ('need_profile', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='design.patientneedprofile')),
                        ('theme', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='feedback.theme')),
                        ('touchpoint', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='servicedesk.touchpoint')),
                    ],
                    options={
                        'db_table': 'servicedesk_feedbackthemeday',
                        'indexes': [models.Index(fields=['day', 'theme'], name='feedbackthemeday_day_theme')],
                        'constraints': [models.UniqueConstraint(models.F('day'), models.F('theme'), django.db.models.functions.comparison.Coalesce('location', models.Value(0)), django.db.models.functions.comparison.Coalesce('touchpoint', models.Value(0)), django.db.models.functions.comparison.Coalesce('need_profile', models.Value(0)), name='feedbackthemeday_one_row_per_day_theme_and_place')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
