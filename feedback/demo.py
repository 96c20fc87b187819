"""Demo feedback: the three ready-made surveys and about 90 days of responses that read like real ones.

Idempotent: surveys are found by their short address, and responses are only generated for a
survey that has none. ``--responses N`` tops "After your visit" up to at least N responses for
benchmarks (bulk inserts, about 20 seconds per 100,000 on PostgreSQL).
Demo responses are inserted in bulk, so no ``response_submitted`` signal is sent for them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback import analysis
from feedback.forms import Answered
from feedback.invitations import demo as invitation_demo
from feedback.library import READY_MADE
from feedback.models import Answer, Question, Response, Survey, ThemeMention
from feedback.services import mention_rows, negative_reasons, survey_create_from_template
from servicedesk import demo
from servicedesk.models import Touchpoint

DAYS = 90
BATCH = 2000

FFT_WEIGHTS = {"very_good": 52, "good": 26, "neither": 7, "poor": 5, "very_poor": 4, "dont_know": 6}
FFT_NUMBER = {key: number for key, _label, number in Answer.FFT_CHOICES}

COMMENTS = {
    "positive": [
        "Lovely reception staff, very friendly and helpful.",
        "The doctor listened carefully and explained everything clearly.",
        "Seen on time, nurse was kind and gentle with my little one.",
        "Very easy to book an appointment online this time.",
        "Got a same day appointment when I phoned in the morning. Brilliant.",
        "Dr Shah took the time to explain my test results. Thank you.",
        "Clean waiting room and everyone was polite.",
        "Quick and efficient, in and out in twenty minutes.",
        "The nurse was reassuring and professional. Great care as always.",
        "Really appreciated the call back from the practice, very helpful.",
        "Excellent service from start to finish.",
        "Friendly receptionist sorted out my prescription quickly.",
        "Good experience, staff were courteous and respectful.",
        "Always kind, always helpful. Best surgery we have been with.",
    ],
    "neutral": [
        "It was fine.",
        "Appointment went as expected.",
        "Parking was a bit tight but otherwise ok.",
        "Waited about fifteen minutes past my appointment time.",
        "Would be nice to have more evening appointments.",
        "Took a couple of tries to get through on the phone.",
        "The portal is ok once you know where things are.",
        "Nothing to add.",
    ],
    "negative": [
        "Waited 50 minutes past my appointment time and nobody told us why.",
        "The receptionist was rude and dismissive when I asked about my prescription.",
        "Impossible to get through on the phone at 8am, on hold for 40 minutes.",
        "No appointments for three weeks. Terrible access for a sick child.",
        "The doctor rushed me and did not listen to my concerns at all.",
        "Toilets were dirty and the waiting room was cold.",
        "I was charged for a letter nobody told me about, very poor communication.",
        "Could not log in to the online portal, and nobody could help.",
        "Awful experience. Staff were unhelpful and I left without being seen.",
        "Test results were never passed on, I had to chase them myself. Very disappointing.",
        "No parking at all and the lift was broken again.",
    ],
    "spanish_positive": [
        "El personal fue muy amable y la doctora me explicó todo.",
        "Excelente atención, gracias.",
        "Muy buena experiencia, la enfermera fue muy atenta.",
    ],
    "spanish_negative": [
        "Esperé casi una hora y nadie me dijo nada. Pésimo servicio.",
        "La recepcionista fue grosera y no me ayudó con la cita.",
        "Imposible llamar por teléfono, siempre comunica. Muy mal.",
    ],
}
BETTER = [
    "Tell patients when the doctor is running late.",
    "Answer the phone in the mornings. Have more people on the line at 8am.",
    "Train reception staff to be polite and listen.",
    "Offer more appointments, especially for children.",
    "Keep the toilets clean.",
    "Call me back when you say you will.",
]
STAFF_SUGGESTIONS = [
    "A second person on the phones between 8 and 10 would cut the queue in half.",
    "Clearer handover notes between the morning and afternoon reception shifts.",
    "Fix the self check-in screen, patients queue at the desk when it is down.",
    "Let us text patients when clinics run more than 20 minutes late.",
    "More time for training on the new portal so we can help patients with it.",
    "",
    "",
]
NAMES = ["Alex", "Sam", "Jordan", "Priya", "Tom", "Grace", "Mohammed", "Ana", "Luis", "Eve"]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--responses",
        type=int,
        default=0,
        metavar="N",
        help="Top the 'After your visit' survey up to at least N responses (for benchmarks).",
    )


def seed(*, options: dict, out: Callable[[str], None]) -> None:
    surveys = {key: _ensure_survey(key) for key in READY_MADE}
    rng = random.Random(20260401)
    now = timezone.now()
    places = _places()
    profiles = _need_profiles()
    plan = [
        (surveys["after-your-visit"], 560, Response.Channel.LINK),
        (surveys["waiting-room-kiosk"], 380, Response.Channel.KIOSK),
        (surveys["staff-pulse"], 45, Response.Channel.STAFF),
    ]
    for survey, count, channel in plan:
        if not survey.responses.exists():
            _generate(survey, count, channel, rng=rng, now=now, places=places, profiles=profiles)
    if options.get("group"):
        _generate_group(surveys["after-your-visit"], rng=rng, now=now, profiles=profiles, out=out)
    wanted = options.get("responses") or 0
    after = surveys["after-your-visit"]
    missing = wanted - after.responses.count()
    if missing > 0:
        _generate(after, missing, Response.Channel.LINK, rng=rng, now=now, places=places, profiles=profiles)
    total = Response.objects.filter(survey__in=surveys.values()).count()
    out(f"Feedback: {len(surveys)} surveys, {total} responses over the last {DAYS} days.")
    invitation_demo.seed(options=options, out=out)  # invitations in every state, linked to the responses


# A group's sites differ in size (answers over the demo's 90 days) and in how well they do: most
# as the practice does, one in 29 under strain (three times the poor answers) and one in 31 doing
# very well (a quarter of them), so the comparison between sites has sites outside its limits.
GROUP_VOLUMES = [6, 15, 40, 80, 120, 200]


def group_strain(n: int) -> float:
    return 3.0 if n % 29 == 0 else 0.25 if n % 31 == 0 else 1.0


def _generate_group(survey: Survey, *, rng, now, profiles, out) -> None:
    """Answers at each of ``seed_demo --group``'s sites (those with none yet), from its front desk."""
    desks = (
        Touchpoint.objects.filter(name__startswith="Front desk — ", location__isnull=False)
        .exclude(location__feedback_responses__isnull=False)
        .select_related("location")
        .order_by("location_id")
    )
    made = 0
    for desk in desks:
        n = desk.location_id
        count = GROUP_VOLUMES[n % len(GROUP_VOLUMES)]
        places = {"visit": [desk], "kiosk": [desk]}
        _generate(
            survey, count, Response.Channel.LINK, rng=rng, now=now, places=places, profiles=profiles,
            strain=group_strain(n),
        )  # fmt: skip
        made += count
    if made:
        out(f"Feedback: {made} responses across the group's sites.")


