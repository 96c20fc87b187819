"""Every write with a business rule: submitting a response, building surveys, archiving questions."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from feedback import analysis
from feedback.forms import Answered
from feedback.library import READY_MADE
from feedback.models import Answer, Invitation, Question, Response, Survey, Theme, ThemeMention
from feedback.signals import response_submitted, response_themes_changed
from servicedesk.audit import Action, changes, create_logged, log_action, update_logged
from servicedesk.events import send_on_commit
from servicedesk.models import Location, Touchpoint, User

logger = logging.getLogger(__name__)


class InvitationClosed(Exception):
    """The invitation was answered (perhaps a moment ago, in another request), expired or withdrawn."""


# --- Responses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Where a response comes from: set by the invitation, the kiosk's survey or the QR poster."""

    location: Location | None = None
    touchpoint: Touchpoint | None = None
    need_profile_id: int | None = None


def mention_rows(answer: Answer, mentions: Iterable[analysis.Mention]) -> list[ThemeMention]:
    """The rows that keep a stored answer's theme mentions (see ``ThemeMention``)."""
    return [
        ThemeMention(
            answer=answer,
            response_id=answer.response_id,
            theme_id=mention.theme_id,
            start=mention.start,
            end=mention.end,
            sentiment=mention.sentiment,
            is_negative=mention.is_negative,
        )
        for mention in mentions
    ]


def theme_mentions(answers: Iterable[Answer], matcher: analysis.ThemeMatcher) -> list[ThemeMention]:
    """The themes each written answer mentions, one row per comment and theme."""
    return [
        row
        for answer in answers
        if answer.text
        for row in mention_rows(answer, matcher.mentions(answer.text))
    ]


def negative_reasons(*, survey: Survey, answers: list[Answered], sentiment: float | None) -> list[str]:
    """Which of the survey's negative rules the answers meet (empty: not negative)."""
    reasons = []
    thresholds: dict[str, int | None] = {
        Question.Kind.NPS: survey.negative_nps_max,
        Question.Kind.RATING: survey.negative_rating_max,
    }
    for answer in answers:
        kind = answer.question.kind
        if kind == Question.Kind.FFT and survey.negative_fft and answer.choice in Answer.FFT_NEGATIVE:
            reasons.append("fft")
        elif kind in thresholds and _at_or_below(answer.value, thresholds[kind]):
            reasons.append(kind)
    if _at_or_below(sentiment, survey.negative_sentiment_max):
        reasons.append("text")
    return sorted(set(reasons))


def _at_or_below(value: float | None, threshold: float | None) -> bool:
    return value is not None and threshold is not None and value <= threshold


