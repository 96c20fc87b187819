"""Every write to learning data: the manager's rule, patterns found, changes made, patterns closed.

Detection (``patterns_detect`` from the sweep, ``patterns_detect_for_incident`` when an incident
is logged) is safe to run any number of times, concurrently too:

1. Count the incidents of each key (category at a touchpoint, or a feedback theme) logged from
   the local midnight that starts the window (``window_days`` practice days, today included)
   up to ``now``: one grouped query per kind of key.
2. For each key at or past the threshold, find its live pattern or create one. The partial unique
   constraint (one open-or-answered pattern per key) makes a concurrent second create fail; the
   loser reads the winner's row.
3. Link the window's incidents to an open pattern (adding a link twice is a no-op).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, QuerySet

from learning.models import Change, LearningRules, Pattern
from recovery.models import Incident
from servicedesk.audit import Action, log_action
from servicedesk.clock import local_midnight, local_today
from servicedesk.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rules:
    threshold: int
    window_days: int


def rules() -> Rules:
    """The manager's rule, or the defaults (3 in 30 days) before one is saved."""
    row = LearningRules.objects.filter(pk=LearningRules.SINGLETON).first()
    if row is None:
        fields = LearningRules._meta
        return Rules(
            threshold=int(fields.get_field("threshold").default),
            window_days=int(fields.get_field("window_days").default),
        )
    return Rules(threshold=row.threshold, window_days=row.window_days)


@transaction.atomic
def rules_update(*, threshold: int, window_days: int, by: User, now: datetime) -> LearningRules:
    """Save the rule. Patterns already found stay; the next detection uses the new rule."""
    if threshold < 2:
        raise ValidationError("A pattern needs at least 2 incidents.", code="threshold")
    if not 1 <= window_days <= 365:
        raise ValidationError("The window is between 1 and 365 days.", code="window")
    row, _created = LearningRules.objects.update_or_create(
        pk=LearningRules.SINGLETON,
        defaults={"threshold": threshold, "window_days": window_days, "updated_by": by},
    )
    log_action(
        row,
        Action.CHANGED,
        by,
        {"threshold": threshold, "window_days": window_days},
        label="the learning rules",
    )
    return row


# --- Keys and windows -----------------------------------------------------------------------------


def window_start(now: datetime, window_days: int) -> datetime:
    """The local midnight that starts a window of ``window_days`` practice days ending today."""
    return local_midnight(local_today(now) - timedelta(days=window_days - 1))


def place_key(category: str, touchpoint_id: int) -> str:
    return f"place:{category}:{touchpoint_id}"


def theme_key(theme_id: int) -> str:
    return f"theme:{theme_id}"


def matching_incidents(pattern: Pattern) -> QuerySet[Incident]:
    """Every incident of the pattern's key, whenever logged: what recurrence is counted from."""
    if pattern.kind == Pattern.Kind.THEME:
        return Incident.objects.filter(source_response__themes=pattern.theme_id)
    return Incident.objects.filter(category=pattern.category, touchpoint=pattern.touchpoint_id)


# --- Detection -------------------------------------------------------------------------------------


