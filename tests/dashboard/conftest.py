"""Helpers for the dashboard's tests: feedback built quickly and summarised, a metric goals can use."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from dashboard.summaries import feedback_days_refresh
from feedback.analysis import is_negative, sentiment
from feedback.models import ThemeMention
from servicedesk import metrics
from servicedesk.metrics import Filters, Metric, Period, Unit
from tests.factories import AnswerFactory, QuestionFactory, ResponseFactory, SurveyFactory


def _fixed(*, period: Period, filters: Filters) -> float | None:
    """A metric whose value the goal's parameters set: ``now`` for the current period, ``before`` earlier."""
    current = period.end >= timezone.now() - timedelta(minutes=5)
    raw = filters.param("now" if current else "before")
    return None if raw in (None, "") else float(raw)


FIXED = metrics.register(
    Metric(key="tests.fixed", label="Fixed figure", unit=Unit.PERCENT, higher_is_better=True, compute=_fixed)
)


def _earlier_today() -> datetime:
    """An hour ago, or the practice's midnight if that was yesterday: "today's" feedback at any hour."""
    now = timezone.localtime()
    return max(now - timedelta(hours=1), now.replace(hour=0, minute=0, second=0, microsecond=0))


class FeedbackMaker:
    """Patient responses with one FFT answer (and optionally an NPS answer), on one kiosk survey."""

    def __init__(self) -> None:
        self.survey = SurveyFactory(slug="dashboard-kiosk")
        self.fft = QuestionFactory(survey=self.survey, kind="fft")
        self.nps = QuestionFactory(survey=self.survey, kind="nps")
        self.text = QuestionFactory(survey=self.survey, kind="text")

    def __call__(
        self,
        n: int = 1,
        *,
        choice: str = "very_good",
        nps: int | None = None,
        when: datetime | None = None,
        comment: str = "",
        themes: tuple = (),
        **fields: object,
    ) -> list:
        values = {"very_good": 5, "good": 4, "neither": 3, "poor": 2, "very_poor": 1, "dont_know": None}
        comment = comment or ", ".join(theme.name for theme in themes)  # a theme is found in a comment
        made = []
        for _i in range(n):
            response = ResponseFactory(
                survey=self.survey,
                submitted_at=when or _earlier_today(),
                is_negative=choice in ("poor", "very_poor"),
                **fields,
            )
            AnswerFactory(response=response, question=self.fft, choice=choice, value=values[choice])
            if nps is not None:
                AnswerFactory(response=response, question=self.nps, choice="", value=nps)
            if comment:
                answer = AnswerFactory(
                    response=response, question=self.text, choice="", value=None, text=comment
                )
            if themes:
                response.themes.add(*themes)
                # Tagged as a submission would: the whole comment, with its own sentiment.
                score = sentiment(comment)
                ThemeMention.objects.bulk_create(
                    ThemeMention(
                        answer=answer,
                        response=response,
                        theme=theme,
                        end=len(comment),
                        sentiment=score,
                        is_negative=is_negative(score),
                    )
                    for theme in themes
                )
            made.append(response)
        return made


@pytest.fixture
def feedback(db) -> FeedbackMaker:
    return FeedbackMaker()


@pytest.fixture
def summarise():
    """Recount the dashboard's feedback summaries over the last 400 days (what the sweep does)."""

    def _summarise(days: int = 400) -> None:
        today = timezone.localdate()
        feedback_days_refresh(days=[today - timedelta(days=i) for i in range(days)])

    return _summarise
