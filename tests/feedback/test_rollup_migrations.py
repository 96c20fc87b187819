"""The month sums are made from the daily roll-up a practice already has, so an upgraded practice's
results page reads the same figures the day it upgrades."""

from __future__ import annotations

from datetime import date

import pytest

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("feedback", "0016_invitation_list_index")]


@pytest.mark.django_db(transaction=True)
def test_the_months_are_summed_from_the_days_already_rolled_up():
    old = migrate(BEFORE)
    Survey = old.get_model("feedback", "Survey")
    Question = old.get_model("feedback", "Question")
    Location = old.get_model("servicedesk", "Location")
    AnswerDay = old.get_model("feedback", "AnswerDay")
    survey = Survey.objects.create(title="After your visit (migration test)", slug="migrating-months")
    fft = Question.objects.create(survey=survey, kind="fft", text="How was it?")
    site = Location.objects.create(name="Riverside (month migration test)")
    answers = [
        (date(2026, 10, 31), site, "good", 3),
        (date(2026, 11, 1), site, "good", 4),
        (date(2026, 11, 30), site, "good", 5),
        (date(2026, 11, 30), None, "good", 1),
        (date(2026, 11, 2), site, "poor", 2),
    ]
    for day, location, choice, n in answers:
        AnswerDay.objects.create(
            day=day, survey=survey, question=fft, location=location, choice=choice, value=4, answers=n
        )

    migrate_to_latest()

    from feedback.models import AnswerMonth

    months = AnswerMonth.objects.filter(survey_id=survey.pk)
    assert {(m.day, m.location_id, m.choice, m.answers) for m in months} == {
        (date(2026, 10, 1), site.pk, "good", 3),
        (date(2026, 11, 1), site.pk, "good", 9),
        (date(2026, 11, 1), site.pk, "poor", 2),
        (date(2026, 11, 1), None, "good", 1),
    }