def patterns_detect(*, now: datetime) -> int:
    """Record every key past the threshold in the window ending ``now``. Returns patterns created."""
    rule = rules()
    recent = Incident.objects.filter(created_at__gte=window_start(now, rule.window_days), created_at__lte=now)
    places = (
        recent.filter(touchpoint__isnull=False)
        .values("category", "touchpoint_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=rule.threshold)
        .order_by()
    )
    themes = (
        recent.filter(source_response__themes__isnull=False)
        .values(theme_id=F("source_response__themes"))
        .annotate(n=Count("pk", distinct=True))
        .filter(n__gte=rule.threshold)
        .order_by()
    )
    created = sum(
        _record(
            Pattern(kind=Pattern.Kind.PLACE, category=row["category"], touchpoint_id=row["touchpoint_id"]),
            rule,
            now,
        )
        for row in places
    )
    created += sum(
        _record(Pattern(kind=Pattern.Kind.THEME, theme_id=row["theme_id"]), rule, now) for row in themes
    )
    return created


def patterns_detect_for_incident(*, incident_id: int, now: datetime) -> int:
    """Check only the keys of one newly logged incident (a few queries). Returns patterns created."""
    incident = (
        Incident.objects.filter(pk=incident_id)
        .only("category", "touchpoint_id", "source_response_id")
        .first()
    )
    if incident is None:  # erased or rolled back since
        return 0
    rule = rules()
    candidates = []
    if incident.touchpoint_id is not None:
        candidates.append(
            Pattern(kind=Pattern.Kind.PLACE, category=incident.category, touchpoint_id=incident.touchpoint_id)
        )
    if incident.source_response_id is not None:
        theme_ids = Incident.objects.filter(pk=incident_id).values_list("source_response__themes", flat=True)
        candidates += [Pattern(kind=Pattern.Kind.THEME, theme_id=pk) for pk in theme_ids if pk is not None]
    return sum(_record(candidate, rule, now) for candidate in candidates)


def _key(pattern: Pattern) -> str:
    """The key of a candidate (built with its theme, or its category and touchpoint, always set)."""
    if pattern.kind == Pattern.Kind.THEME:
        return theme_key(pattern.theme_id or 0)
    return place_key(pattern.category, pattern.touchpoint_id or 0)


@transaction.atomic
def _record(candidate: Pattern, rule: Rules, now: datetime) -> bool:
    """Find or create the live pattern of ``candidate``'s key if it is past the threshold; link the
    window's incidents to it while it is open. True when a pattern was created."""
    in_window = matching_incidents(candidate).filter(
        created_at__gte=window_start(now, rule.window_days), created_at__lte=now
    )
    found = in_window.aggregate(n=Count("pk"), latest=Max("created_at"))
    if found["n"] < rule.threshold:
        return False
    key = _key(candidate)
    created = False
    pattern = Pattern.objects.live().filter(key=key).first()
    if pattern is None:
        candidate.key, candidate.first_seen_at, candidate.last_incident_at = key, now, found["latest"]
        try:
            with transaction.atomic():
                candidate.save()
            pattern, created = candidate, True
        except IntegrityError:  # another worker recorded it a moment ago
            pattern = Pattern.objects.live().get(key=key)
    if found["latest"] > pattern.last_incident_at:
        Pattern.objects.filter(pk=pattern.pk).update(last_incident_at=found["latest"])
    if pattern.status == Pattern.Status.OPEN:
        pattern.incidents.add(*in_window.values_list("pk", flat=True))
    if created:
        logger.info("pattern %s recorded (%s, %d incidents)", pattern.pk, key, found["n"])
    return created


# --- Answering -------------------------------------------------------------------------------------


@transaction.atomic
def change_record(
    *,
    pattern: Pattern,
    kind: str,
    description: str,
    made_on: date,
    by: User,
    now: datetime,
    linked: object | None = None,
) -> Change:
    """Answer a pattern with a change; the pattern becomes "answered" and is watched from ``made_on``."""
    description = _checked(kind=kind, description=description, made_on=made_on, now=now)
    locked = Pattern.objects.select_for_update().get(pk=pattern.pk)
    if locked.status == Pattern.Status.CLOSED:
        raise ValidationError("This pattern is closed: a new recurrence will open a new one.", code="closed")
    change = Change.objects.create(
        pattern=locked,
        kind=kind,
        description=description,
        made_on=made_on,
        made_by=by,
        **_links(kind, linked),
    )
    if locked.status == Pattern.Status.OPEN:
        Pattern.objects.filter(pk=locked.pk).update(status=Pattern.Status.ANSWERED)
    log_action(
        change,
        Action.CREATED,
        by,
        {"kind": kind, "made_on": made_on.isoformat()},
        label=f"a change answering the pattern “{locked}”",
    )
    return change


@transaction.atomic
def change_update(
    *,
    change: Change,
    kind: str,
    description: str,
    made_on: date,
    by: User,
    now: datetime,
    linked: object | None = None,
) -> Change:
    """Correct a change, or link the checklist item, protocol, training or goal made after it."""
    description = _checked(kind=kind, description=description, made_on=made_on, now=now)
    Change.objects.filter(pk=change.pk).update(
        kind=kind, description=description, made_on=made_on, updated_at=now, **_links(kind, linked)
    )
    change.refresh_from_db()
    log_action(
        change,
        Action.CHANGED,
        by,
        {"kind": kind, "made_on": made_on.isoformat()},
        label=f"a change answering the pattern “{change.pattern}”",
    )
    return change


LINK_FIELDS = {
    Change.Kind.CHECKLIST_ITEM: "checklist_item",
    Change.Kind.PROTOCOL: "protocol",
    Change.Kind.TRAINING: "training",
    Change.Kind.GOAL: "goal",
}


def _links(kind: str, linked: object | None) -> dict[str, object | None]:
    """Every link field: the kind's one set to ``linked``, the others empty."""
    return {field: (linked if name == kind else None) for name, field in LINK_FIELDS.items()}


def _checked(*, kind: str, description: str, made_on: date, now: datetime) -> str:
    description = description.strip()
    if not description:
        raise ValidationError("Say what changed.", code="required")
    if made_on > local_today(now):
        raise ValidationError("A change can only be recorded once it has been made.", code="future")
    if kind not in Change.Kind.values:
        raise ValidationError("Choose what kind of change it was.", code="kind")
    return description


@transaction.atomic
def pattern_close(*, pattern: Pattern, by: User, now: datetime) -> bool:
    """Close a pattern (dealt with, or not one after all). False when it was already closed."""
    closed = (
        Pattern.objects.filter(pk=pattern.pk)
        .exclude(status=Pattern.Status.CLOSED)
        .update(status=Pattern.Status.CLOSED, closed_at=now)
    )
    if closed:
        log_action(pattern, Action.CHANGED, by, {"status": "closed"}, label=f"the pattern “{pattern}”")
    return bool(closed)
