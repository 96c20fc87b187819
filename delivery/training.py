"""Training status: is each team member up to date with the checklists about them?

A checklist "per team member" (onboarding, an annual refresher) is a requirement of exactly the
people the scheduler makes its runs for (``adoption.person_checklists``): everyone at its site, or
for a group checklist everyone at a site that has not adopted it (their site's copy is theirs), and
nobody at a closed site. For one person and one such checklist the status is:

- **up to date** — completed, and (for a refresher) the completion has not expired, and no
  renewal is open yet;
- **due** — a run is waiting and its due date has not passed (or the scheduler has not
  created it yet: a new starter's first day);
- **overdue** — the due date passed without completion, or the last completion expired.

A person's overall status is the worst of theirs. Read-only; the same few queries for any number
of people and sites.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from delivery import adoption, schedule
from delivery.models import ChecklistRun, ChecklistTemplate
from servicedesk.models import User


class Status(models.TextChoices):
    UP_TO_DATE = "up_to_date", _("Up to date")
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")


_SEVERITY = {Status.UP_TO_DATE: 0, Status.DUE: 1, Status.OVERDUE: 2}


@dataclass
class Requirement:
    template: ChecklistTemplate
    status: Status
    due_on: date | None = None
    completed_on: date | None = None
    expires_on: date | None = None
    open_run_id: int | None = None


@dataclass
class PersonTraining:
    person: User
    requirements: list[Requirement] = field(default_factory=list)

    @property
    def status(self) -> Status | None:
        if not self.requirements:
            return None
        return max((r.status for r in self.requirements), key=_SEVERITY.__getitem__)


def requirement_status(
    template: ChecklistTemplate, runs: list[ChecklistRun], *, now: datetime, today: date
) -> Requirement:
    """One person's status for one per-person checklist, from their runs of it (any order)."""
    # As of ``now``: a run completed later still counted as open then (metrics look back in time).
    completions = [r.completed_at for r in runs if r.completed_at is not None and r.completed_at <= now]
    open_runs = [r for r in runs if r.is_open or (r.completed_at is not None and r.completed_at > now)]
    completed_on = schedule.local_date(max(completions)) if completions else None
    expires_on = (
        completed_on + timedelta(days=template.renew_every_days)
        if completed_on and template.renew_every_days
        else None
    )
    current = completed_on is not None and (expires_on is None or expires_on > today)
    requirement = Requirement(
        template=template, status=Status.DUE, completed_on=completed_on, expires_on=expires_on
    )
    if open_runs:
        run = min(open_runs, key=lambda r: r.due_at)
        requirement.open_run_id, requirement.due_on = run.pk, schedule.local_date(run.due_at)
        requirement.status = Status.DUE if current or run.due_at > now else Status.OVERDUE
    elif current:
        requirement.status = Status.UP_TO_DATE
    elif completed_on is not None:
        requirement.status, requirement.due_on = Status.OVERDUE, expires_on
    return requirement


def team_training(*, now: datetime, people: list[User] | None = None) -> list[PersonTraining]:
    """Every active team member (or ``people``) with their per-person checklist requirements."""
    return team_training_at(moments=[now], people=people)[0]


def team_training_at(
    *, moments: Sequence[datetime], people: list[User] | None = None
) -> list[list[PersonTraining]]:
    """``team_training`` as of each of ``moments``, from one read of the people, checklists and runs
    (the dashboard's period and the one before: five queries, not ten)."""
    if people is None:
        people = list(User.objects.team().select_related("location"))
    checklists = adoption.person_checklists()
    templates = checklists.templates
    latest = max(schedule.local_date(now) for now in moments)
    runs: dict[tuple[int, int], list[ChecklistRun]] = defaultdict(list)
    for run in ChecklistRun.objects.filter(
        template__in=templates, subject__in=people, period_start__lte=latest
    ).only("template_id", "subject_id", "status", "completed_at", "due_at", "period_start"):
        runs[(run.template_id, run.subject_id)].append(run)
    overviews = []
    for now in moments:
        today = schedule.local_date(now)
        overview = []
        for person in people:
            entry = PersonTraining(person=person)
            for template in checklists.of(person):
                started = [run for run in runs[(template.pk, person.pk)] if run.period_start <= today]
                entry.requirements.append(requirement_status(template, started, now=now, today=today))
            overview.append(entry)
        overviews.append(overview)
    return overviews


def compliance_pct(*, now: datetime, location_id: int | None = None) -> float | None:
    """Share of training requirements that are not overdue, or None when nobody has any."""
    return compliance_pcts(moments=[now], location_id=location_id)[0]


def compliance_pcts(*, moments: Sequence[datetime], location_id: int | None = None) -> list[float | None]:
    """``compliance_pct`` as of each of ``moments`` (one read of the runs)."""
    people = None
    if location_id is not None:
        people = list(User.objects.team().filter(location_id=location_id))
    shares: list[float | None] = []
    for overview in team_training_at(moments=moments, people=people):
        requirements = [r for entry in overview for r in entry.requirements]
        ok = sum(r.status != Status.OVERDUE for r in requirements)
        shares.append(100.0 * ok / len(requirements) if requirements else None)
    return shares