def _ensure_survey(key: str) -> Survey:
    existing = Survey.objects.filter(slug=key).first()
    if existing is not None:
        return existing
    survey = survey_create_from_template(key=key, slug=key, active=True)
    if key == "waiting-room-kiosk":
        waiting_room = (
            Touchpoint.objects.filter(name__startswith="Waiting room").select_related("location").first()
        )
        if waiting_room is not None:
            Survey.objects.filter(pk=survey.pk).update(
                touchpoint=waiting_room, location=waiting_room.location
            )
            survey.refresh_from_db()
    return survey


def _places() -> dict[str, list[Touchpoint]]:
    """The demo practice's touchpoints (a group's other sites get their own answers: ``_generate_group``)."""
    practice = Q(location__isnull=True) | Q(location__name__in=[site["name"] for site in demo.LOCATIONS])
    touchpoints = list(Touchpoint.objects.active().filter(practice).select_related("location"))
    by_name = {t.name: t for t in touchpoints}
    visit = [
        t for t in touchpoints if t.channel in ("in_person", "phone", "video") and "Waiting" not in t.name
    ]
    kiosk = [t for name, t in by_name.items() if name.startswith("Waiting room")] or visit
    return {"visit": visit, "kiosk": kiosk}


def _need_profiles() -> list[int]:
    try:
        model = apps.get_model("design", "PatientNeedProfile")
    except LookupError:
        return []
    return list(model.objects.values_list("pk", flat=True))


