"""A group of sites: the group sets a goal once, and each site adopts it, or sets its own target.

An adopted goal (``ServiceGoal.group_goal``) is its own goal, measured at its own site, with its
own version, acknowledgements and history. Its definition (``ServiceGoal.DEFINITION_FIELDS``)
is the group goal's and follows every change to it in the same transaction. Its target and
at-risk margin follow the group's too until the site sets its own (``target_overridden``); from
then on they are the site's, until the site sets them back to the group's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from design.models import GoalChange, ServiceGoal
from design.services import (
    _comparable,
    _display,
    _goal_changed,
    goal_change_records,
    goal_measure,
    goal_reactivate,
    goal_update,
)
from servicedesk.audit import Action, log_action, log_actions
from servicedesk.models import Location, User

TARGET_FIELDS = ("target", "tolerance")


def _lock_group_goal(group_goal: ServiceGoal) -> ServiceGoal:
    """The group goal, locked: adoptions of one goal, its edits and its retirement happen one at a time."""
    locked = ServiceGoal.objects.select_for_update().get(pk=group_goal.pk)
    if not locked.is_group_goal:
        raise ValidationError("Only a goal of the whole group can be adopted by a site.")
    if not locked.is_active:
        raise ValidationError("This goal is retired: reactivate it before sites adopt it.")
    return locked


def _copy_of(group_goal: ServiceGoal, **values: Any) -> ServiceGoal:
    definition = {
        field.attname: getattr(group_goal, field.attname)
        for field in ServiceGoal._meta.concrete_fields
        if field.name in ServiceGoal.DEFINITION_FIELDS
    }
    return ServiceGoal(
        **definition,
        group_goal=group_goal,
        target=group_goal.target,
        tolerance=group_goal.tolerance,
        **values,
    )


def _adopted_change(group_goal: ServiceGoal) -> dict[str, list[str]]:
    return {"group_goal": ["—", group_goal.title]}


@transaction.atomic
def goal_adopt(
    *,
    group_goal: ServiceGoal,
    location: Location,
    by: User,
    now: datetime,
    target: Any = None,
    tolerance: Any = None,
) -> ServiceGoal:
    """Adopt the group's goal at one site; returns the site's goal. Safe to repeat.

    1. A site that adopted it already keeps its goal (a retired one is made active again).
    2. Otherwise the site gets a copy of the definition, measured at the site at once;
       ``target``/``tolerance``, when given, are the site's own from the start.
    3. A target given for a site that already adopted it is set as the site's own.
    """
    group_goal = _lock_group_goal(group_goal)
    existing = ServiceGoal.objects.filter(group_goal=group_goal, location=location).first()
    if existing is None:
        owner = by if by.is_site_manager else group_goal.owner
        copy = _copy_of(group_goal, location=location, owner=owner)
        if target is not None:
            copy.target = target
        if tolerance is not None:
            copy.tolerance = tolerance
        copy.target_overridden = _differs(copy, group_goal)
        copy.full_clean()
        copy.save()
        _goal_changed(copy, GoalChange.Kind.CREATED, by=by, now=now, changed=_adopted_change(group_goal))
        goal_measure(goal=copy, now=now)
        return copy
    if not existing.is_active:
        goal_reactivate(goal=existing, by=by, now=now)
    site_values = {
        name: value for name, value in (("target", target), ("tolerance", tolerance)) if value is not None
    }
    if site_values:
        goal_set_site_target(goal=existing, by=by, now=now, fields=site_values)
    existing.refresh_from_db()
    return existing


@transaction.atomic
def goal_adopt_everywhere(*, group_goal: ServiceGoal, by: User, now: datetime) -> int:
    """Adopt the group's goal at every active site that has not adopted it; returns how many.

    A few queries whatever the number of sites: one insert for the goals, one for their first
    history rows, one audit event. A site whose copy is retired keeps it retired: it opted out,
    and adopts it again itself. The copies are measured by the hourly sweep (measure_goals).
    """
    group_goal = _lock_group_goal(group_goal)
    adopted = ServiceGoal.objects.filter(group_goal=group_goal).values("location_id")
    sites = Location.objects.active().exclude(pk__in=adopted).values_list("pk", flat=True)
    copies = ServiceGoal.objects.bulk_create(
        [_copy_of(group_goal, location_id=pk, owner_id=group_goal.owner_id) for pk in sites]
    )
    if not copies:
        return 0
    change = _adopted_change(group_goal)
    GoalChange.objects.bulk_create(
        GoalChange(goal=copy, kind=GoalChange.Kind.CREATED, by=by, at=now, version=1, changes=change)
        for copy in copies
    )
    log_action(
        None,
        Action.CREATED,
        by,
        {"adopted from": group_goal.title},
        label=f"the service goal “{group_goal.title}” at {len(copies)} sites",
        target_type="design.servicegoal",
        count=len(copies),
    )
    return len(copies)


def _differs(site_goal: ServiceGoal, group_goal: ServiceGoal) -> bool:
    return any(_comparable(site_goal, f) != _comparable(group_goal, f) for f in TARGET_FIELDS)


@transaction.atomic
def goal_set_site_target(
    *,
    goal: ServiceGoal,
    by: User,
    now: datetime,
    fields: Mapping[str, Any],
    read_at: datetime | None = None,
) -> bool:
    """A site sets its own owner, target or at-risk margin on a goal it adopted (goal_update's rules:
    a new target is a new version). Setting the group's target and margin again follows the group.
    """
    if not goal.is_adopted:
        raise ValidationError("Only a goal a site adopted from the group has a site's own target.")
    unknown = set(fields).difference(ServiceGoal.SITE_FIELDS)
    if unknown:
        raise TypeError(f"Not the site's to set on an adopted goal: {', '.join(sorted(unknown))}")
    promise_changed = goal_update(goal=goal, by=by, now=now, fields=fields, read_at=read_at)
    group_goal = ServiceGoal.objects.get(site_goals=goal)
    ServiceGoal.objects.filter(pk=goal.pk).update(target_overridden=_differs(goal, group_goal))
    goal.refresh_from_db()
    return promise_changed


def site_goals_follow(*, group_goal: ServiceGoal, by: User, now: datetime, changed: set[str]) -> int:
    """Carry a change of the group goal to every site that adopted it (called by goal_update, inside
    its transaction); returns how many sites' goals changed.

    Each adopted goal changes the way goal_update changes one goal: a new version when its promise
    changed, one history row and one audit event. A site's own target and margin stay. The new
    status shows at the next hourly measurement. A few queries whatever the number of sites:

    1. Lock the copies and work out, in memory, what changes on each (its history and audit rows).
    2. One update gives the changed copies the group's definition, one the group's target and margin
       to those that follow it, one a new version to those whose promise changed.
    3. One insert for the history rows, one for the audit events.
    """
    fields = [f for f in ServiceGoal.DEFINITION_FIELDS if f in changed]
    following = [f for f in TARGET_FIELDS if f in changed]
    if not fields and not following:
        return 0
    site_goals = ServiceGoal.objects.select_for_update(of=("self",)).filter(group_goal=group_goal)
    changed_ids, follows_ids, new_version_ids = [], [], []
    records = []
    for site_goal in site_goals.select_related("touchpoint", "need_profile"):
        names = fields + ([] if site_goal.target_overridden else following)
        before = {f: (_comparable(site_goal, f), _display(site_goal, f)) for f in names}
        for name in names:
            setattr(site_goal, name, getattr(group_goal, name))
        change = {
            f: [old_display, _display(site_goal, f)]
            for f, (old, old_display) in before.items()
            if old != _comparable(site_goal, f)
        }
        if not change:
            continue
        changed_ids.append(site_goal.pk)
        if not site_goal.target_overridden:
            follows_ids.append(site_goal.pk)
        if any(f in ServiceGoal.PROMISE_FIELDS for f in change):
            site_goal.version += 1
            new_version_ids.append(site_goal.pk)
        records.append(goal_change_records(site_goal, GoalChange.Kind.EDITED, by=by, now=now, changed=change))
    if not changed_ids:
        return 0
    group_values = {name: getattr(group_goal, name) for name in fields}
    ServiceGoal.objects.filter(pk__in=changed_ids).update(**group_values, updated_at=now)
    if following and follows_ids:
        targets = {name: getattr(group_goal, name) for name in following}
        ServiceGoal.objects.filter(pk__in=follows_ids).update(**targets)
    if new_version_ids:
        ServiceGoal.objects.filter(pk__in=new_version_ids).update(version=F("version") + 1)
    GoalChange.objects.bulk_create(history for history, _event in records)
    log_actions(event for _history, event in records)
    return len(changed_ids)


def site_goals_retire(*, group_goal: ServiceGoal, by: User, now: datetime) -> int:
    """Retire every site's active copy of the group goal (called by goal_retire, inside its
    transaction); returns how many. Each copy is retired the way goal_retire retires one goal: its
    status and retirement time, one history row and one audit event. A few queries whatever the
    number of sites:

    1. Lock the active copies (a copy's version and title go into its history row and audit event).
    2. One update retires them, one insert writes the history rows, one the audit events.

    A copy its site retired already keeps its own retirement; reactivating the group's goal later
    leaves every copy retired (each site decides again).
    """
    copies = list(ServiceGoal.objects.select_for_update().active().filter(group_goal=group_goal))
    if not copies:
        return 0
    retired = {"status": ServiceGoal.Status.RETIRED, "retired_at": now, "updated_at": now}
    ServiceGoal.objects.filter(pk__in=[copy.pk for copy in copies]).update(**retired)
    records = []
    for copy in copies:
        for name, value in retired.items():
            setattr(copy, name, value)
        records.append(goal_change_records(copy, GoalChange.Kind.RETIRED, by=by, now=now))
    GoalChange.objects.bulk_create(history for history, _event in records)
    log_actions(event for _history, event in records)
    return len(copies)
