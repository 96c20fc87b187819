"""Every write in delivery that carries a business rule: scheduling, recording, completing.

Each function is one transaction. Views, tasks, the demo and the admin call these.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse

from delivery import adoption, schedule
from delivery.models import (
    ChecklistItem,
    ChecklistResult,
    ChecklistRun,
    ChecklistTemplate,
    Protocol,
    ProtocolVersion,
)
from delivery.signals import check_failed
from servicedesk.attachments.services import CheckedUpload, attachment_store
from servicedesk.audit import Action, create_logged, log_action, update_logged
from servicedesk.events import send_on_commit
from servicedesk.models import User
from servicedesk.outbox import message_key, outbox_email
from servicedesk.roles import Role

logger = logging.getLogger(__name__)


class RunClosed(Exception):
    """The run is completed or missed: nothing more can be recorded on it."""


# --- Who may work on a run ------------------------------------------------------------------------


def ensure_can_work_on(run: ChecklistRun, user: User) -> None:
    """Raise PermissionDenied, with a reason a person understands, unless ``user`` may record on ``run``."""
    if ChecklistRun.objects.workable_by(user).filter(pk=run.pk).exists():
        return
    if run.assignee_id:
        raise PermissionDenied(f"This checklist is assigned to {run.assignee}. Ask them or a manager.")
    where = f" at {run.location}" if run.location_id else ""
    role = Role(run.responsible_role).label.lower() if run.responsible_role else "manager"
    raise PermissionDenied(f"This checklist is for the {role} team{where}. Ask a practice manager.")


def _closed_message(run: ChecklistRun) -> str:
    if run.status == ChecklistRun.Status.COMPLETED and run.completed_at is not None:
        when = run.completed_at.astimezone(schedule.practice_tz())
        return f"This checklist was already completed by {run.completed_by or 'a colleague'} at {when:%H:%M}."
    return "This checklist is closed."


def _lock_open_run(run: ChecklistRun, user: User) -> ChecklistRun:
    ensure_can_work_on(run, user)
    runs = ChecklistRun.objects.select_for_update(of=("self",)).select_related("completed_by")
    locked = runs.get(pk=run.pk)
    if not locked.takes_results:
        raise RunClosed(_closed_message(locked))
    return cast(ChecklistRun, locked)


# --- Recording and completing ---------------------------------------------------------------------


@transaction.atomic
def run_record_result(
    *,
    run: ChecklistRun,
    item: ChecklistItem,
    outcome: str,
    note: str,
    by: User,
    now: datetime,
    photo: CheckedUpload | None = None,
) -> ChecklistResult:
    """Save one item's result as soon as it is tapped; a later tap on the same item replaces it.

    A photo sent with the tap is kept (privately) on the result, replacing an earlier one; a tap
    without one keeps the photo already there. The incident a failure opens shows it.

    A failed *critical* item sends ``check_failed`` once the transaction commits, exactly
    once per result: the first failure claims ``failure_reported_at`` with a conditional
    UPDATE, so a second tap, a retry or a concurrent request finds nothing to claim.
    """
    locked = _lock_open_run(run, by)
    if item.template_id != locked.template_id or not item.is_active:
        raise ValidationError("This item is not part of this checklist any more. Reload the page.")
    note = note.strip()
    if outcome == ChecklistResult.Outcome.FAIL and item.note_required_on_fail and not note:
        raise ValidationError({"note": "Say what is wrong in the note, then tap Fail again."})
    defaults = {"outcome": outcome, "note": note, "recorded_by": by, "recorded_at": now}
    if photo is not None:
        defaults["attachment"] = attachment_store(upload=photo, by=by, now=now)
    result, _ = ChecklistResult.objects.update_or_create(run=locked, item=item, defaults=defaults)
    if locked.status == ChecklistRun.Status.DUE:
        ChecklistRun.objects.filter(pk=locked.pk).update(
            status=ChecklistRun.Status.IN_PROGRESS, started_at=now
        )
    elif locked.started_at is None:  # a missed check being done late stays missed until completed
        ChecklistRun.objects.filter(pk=locked.pk).update(started_at=now)
    if outcome == ChecklistResult.Outcome.FAIL and item.is_critical:
        claimed = ChecklistResult.objects.filter(pk=result.pk, failure_reported_at__isnull=True).update(
            failure_reported_at=now
        )
        if claimed:
            send_on_commit(
                check_failed, "check_failed", sender=ChecklistResult, result_id=result.pk, run_id=locked.pk
            )
    return result


@transaction.atomic
def run_complete(*, run: ChecklistRun, by: User, now: datetime) -> None:
    """Close the run once every item has a result. Completing twice is refused, not repeated.

    A missed run can be completed late: it becomes completed, and ``completed_late`` says so."""
    locked = _lock_open_run(run, by)
    answered = locked.results.values_list("item_id", flat=True)
    missing = list(locked.template.items.active().exclude(pk__in=answered).values_list("text", flat=True))
    if missing:
        raise ValidationError(
            "Record every item before completing: "
            + "; ".join(missing[:5])
            + (" …" if len(missing) > 5 else "")
        )
    ChecklistRun.objects.filter(pk=locked.pk).update(
        status=ChecklistRun.Status.COMPLETED,
        completed_by=by,
        completed_at=now,
        started_at=locked.started_at or now,
    )


@transaction.atomic
def run_start_ad_hoc(*, template: ChecklistTemplate, by: User, now: datetime) -> tuple[ChecklistRun, bool]:
    """Start a checklist by hand (ad hoc). One per template, place and day: a second start opens the first.

    A closed site's checklists make no new runs (``making_runs``): starting one is refused."""
    if template.location is not None and not template.location.is_active:
        raise ValidationError(f"{template.location} is closed: its checklists make no new runs.")
    slot = schedule.ad_hoc_slot(template, now)
    run, created = ChecklistRun.objects.get_or_create(
        template=template,
        period_start=slot.period_start,
        shift=slot.shift,
        location=template.location,
        subject=None,
        defaults={
            "due_at": slot.due_at,
            "assignee": template.responsible_person,
            "responsible_role": template.responsible_role,
        },
    )
    return run, created