@cache
def _scored(text: str) -> float | None:
    return analysis.sentiment(text)


_mentions_cache: dict[str, list[analysis.Mention]] = {}


def _mentions(matcher: analysis.ThemeMatcher, text: str) -> list[analysis.Mention]:
    """The demo's comments come from a short list: each is tagged once."""
    if text not in _mentions_cache:
        _mentions_cache[text] = matcher.mentions(text)
    return _mentions_cache[text]


def _generate(
    survey: Survey,
    count: int,
    channel: str,
    *,
    rng: random.Random,
    now: datetime,
    places: dict,
    profiles: list[int],
    strain: float | None = None,
) -> None:
    questions = {q.text: q for q in survey.questions.live()}
    by_kind = list(questions.values())
    matcher = analysis.ThemeMatcher.active()
    _mentions_cache.clear()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        with transaction.atomic():
            rows = [
                _fake_response(
                    survey,
                    by_kind,
                    channel,
                    rng=rng,
                    now=now,
                    places=places,
                    profiles=profiles,
                    matcher=matcher,
                    strain=strain,
                )
                for _ in range(size)
            ]
            Response.objects.bulk_create([r for r, _a, _t in rows], batch_size=BATCH)
            created = Answer.objects.bulk_create(
                [
                    Answer(response=r, submitted_at=r.submitted_at, **fields)
                    for r, answers, _t in rows
                    for fields in answers
                ],
                batch_size=5000,
            )
            ThemeMention.objects.bulk_create(
                [row for a in created if a.text for row in mention_rows(a, _mentions(matcher, a.text))],
                batch_size=5000,
            )
            through = Response.themes.through
            through.objects.bulk_create(
                [through(response_id=r.pk, theme_id=t) for r, _a, themes in rows for t in themes],
                batch_size=5000,
            )


