from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.metrics import register_all
from servicedesk.metrics import Filters, Period, registry
from tests.factories import AnswerFactory, LocationFactory, QuestionFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db

KEYS = [
    "feedback.fft_positive_pct",
    "feedback.fft_negative_pct",
    "feedback.nps",
    "feedback.mean_rating",
    "feedback.response_count",
    "feedback.negative_count",
]


@pytest.fixture
def period():
    now = timezone.now()
    return Period.last_days(30, now=now + timedelta(seconds=1))


def _answers(kind, values, **response_fields):
    survey = SurveyFactory()
    question = QuestionFactory(survey=survey, kind=kind)
    for value in values:
        response = ResponseFactory(survey=survey, **response_fields)
        if kind == "fft":
            AnswerFactory(response=response, question=question, choice=value, value=None)
        else:
            AnswerFactory(response=response, question=question, choice="", value=value)
    return survey, question


def test_every_feedback_metric_is_registered_and_filterable():
    register_all()  # registering again is harmless
    for key in KEYS:
        metric = registry.get(key)
        assert metric is not None, key
        assert {"location_id", "touchpoint_id", "need_profile_id"} <= metric.filterable_by


def test_fft_metrics(period):
    _answers("fft", ["very_good", "good", "good", "neither", "poor", "very_poor", "dont_know", "good"])
    assert registry.value("feedback.fft_positive_pct", period=period) == 50.0
    assert registry.value("feedback.fft_negative_pct", period=period) == 25.0


def test_ratio_metrics_say_no_data_below_five_answers(period):
    _answers("fft", ["poor", "poor"])
    _answers("nps", [0, 0])
    assert registry.value("feedback.fft_negative_pct", period=period) is None
    assert registry.value("feedback.nps", period=period) is None
    assert registry.value("feedback.response_count", period=period) == 4


def test_nps_and_mean_rating(period):
    _answers("nps", [10, 9, 9, 7, 3])
    _survey, question = _answers("rating", [5, 4, 4, 3, 2])
    _answers("rating", [1, 1, 1, 1, 1])
    assert registry.value("feedback.nps", period=period) == 40.0
    assert registry.value("feedback.mean_rating", period=period) == 2.3
    one = Filters().with_params(question_id=str(question.pk))
    assert registry.value("feedback.mean_rating", period=period, filters=one) == 3.6


def test_metrics_are_cut_by_location_and_period(period):
    here, there = LocationFactory(), LocationFactory()
    _answers("fft", ["good"] * 5, location=here)
    _answers("fft", ["poor"] * 5, location=there)
    _answers("fft", ["poor"] * 5, location=here, submitted_at=timezone.now() - timedelta(days=60))
    assert (
        registry.value("feedback.fft_positive_pct", period=period, filters=Filters(location_id=here.pk))
        == 100.0
    )
    assert (
        registry.value(
            "feedback.fft_positive_pct", period=period.previous(), filters=Filters(location_id=here.pk)
        )
        is None
    )
    assert registry.value("feedback.response_count", period=period) == 10


def test_negative_count_and_staff_pulse_excluded(period):
    ResponseFactory(is_negative=True)
    ResponseFactory(is_negative=False)
    ResponseFactory(is_negative=True, channel="staff")
    assert registry.value("feedback.negative_count", period=period) == 1
    assert registry.value("feedback.response_count", period=period) == 2


def test_metrics_are_cut_by_need_profile(period):
    from design.models import PatientNeedProfile

    profile = PatientNeedProfile.objects.create(name="Needs an interpreter")
    ResponseFactory(need_profile=profile)
    ResponseFactory()
    assert (
        registry.value("feedback.response_count", period=period, filters=Filters(need_profile_id=profile.pk))
        == 1
    )