@dataclass(frozen=True)
class SitesStarted:
    """What starting an adopted group checklist by hand did: the sites' runs made now, those already
    there today, and how many copies start none (switched off, or at a closed site)."""

    started: list[ChecklistRun]
    already: list[ChecklistRun]
    skipped: int


@transaction.atomic
def runs_start_at_adopting_sites(
    *, group_template: ChecklistTemplate, sites: frozenset[int] | None, by: User, now: datetime
) -> SitesStarted:
    """Start by hand a group checklist that sites have adopted: each adopting site's copy starts its
    run, as the copies make the scheduled runs (delivery.adoption). ``sites``: the person's (None for
    every site: the group's managers).

    1. Lock the group's row: a second start (a double click) or an adoption at the same moment waits
       for this one, then finds its runs.
    2. The copies at ``sites`` that make runs (``making_runs``); the others are skipped. None that
       makes runs is refused with the reason.
    3. Each copy's run of today, keyed as ``run_start_ad_hoc`` keys it: a copy that already has one
       (started earlier, or the scheduler's daily run) keeps it, so starting twice the same day starts
       nothing more. One read and one insert, whatever the number of sites.
    """
    group = ChecklistTemplate.objects.select_for_update().get(pk=group_template.pk)
    copies = group.site_templates.all() if sites is None else group.site_templates.filter(location__in=sites)
    running = list(copies.making_runs())
    skipped = copies.count() - len(running)
    if skipped and not running:
        reason = f"each site that adopted “{group}” has switched its copy off or is closed"
        raise ValidationError(f"Nothing was started: {reason}.")
    if not running:
        whose = "No site" if sites is None else "None of your sites"
        raise ValidationError(f"{whose} has adopted “{group}”: adopt it to run it there.")
    today = schedule.local_date(now)
    todays = ChecklistRun.objects.filter(period_start=today, shift="", subject__isnull=True)
    already = list(todays.filter(template__in=running).order_by("location__name"))
    had_run = {run.template_id for run in already}
    new = [periodic_run(copy, schedule.ad_hoc_slot(copy, now)) for copy in running if copy.pk not in had_run]
    ChecklistRun.objects.bulk_create(new, ignore_conflicts=True)  # a sweep's run of this very moment stays
    started = list(todays.filter(template__in=[run.template_id for run in new]).order_by("location__name"))
    return SitesStarted(started=started, already=already, skipped=skipped)