def _fake_response(survey, questions, channel, *, rng, now, places, profiles, matcher, strain=None):
    """One plausible response: a mood first, then answers and words that fit it (``strain``: how
    much likelier than usual a poor answer is at this site; by default Hillcrest's 1.6)."""
    day = rng.randrange(DAYS)
    when = (now - timedelta(days=day)).replace(hour=rng.randint(8, 18), minute=rng.randrange(60), second=0)
    when = min(when, now - timedelta(minutes=5))
    spanish = channel != Response.Channel.STAFF and rng.random() < 0.12
    touchpoint = None
    if channel == Response.Channel.KIOSK and places["kiosk"]:
        touchpoint = rng.choice(places["kiosk"])
    elif channel == Response.Channel.LINK and places["visit"]:
        touchpoint = rng.choice(places["visit"])
    # Hillcrest has a harder time (fewer staff), and things improved over the quarter.
    if strain is None:
        strain = (
            1.6 if touchpoint and touchpoint.location and "Hillcrest" in touchpoint.location.name else 1.0
        )
    strain *= 1.2 if day > 45 else 0.9
    weights = dict(FFT_WEIGHTS)
    weights["poor"] *= strain
    weights["very_poor"] *= strain
    fft = rng.choices(list(weights), weights=list(weights.values()))[0]
    mood = (
        "negative"
        if fft in ("poor", "very_poor")
        else "neutral"
        if fft in ("neither", "dont_know")
        else "positive"
    )

    answers: list[dict] = []
    answered: list[Answered] = []
    texts: list[str] = []

    def add(question: Question, **fields) -> None:
        answers.append({"question": question, **fields})
        answered.append(Answered(question, **{k: v for k, v in fields.items() if k != "sentiment"}))

    for q in questions:
        if q.kind == Question.Kind.FFT:
            add(q, choice=fft, value=FFT_NUMBER[fft])
        elif q.kind == Question.Kind.TEXT:
            if q.show_if_question_id:
                if mood == "negative" and rng.random() < 0.6:
                    text = rng.choice(BETTER)
                    texts.append(text)
                    add(q, text=text, sentiment=_scored(text))
                continue
            if channel == Response.Channel.STAFF:
                text = rng.choice(STAFF_SUGGESTIONS)
            elif rng.random() < (0.85 if mood == "negative" else 0.55):
                pool = f"spanish_{'negative' if mood == 'negative' else 'positive'}" if spanish else mood
                text = rng.choice(COMMENTS[pool])
            else:
                text = ""
            if text:
                texts.append(text)
                add(q, text=text, sentiment=_scored(text))
        elif q.kind == Question.Kind.SINGLE_CHOICE:
            if q.help_text and rng.random() < 0.45:
                continue  # "leave this out if it does not apply"
            values = q.choice_values()
            if channel == Response.Channel.STAFF:
                add(q, choice=rng.choice(values))
                continue
            skew = {"positive": [2, 8, 25, 65], "neutral": [8, 25, 40, 27], "negative": [30, 40, 22, 8]}[mood]
            add(q, choice=rng.choices(values, weights=skew[: len(values)])[0])
        elif q.kind == Question.Kind.NPS:
            if rng.random() < 0.1:
                continue
            centre = {"positive": 9.2, "neutral": 7, "negative": 3.5}[mood]
            add(q, value=max(0, min(10, round(rng.gauss(centre, 1.4)))))
        elif q.kind == Question.Kind.RATING:
            add(q, value=max(1, min(5, round(rng.gauss(3.7, 0.9)))))

    scores = [s for s in (_scored(t) for t in texts) if s is not None]
    sentiment = min(scores) if scores else None
    reasons = negative_reasons(survey=survey, answers=answered, sentiment=sentiment)
    consent = (
        channel != Response.Channel.STAFF
        and survey.asks_for_contact
        and mood == "negative"
        and rng.random() < 0.4
    )
    name = rng.choice(NAMES)
    response = Response(
        survey=survey,
        channel=channel,
        language="es" if spanish else "en",
        location=touchpoint.location if touchpoint else None,
        touchpoint=touchpoint,
        need_profile_id=rng.choice(profiles)
        if profiles and channel == Response.Channel.LINK and rng.random() < 0.3
        else None,
        submitted_at=when,
        consent_to_contact=consent,
        contact_name=name if consent else "",
        contact_phone=f"07700 900{rng.randrange(1000):03d}" if consent else "",
        contact_email=f"{name.lower()}@example.org" if consent and rng.random() < 0.5 else "",
        sentiment=sentiment,
        is_negative=bool(reasons),
        negative_reasons=reasons,
    )
    themes = {mention.theme_id for text in texts for mention in _mentions(matcher, text)}
    return response, answers, themes


def after_seed(*, options: dict, out: Callable[[str], None]) -> None:
    """Months of responses and answers in their own partitions now (PostgreSQL), not at the worker's
    first sweep."""
    from feedback import retention

    swept = retention.feedback_partitions_sweep(now=timezone.now())
    if swept.created:
        out(f"Feedback: responses' and answers' months made ({len(swept.created)} partitions).")