@transaction.atomic
def response_submit(
    *,
    survey: Survey,
    answers: list[Answered],
    channel: str,
    language: str,
    where: Where,
    contact: dict[str, Any],
    now: datetime,
    invitation: Invitation | None = None,
) -> Response:
    """Store a response with its answers, sentiment, themes and negative flag; tell listeners after commit.

    1. An invitation is claimed first with a conditional UPDATE: of two posts racing with one
       link, the second waits on the invitation's row until the first commits, then finds it
       completed and gets InvitationClosed (the only guard: see Response.invitation).
    2. Text answers are scored (VADER) and tagged with the themes they mention.
    3. The survey's negative rules decide ``is_negative``.
    4. ``response_submitted`` goes out only once the transaction has committed.
    """
    if invitation is not None:
        claimed = (
            Invitation.objects.open(now)
            .filter(pk=invitation.pk)
            .update(status=Invitation.Status.COMPLETED, completed_at=now, updated_at=now)
        )
        if not claimed:
            raise InvitationClosed

    written = [a for a in answers if a.text]
    matcher = analysis.ThemeMatcher.active() if written else None  # most kiosk answers are taps only
    scores: dict[int, float | None] = {}
    mentioned: dict[int, list[analysis.Mention]] = {}  # by question: matched once, stored below
    for answer in written:
        scores[answer.question.pk] = analysis.sentiment(answer.text)
        if matcher is not None:
            mentioned[answer.question.pk] = matcher.mentions(answer.text)
    text_scores = [s for s in scores.values() if s is not None]
    sentiment = min(text_scores) if text_scores else None
    reasons = negative_reasons(survey=survey, answers=answers, sentiment=sentiment)

    response = Response(
        survey=survey,
        invitation=invitation,
        channel=channel,
        language=language,
        location=where.location,
        touchpoint=where.touchpoint,
        need_profile_id=where.need_profile_id,
        submitted_at=now,
        sentiment=sentiment,
        is_negative=bool(reasons),
        negative_reasons=reasons,
        **contact,
    )
    response.save(force_insert=True)
    created = Answer.objects.bulk_create(
        Answer(
            response=response,
            submitted_at=response.submitted_at,
            question=a.question,
            value=a.value,
            choice=a.choice,
            choices=Answer.encode_choices(list(a.choices)),
            text=a.text,
            sentiment=scores.get(a.question.pk),
        )
        for a in answers
    )
    rows = [row for a in created for row in mention_rows(a, mentioned.get(a.question_id, []))]
    if rows:
        ThemeMention.objects.bulk_create(rows)
        tagged = Response.themes.through  # a new response: nothing to look up first, as add() would
        tagged.objects.bulk_create(
            tagged(response=response, theme_id=pk) for pk in {r.theme_id for r in rows}
        )

    response_id, is_negative = response.pk, response.is_negative
    send_on_commit(
        response_submitted,
        "response_submitted",
        sender=Response,
        response_id=response_id,
        is_negative=is_negative,
    )
    logger.info("feedback response %s stored (survey %s, negative=%s)", response_id, survey.pk, is_negative)
    return response


# --- Surveys (each change a manager makes is one audit event) ---------------------------------------


def _survey_label(survey: Survey) -> str:
    return f"the survey “{survey.title}”"


@transaction.atomic
def survey_create(*, fields: Mapping[str, Any], by: User) -> Survey:
    """A new, empty survey (``fields``: SurveySettingsForm's cleaned data); it starts switched off."""
    return create_logged(Survey, fields=fields, by=by, label=f"the survey “{fields['title']}”")


@transaction.atomic
def survey_update(*, survey: Survey, fields: Mapping[str, Any], by: User) -> bool:
    """Change a survey's settings (titles, texts, languages, negative rules). Returns whether any changed."""
    return update_logged(survey, fields=fields, by=by, label=_survey_label(survey))


@transaction.atomic
def survey_create_from_template(
    *, key: str, title: str = "", slug: str = "", active: bool = False, by: User | None = None
) -> Survey:
    """A new survey with the ready-made questions of ``key`` (see feedback.library)."""
    spec = READY_MADE[key]
    slug = slug or _free_slug(spec.key)
    survey = Survey.objects.create(
        title=title or spec.title,
        title_es=spec.title_es if not title else "",
        heading=spec.heading,
        heading_es=spec.heading_es,
        slug=slug,
        audience=spec.audience,
        is_anonymous=spec.is_anonymous,
        # Spanish is offered when every text has it: a title of the manager's own has none yet.
        languages=["en", "es"] if not title else ["en"],
        intro=spec.intro,
        intro_es=spec.intro_es,
        thanks=spec.thanks,
        thanks_es=spec.thanks_es,
        is_active=active,
    )
    by_key: dict[str, Question] = {}
    for position, q in enumerate(spec.questions):
        by_key[q.key] = Question.objects.create(
            survey=survey,
            position=position,
            kind=q.kind,
            text=q.text,
            text_es=q.text_es,
            help_text=q.help_text,
            help_text_es=q.help_text_es,
            required=q.required,
            choices=[dict(c) for c in q.choices],
            show_if_question=by_key.get(q.show_if) if q.show_if else None,
            show_if_min=q.show_if_min,
            show_if_max=q.show_if_max,
        )
    data = {"ready-made": ["—", spec.title], "questions": ["—", str(len(spec.questions))]}
    log_action(survey, Action.CREATED, by, data, label=_survey_label(survey))
    return survey