# --- The scheduler's sweeps ------------------------------------------------------------------------


def runs_schedule(*, now: datetime) -> int:
    """Create the runs every active template needs today. Safe to run again, or twice at once.

    1. Periodic templates: one run per slot of today's period(s), skipping deadlines that passed
       before the template existed (a checklist created at noon is not "missed" at 10:00).
    2. Checklists about each team member: a first run for anyone who has none, and a refresher
       run when the last completion is about to expire.
    A group checklist that sites have adopted makes no periodic run itself: each site's copy makes
    the site's (``_scheduled_templates``). A group checklist about each team member still makes the
    runs of the people at open sites that have not adopted it (``_per_person_runs``).
    Inserts go through the unique constraint with ``ignore_conflicts``: a second sweep, even a
    concurrent one, adds nothing. Returns how many runs were wanted (existing ones included).
    """
    today = schedule.local_date(now)
    wanted = _periodic_runs(today) + _per_person_runs(today, now)
    with transaction.atomic():
        ChecklistRun.objects.bulk_create(wanted, ignore_conflicts=True, batch_size=500)
    logger.info("delivery schedule: %s runs wanted for %s", len(wanted), today)
    return len(wanted)


def _scheduled_templates() -> QuerySet[ChecklistTemplate]:
    """The checklists that make their own runs (``making_runs``: active, and not at a closed site): all
    but a group checklist sites have adopted.

    Once a group checklist has adoptions, each adopting site's copy makes that site's run and the
    group's makes none (delivery.adoption); with none, it makes its one practice-wide run.
    """
    adopted = ChecklistTemplate.objects.filter(group_template=OuterRef("pk"))
    return ChecklistTemplate.objects.making_runs().exclude(Exists(adopted))


def _periodic_runs(today: date) -> list[ChecklistRun]:
    runs = []
    templates = (
        _scheduled_templates().filter(per_person=False).exclude(frequency=ChecklistTemplate.Frequency.AD_HOC)
    )
    for template in templates:
        for slot in schedule.slots_for_day(template, today):
            if slot.due_at <= template.created_at:
                continue
            runs.append(periodic_run(template, slot))
    return runs


def periodic_run(template: ChecklistTemplate, slot: schedule.Slot, **fields: Any) -> ChecklistRun:
    """The unsaved run ``template`` needs for ``slot``: its key, its deadline and whom it is for.

    Ids, not objects: reading ``template.location`` or ``.responsible_person`` would cost a
    query per template in the sweep.
    """
    return ChecklistRun(
        template=template,
        period_start=slot.period_start,
        shift=slot.shift,
        location_id=template.location_id,
        assignee_id=template.responsible_person_id,
        responsible_role=template.responsible_role,
        due_at=slot.due_at,
        **fields,
    )


def _per_person_runs(today: date, now: datetime) -> list[ChecklistRun]:
    """Each team member's run of every checklist about them (whose each one is: ``person_checklists``;
    a group checklist some sites adopted is run by their copies for the people there, and by itself
    for everyone elsewhere)."""
    checklists = adoption.person_checklists()
    templates = checklists.templates
    if not templates:
        return []
    people = list(User.objects.team())
    history: dict[tuple[int, int], list[ChecklistRun]] = {}
    for run in ChecklistRun.objects.filter(template__in=templates, subject__isnull=False).only(
        "template_id", "subject_id", "status", "completed_at", "period_start"
    ):
        history.setdefault((run.template_id, run.subject_id), []).append(run)
    runs = []
    for template in templates:
        for person in people:
            if not checklists.is_for(template, person):
                continue
            due_on = _next_training_due(template, history.get((template.pk, person.pk), []), today)
            if due_on is None:
                continue
            # Ids, not objects, as in periodic_run: no query per template.
            assignee_id = template.responsible_person_id or (None if template.responsible_role else person.pk)
            runs.append(
                ChecklistRun(
                    template=template,
                    period_start=today,
                    location_id=template.location_id,
                    subject=person,
                    assignee_id=assignee_id,
                    responsible_role=template.responsible_role,
                    due_at=schedule.at_local(due_on, template.due_time),
                )
            )
    return runs


