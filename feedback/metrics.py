"""The figures feedback contributes to goals and the dashboard (registered in FeedbackConfig.ready()).

Every metric honours the period and the location, touchpoint and need-profile filters, and the
optional params ``survey_id`` (one survey) and, for ``mean_rating``, ``question_id``. Ratios
(percentages, NPS, means) are None below the small-number threshold: a goal is never judged, nor
a dashboard tile shown, on fewer than five answers.
"""

from __future__ import annotations

from django.db.models import Avg, Count, Q, QuerySet

from feedback import figures
from feedback.figures import FftCounts, NpsCounts
from feedback.models import Answer, Question, Response
from servicedesk.figures import too_few
from servicedesk.metrics import Filters, Metric, Number, Period, Unit, register


def responses(*, period: Period, filters: Filters) -> QuerySet[Response]:
    qs = Response.objects.in_period(period.start, period.end).filter(channel__in=_patient_channels())
    return _narrow(qs, filters, prefix="")


def _answers(kind: str, *, period: Period, filters: Filters) -> QuerySet[Answer]:
    qs = Answer.objects.in_period(period.start, period.end).filter(  # both tables pruned by month
        question__kind=kind, response__channel__in=_patient_channels()
    )
    return _narrow(qs, filters, prefix="response__")


def _patient_channels() -> list[str]:
    # Staff pulse answers describe the team, not the patient's experience: kept out of patient figures.
    return [c for c in Response.Channel.values if c != Response.Channel.STAFF]


def narrow_to_place(qs: QuerySet, filters: Filters, *, prefix: str = "") -> QuerySet:
    """Rows at the filters' location, touchpoint and need profile (each only when set)."""
    return qs.filter(
        **filters.at_place(
            location=f"{prefix}location",
            touchpoint=f"{prefix}touchpoint",
            need_profile=f"{prefix}need_profile",
        )
    )


def _narrow(qs: QuerySet, filters: Filters, *, prefix: str) -> QuerySet:
    qs = narrow_to_place(qs, filters, prefix=prefix)
    survey_id = _int(filters.param("survey_id"))
    return qs if survey_id is None else qs.filter(**{f"{prefix}survey_id": survey_id})


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def fft_counts(*, period: Period, filters: Filters) -> FftCounts:
    """The query behind FFT % positive and negative: patient FFT answers in the period, one aggregate."""
    counts = _answers(Question.Kind.FFT, period=period, filters=filters).aggregate(
        total=Count("pk"),
        positive=Count("pk", filter=Q(choice__in=Answer.FFT_POSITIVE)),
        negative=Count("pk", filter=Q(choice__in=Answer.FFT_NEGATIVE)),
    )
    return FftCounts(**counts)


def nps_counts(*, period: Period, filters: Filters) -> NpsCounts:
    """The query behind NPS: patient 0-10 answers in the period, one aggregate."""
    counts = (
        _answers(Question.Kind.NPS, period=period, filters=filters)
        .exclude(value__isnull=True)
        .aggregate(
            promoters=Count("pk", filter=Q(value__gte=9)),
            passives=Count("pk", filter=Q(value__gte=7, value__lte=8)),
            detractors=Count("pk", filter=Q(value__lte=6)),
        )
    )
    return NpsCounts(**counts)


def fft_positive_pct(*, period: Period, filters: Filters) -> Number | None:
    return figures.fft_positive_pct(fft_counts(period=period, filters=filters))


def fft_negative_pct(*, period: Period, filters: Filters) -> Number | None:
    return figures.fft_negative_pct(fft_counts(period=period, filters=filters))


def nps(*, period: Period, filters: Filters) -> Number | None:
    return figures.nps(nps_counts(period=period, filters=filters))


def _ratings(*, period: Period, filters: Filters) -> QuerySet[Answer]:
    qs = _answers(Question.Kind.RATING, period=period, filters=filters).exclude(value__isnull=True)
    question_id = _int(filters.param("question_id"))
    return qs if question_id is None else qs.filter(question_id=question_id)


def mean_rating(*, period: Period, filters: Filters) -> float | None:
    result = _ratings(period=period, filters=filters).aggregate(n=Count("pk"), mean=Avg("value"))
    return None if too_few(result["n"]) else result["mean"]


def rating_answers(*, period: Period, filters: Filters) -> int:
    return _ratings(period=period, filters=filters).count()


def fft_answers(*, period: Period, filters: Filters) -> int:
    return fft_counts(period=period, filters=filters).total


def nps_answers(*, period: Period, filters: Filters) -> int:
    return nps_counts(period=period, filters=filters).total


def response_count(*, period: Period, filters: Filters) -> int:
    return responses(period=period, filters=filters).count()


def negative_count(*, period: Period, filters: Filters) -> int:
    return responses(period=period, filters=filters).negative().count()


def register_all() -> None:
    for metric in (
        Metric(
            key="feedback.fft_positive_pct",
            label="FFT positive",
            unit=Unit.PERCENT,
            higher_is_better=True,
            compute=fft_positive_pct,
            description="Friends and Family Test answers that were very good or good, as a % of all answers.",
            sample=fft_answers,
            sample_noun="Friends and Family Test answers",
            small_sample=True,
        ),
        Metric(
            key="feedback.fft_negative_pct",
            label="FFT negative",
            unit=Unit.PERCENT,
            higher_is_better=False,
            compute=fft_negative_pct,
            description="Friends and Family Test answers that were poor or very poor, as a % of all answers.",
            sample=fft_answers,
            sample_noun="Friends and Family Test answers",
            small_sample=True,
        ),
        Metric(
            key="feedback.nps",
            label="Net Promoter Score",
            unit=Unit.SCORE,
            higher_is_better=True,
            compute=nps,
            description="From 0-10 answers: % giving 9-10 minus % giving 0-6 (-100 to +100).",
            sample=nps_answers,
            sample_noun="0-10 answers",
            small_sample=True,
        ),
        Metric(
            key="feedback.mean_rating",
            label="Mean rating",
            unit=Unit.RATING,
            higher_is_better=True,
            compute=mean_rating,
            description="Mean of 1-5 rating answers; param question_id narrows it to one question.",
            sample=rating_answers,
            sample_noun="1-5 rating answers",
            small_sample=True,
        ),
        Metric(
            key="feedback.response_count",
            label="Feedback responses",
            unit=Unit.COUNT,
            higher_is_better=True,
            compute=response_count,
            description="Patient survey responses received (staff pulse excluded).",
        ),
        Metric(
            key="feedback.negative_count",
            label="Negative feedback",
            unit=Unit.COUNT,
            higher_is_better=False,
            compute=negative_count,
            description="Responses that met their survey's negative rules.",
        ),
    ):
        register(metric)
