import pytest

from feedback.models import Question
from tests.factories import QuestionFactory, SurveyFactory


@pytest.fixture(autouse=True)
def _no_minimum_fill_time(settings):
    """Tests post forms instantly; the minimum fill time has its own tests."""
    settings.FEEDBACK_MIN_FILL_SECONDS = 0


@pytest.fixture
def kiosk_survey(db):
    """A live kiosk survey: required FFT, then a free-text question, with contact details offered."""
    survey = SurveyFactory(slug="kiosk", is_anonymous=False, title="Kiosk", title_es="Quiosco")
    QuestionFactory(
        survey=survey,
        position=0,
        kind=Question.Kind.FFT,
        required=True,
        text="Overall?",
        text_es="¿En general?",
    )
    QuestionFactory(survey=survey, position=1, kind=Question.Kind.TEXT, text="Why?", text_es="¿Por qué?")
    return survey


def fields_for(survey) -> dict[str, object]:
    return {q.text: f"q{q.pk}" for q in survey.questions.live()}