def _next_training_due(template: ChecklistTemplate, runs: list[ChecklistRun], today: date) -> date | None:
    """The due date of the run this person needs now, or None when they need none today."""
    if any(run.is_open for run in runs):
        return None
    completions = [
        run.completed_at
        for run in runs
        if run.status == ChecklistRun.Status.COMPLETED and run.completed_at is not None
    ]
    if not completions:
        return today + timedelta(days=template.due_within_days)
    if not template.renew_every_days:
        return None
    expires = schedule.local_date(max(completions)) + timedelta(days=template.renew_every_days)
    if today >= expires - timedelta(days=template.due_within_days):
        return max(expires, today)
    return None


def runs_mark_missed(*, now: datetime) -> int:
    """Open runs past their deadline become missed, in one conditional UPDATE (reruns change nothing)."""
    missed = ChecklistRun.objects.past_deadline(now).update(status=ChecklistRun.Status.MISSED, updated_at=now)
    if missed:
        logger.info("delivery: %s runs marked missed", missed)
    return missed


def runs_send_reminders(*, now: datetime) -> int:
    before = timedelta(minutes=settings.DELIVERY_REMINDER_MINUTES)
    due = list(ChecklistRun.objects.due_for_reminder(now, before=before).values_list("pk", flat=True)[:500])
    return sum(run_remind(run_id=pk, now=now) for pk in due)


def run_reminder_recipients(run: ChecklistRun) -> list[User]:
    if run.assignee is not None:
        return [run.assignee] if run.assignee.is_active else []
    if not run.responsible_role:
        return list(User.objects.managers())
    role = Role(run.responsible_role)
    if run.location_id and role == Role.SITE_MANAGER:
        return list(User.objects.with_role(role, site_id=run.location_id))
    people = User.objects.with_role(role)
    if run.location_id and role != Role.MANAGER:
        people = people.filter(location_id=run.location_id)
    return list(people.distinct())


def run_remind(*, run_id: int, now: datetime) -> bool:
    """Remind the responsible person (or everyone with the role) once that a run is soon due.

    The claim (``reminded_at``) and one outbox message per person are one transaction: a rerun
    or a second worker finds the claim and queues nothing; the outbox sends and retries each.
    """
    with transaction.atomic():
        claimed = (
            ChecklistRun.objects.open()
            .filter(pk=run_id, reminded_at__isnull=True)
            .update(reminded_at=now, updated_at=now)
        )
        if not claimed:
            return False
        run = ChecklistRun.objects.select_related("template", "assignee", "location").get(pk=run_id)
        due = run.due_at.astimezone(schedule.practice_tz())
        context = {
            "run": run,
            "due": due,
            "link": settings.SITE_URL + reverse("delivery:run_detail", args=[run.pk]),
            "practice_name": settings.PRACTICE_NAME,
        }
        text = render_to_string("delivery/email/run_reminder.txt", context)
        for person in run_reminder_recipients(run):
            if person.email:
                outbox_email(
                    key=message_key("checklist_reminder", run.pk, person.pk),
                    to=person.email,
                    subject=f"Due at {due:%H:%M}: {run.template}",
                    text=text,
                    kind="checklist_reminder",
                    now=now,
                )
    return True


# --- Templates and items (managers; each change is one audit event) ----------------------------------


def _template_label(template: ChecklistTemplate) -> str:
    return f"the checklist “{template}”"


def _item_label(item: ChecklistItem, template: ChecklistTemplate) -> str:
    return f"the item “{item}” of the checklist “{template}”"


@transaction.atomic
def template_create(*, fields: Mapping[str, Any], by: User) -> ChecklistTemplate:
    """Add a checklist (``fields``: ChecklistTemplateForm's cleaned data). The scheduler's next
    sweep creates its runs."""
    return create_logged(ChecklistTemplate, fields=fields, by=by, label=f"the checklist “{fields['title']}”")


@transaction.atomic
def template_update(*, template: ChecklistTemplate, fields: Mapping[str, Any], by: User) -> bool:
    """Change a checklist's settings; runs already created keep theirs. Returns whether anything changed.

    A group checklist's sites' copies take the same change (``adoption.sync_template_changed``)."""
    changed = update_logged(template, fields=fields, by=by, label=_template_label(template))
    if changed and adoption.is_group_template(template):
        adoption.sync_template_changed(template, fields)
    return changed


