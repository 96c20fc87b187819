"""Tagging per comment keeps every answer and tags the comments already stored (feedback 0014),
and better default keywords replace only the ones a practice never edited (feedback 0013)."""

from __future__ import annotations

import pytest

from feedback.models import Answer, Theme, ThemeMention
from tests.factories import AnswerFactory, QuestionFactory, ResponseFactory
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)


def test_stored_comments_are_tagged_per_clause_and_edited_keywords_are_kept():
    # The themes 0003 seeded (an earlier transactional test may have flushed them).
    from importlib import import_module

    for name, keywords in import_module("feedback.migrations.0003_seed_themes").THEMES.items():
        Theme.objects.update_or_create(name=name, defaults={"keywords": keywords, "is_active": True})
    question = QuestionFactory(kind="text")
    for text in ("Friendly staff but we waited an hour", "Clean waiting room and everyone was polite", ""):
        AnswerFactory(
            response=ResponseFactory(survey=question.survey), question=question, choice="", text=text
        )
    Theme.objects.filter(name="Billing").update(keywords="invoice\nmy own word")  # a practice's edit
    answers = Answer.objects.count()

    migrate([("feedback", "0012_theme_mentions_per_comment")])
    Theme.objects.filter(name="Wait time").update(
        keywords="wait*\nlate\ndelay*\nqueue*\nhour*\nminutes\nkept waiting\nesper*\nretraso\ncola"
    )
    migrate_to_latest()

    assert Answer.objects.count() == answers
    found = {
        (m.answer.text, m.theme.name): m.is_negative
        for m in ThemeMention.objects.select_related("answer", "theme")
    }
    assert found[("Friendly staff but we waited an hour", "Wait time")] is True
    assert found[("Friendly staff but we waited an hour", "Staff attitude")] is False
    assert (
        "Clean waiting room and everyone was polite",
        "Wait time",
    ) not in found  # 0013 runs first
    assert Theme.objects.get(name="Billing").keywords == "invoice\nmy own word"
    assert "-waiting room" in Theme.objects.get(name="Wait time").keywords

    migrate_to_latest()  # a rerun adds nothing
    assert ThemeMention.objects.count() == len(found)
