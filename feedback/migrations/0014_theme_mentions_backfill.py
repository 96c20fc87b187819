"""Tag every existing comment per clause (``ThemeMention``), as new answers now are.

Reads the comments in batches by primary key, so two million answers never sit in memory; a rerun
adds nothing (one mention per comment and theme). Reversing removes the mentions it made.
"""

from django.db import migrations

BATCH = 2000


def backfill(apps, schema_editor):
    from feedback.analysis import ThemeMatcher

    Theme = apps.get_model("feedback", "Theme")
    Answer = apps.get_model("feedback", "Answer")
    ThemeMention = apps.get_model("feedback", "ThemeMention")
    matcher = ThemeMatcher.from_keywords(
        (theme.pk, [line.strip().lower() for line in theme.keywords.splitlines() if line.strip()])
        for theme in Theme.objects.filter(is_active=True)
    )
    if not matcher.patterns:
        return
    last = 0
    while True:
        batch = list(
            Answer.objects.filter(pk__gt=last).exclude(text="").order_by("pk").values_list("pk", "response_id", "text")[
                :BATCH
            ]
        )
        if not batch:
            return
        last = batch[-1][0]
        ThemeMention.objects.bulk_create(
            [
                ThemeMention(
                    answer_id=pk,
                    response_id=response_id,
                    theme_id=mention.theme_id,
                    start=mention.start,
                    end=mention.end,
                    sentiment=mention.sentiment,
                    is_negative=mention.is_negative,
                )
                for pk, response_id, text in batch
                for mention in matcher.mentions(text)
            ],
            ignore_conflicts=True,
        )


def remove(apps, schema_editor):
    apps.get_model("feedback", "ThemeMention").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("feedback", "0013_default_theme_keywords_per_clause")]

    operations = [migrations.RunPython(backfill, remove, elidable=True)]