@transaction.atomic
def item_add(*, template: ChecklistTemplate, by: User | None = None, **fields: Any) -> ChecklistItem:
    last = template.items.aggregate(last=Max("order"))["last"]
    item = ChecklistItem.objects.create(template=template, order=(last or 0) + 1, **fields)
    log_action(item, Action.CREATED, by, label=_item_label(item, template))
    if adoption.is_group_template(template):  # every site that adopted it asks it too
        adoption.sync_item_added(item)
    return item


@transaction.atomic
def item_update(*, item: ChecklistItem, fields: Mapping[str, Any], by: User) -> bool:
    """Reword an item, or change whether it is critical. Past results keep pointing at it.

    A group checklist's item changes at every site that adopted it too."""
    changed = update_logged(item, fields=fields, by=by, label=_item_label(item, item.template))
    if changed and adoption.is_group_template(item.template):
        adoption.sync_item_changed(item, fields)
    return changed


@transaction.atomic
def item_move(*, item: ChecklistItem, direction: str, by: User | None = None) -> bool:
    """Swap an item with its active neighbour above ("up") or below ("down"). Returns whether it moved."""
    items = list(ChecklistItem.objects.select_for_update().filter(template_id=item.template_id).active())
    index = next((i for i, other in enumerate(items) if other.pk == item.pk), None)
    target = None if index is None else index + (-1 if direction == "up" else 1)
    if index is None or target is None or not 0 <= target < len(items):
        return False
    items[index], items[target] = items[target], items[index]
    for order, other in enumerate(items, start=1):
        other.order = order
    ChecklistItem.objects.bulk_update(items, ["order"])
    data = {"position": [str(index + 1), str(target + 1)]}
    log_action(item, Action.MOVED, by, data, label=_item_label(item, item.template))
    if adoption.is_group_template(item.template):
        adoption.sync_items_moved(item.template_id)
    return True


@transaction.atomic
def item_remove(*, item: ChecklistItem, by: User | None = None) -> str:
    """Delete an item nobody has answered yet; archive one that has results, so history keeps its wording.

    A group checklist's item leaves every site's copy with it (``adoption.sync_item_retired``)."""
    log_action(item, Action.REMOVED, by, label=_item_label(item, item.template))
    if adoption.is_group_template(item.template):
        return adoption.sync_item_retired(item)
    if item.results.exists():
        ChecklistItem.objects.filter(pk=item.pk).update(is_active=False)
        return "archived"
    item.delete()
    return "deleted"


# --- Protocols ----------------------------------------------------------------------------------


# A protocol's versions are its content (staff read any of them); the audit log records who
# changed the protocol and which version that made, one event per save.


@transaction.atomic
def protocol_create(*, title: str, body: str, by: User, **fields: Any) -> Protocol:
    text = {"text": ["—", "version 1"]}
    protocol = create_logged(Protocol, fields={"title": title, **fields}, by=by, extra=text)
    protocol_revise(protocol=protocol, body=body, change_note="First version", by=by)
    return protocol


@transaction.atomic
def protocol_revise(*, protocol: Protocol, body: str, change_note: str, by: User) -> ProtocolVersion | None:
    """Add a version when the text changed (an unchanged body keeps the current version)."""
    protocols = Protocol.objects.select_for_update(of=("self",)).select_related("current_version")
    locked = protocols.get(pk=protocol.pk)
    if locked.current_version and locked.current_version.body == body:
        return None
    number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ProtocolVersion.objects.create(
        protocol=locked, number=number, body=body, change_note=change_note, created_by=by
    )
    Protocol.objects.filter(pk=locked.pk).update(current_version=version)
    protocol.current_version = version
    return version


@transaction.atomic
def protocol_update(*, protocol: Protocol, body: str, change_note: str, by: User, **fields: Any) -> None:
    version = protocol_revise(protocol=protocol, body=body, change_note=change_note, by=by)
    text = {"text": [f"version {version.number - 1}", f"version {version.number}"]} if version else {}
    update_logged(protocol, fields=fields, by=by, extra=text)