def _free_slug(base: str) -> str:
    taken = set(Survey.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@transaction.atomic
def survey_set_active(*, survey: Survey, active: bool, by: User | None = None) -> None:
    """Switch a survey on (patients can answer it) or off; the audit log records who did."""
    if active and not survey.questions.live().exists():
        raise ValidationError(_("Add at least one question before switching the survey on."))
    if active and (problems := survey.language_problems()):
        raise ValidationError(
            problems[0] + " " + str(_("Write them, or stop offering Spanish, before switching it on."))
        )
    if Survey.objects.filter(pk=survey.pk).exclude(is_active=active).update(is_active=active):
        log_action(survey, Action.ENABLED if active else Action.DISABLED, by, label=_survey_label(survey))
    survey.is_active = active


# --- Questions -------------------------------------------------------------------------------------


def _question_label(question: Question) -> str:
    text = question.text if len(question.text) <= 60 else question.text[:59].rstrip() + "…"
    return f"the question “{text}” of the survey “{question.survey.title}”"


def _question_facts(question: Question) -> dict[str, Any]:
    """A question as a manager reads it, to say in the audit log what an edit changed."""
    return {
        "wording": question.text,
        "Spanish wording": question.text_es,
        "hint": question.help_text,
        "required": question.required,
        "answer choices": [choice.get("label", choice.get("value")) for choice in question.choices],
        "touchpoint": question.touchpoint,
        "asked after": question.show_if_question,
    }


@transaction.atomic
def question_add(*, survey: Survey, data: dict[str, Any], by: User | None = None) -> Question:
    """A new question at the end of the survey. ``data`` is QuestionForm's cleaned data."""
    last = survey.questions.live().aggregate(last=Max("position"))["last"]
    question = Question(survey=survey, position=0 if last is None else last + 1)
    _apply(question, data)
    question.save()
    facts = {"kind": question.get_kind_display(), **_question_facts(question)}
    log_action(question, Action.CREATED, by, changes({}, facts), label=_question_label(question))
    return question


@transaction.atomic
def question_update(
    *, question: Question, data: dict[str, Any], now: datetime, by: User | None = None
) -> Question:
    """Edit a question without damaging its answers.

    Wording, hints, translations, touchpoint, skip logic and added choices change in place. If
    the question has answers and one of its answer choices would disappear, the old question is
    archived (its answers stay in the results) and a new one takes its place; questions that
    depend on it follow the new one.
    """
    question = Question.objects.select_for_update().select_related("survey").get(pk=question.pk)
    before = _question_facts(question)
    new_values = {c["value"] for c in data.get("choices_text", [])}
    removes_answered_choice = (
        question.kind in Question.CHOICE_KINDS
        and not set(question.choice_values()) <= new_values
        and question.answers.exists()
    )
    if not removes_answered_choice:
        _apply(question, data, keep_kind=question.answers.exists())
        question.save()
        if changed := changes(before, _question_facts(question)):
            log_action(question, Action.CHANGED, by, changed, label=_question_label(question))
        return question
    Question.objects.filter(pk=question.pk).update(archived_at=now)
    replacement = Question(survey=question.survey, position=question.position, kind=question.kind)
    _apply(replacement, data, keep_kind=True)
    replacement.save()
    question.dependants.filter(archived_at__isnull=True).update(show_if_question=replacement)
    changed = {
        **changes(before, _question_facts(replacement)),
        "earlier version": ["—", "archived with its answers"],
    }
    log_action(replacement, Action.CHANGED, by, changed, label=_question_label(replacement))
    return replacement


def _apply(question: Question, data: dict[str, Any], *, keep_kind: bool = False) -> None:
    if not keep_kind:
        question.kind = data["kind"]
    for name in ("text", "text_es", "help_text", "help_text_es", "required", "touchpoint"):
        setattr(question, name, data.get(name, getattr(question, name)))
    question.choices = data.get("choices_text", []) if question.kind in Question.CHOICE_KINDS else []
    question.show_if_question = data.get("show_if_question")
    question.show_if_min = data.get("show_if_min")
    question.show_if_max = data.get("show_if_max")


@transaction.atomic
def question_remove(*, question: Question, now: datetime, by: User | None = None) -> bool:
    """Delete an unanswered question, archive an answered one. Returns True when it was archived.

    Refused while a live question depends on it (that question would never be shown).
    """
    question = Question.objects.select_for_update().select_related("survey").get(pk=question.pk)
    if question.dependants.filter(archived_at__isnull=True).exists():
        raise ValidationError(
            _("Another question is asked only after this one. Change or remove that question first.")
        )
    log_action(question, Action.REMOVED, by, label=_question_label(question))
    if question.answers.exists():
        Question.objects.filter(pk=question.pk).update(archived_at=now)
        archived = True
    else:
        question.delete()
        archived = False
    _renumber(question.survey)
    return archived


@transaction.atomic
def question_move(*, question: Question, up: bool, by: User | None = None) -> None:
    """Swap a question with its neighbour. A question never moves above the one it depends on."""
    survey = Survey.objects.select_for_update().get(pk=question.survey_id)
    live = list(survey.questions.live())
    index = next(i for i, q in enumerate(live) if q.pk == question.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(live):
        return
    first, second = (live[other], live[index]) if up else (live[index], live[other])
    if second.show_if_question_id == first.pk:
        raise ValidationError(_("A question that depends on another must stay below it."))
    live[index], live[other] = live[other], live[index]
    for position, q in enumerate(live):
        if q.position != position:
            Question.objects.filter(pk=q.pk).update(position=position)
    moved = live[other]
    data = {"position": [str(index + 1), str(other + 1)]}
    log_action(moved, Action.MOVED, by, data, label=_question_label(moved))


def _renumber(survey: Survey) -> None:
    for position, q in enumerate(survey.questions.live()):
        if q.position != position:
            Question.objects.filter(pk=q.pk).update(position=position)


# --- A manager's corrections of a comment's themes ---------------------------------------------------


@transaction.atomic
def answer_theme_set(*, answer: Answer, theme: Theme, present: bool, by: User | None) -> bool:
    """Say whether a comment is about a theme. Returns whether anything changed.

    The correction is kept as a mention marked ``manager`` (removed, when the comment is not about
    it), so re-tagging by keywords never undoes it; the response's theme list follows, and the
    dashboard recounts that day once this commits (``response_themes_changed``).
    """
    if not answer.text:
        raise ValidationError(_("Only a written comment has themes."))
    mention = ThemeMention.objects.select_for_update().filter(answer=answer, theme=theme).first()
    if mention is not None and mention.removed != present:
        return False  # already so
    if mention is None:  # kept even when removed, so re-tagging by keywords does not add it back
        mention = ThemeMention(
            answer=answer,
            response_id=answer.response_id,
            theme=theme,
            end=len(answer.text),
            sentiment=answer.sentiment,
            is_negative=analysis.is_negative(answer.sentiment),
        )
    mention.removed = not present
    mention.source = ThemeMention.Source.MANAGER
    mention.save()
    response = answer.response
    if ThemeMention.objects.filter(response=response, theme=theme, removed=False).exists():
        response.themes.add(theme)
    else:
        response.themes.remove(theme)
    verb = "is about" if present else "is not about"
    log_action(
        response,
        Action.CHANGED,
        by,
        {"theme": theme.name, "about": present},
        label=f"a comment on response #{response.pk} ({verb} “{theme.name}”)",
    )
    send_on_commit(
        response_themes_changed,
        "response_themes_changed",
        sender=Response,
        response_id=response.pk,
    )
    return True
