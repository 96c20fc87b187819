"""Writes to the shared vocabulary: the team and its roles, locations and touchpoints, the opening
hours. Each change a manager makes is recorded in the audit log (``servicedesk.audit``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date as date_type
from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from servicedesk.access import forget_practice_settings
from servicedesk.audit import Action, changes, create_logged, log_action, update_logged
from servicedesk.models import ClosedDay, Location, OpeningHours, PracticeSettings, Touchpoint, User
from servicedesk.outbox import message_key, outbox_email
from servicedesk.queue import enqueue, task
from servicedesk.roles import Role
from servicedesk.working_days import COUNTRIES, forget_practice_region

logger = logging.getLogger(__name__)


def _set_role(user: User, role: Role) -> None:
    user.groups.remove(*Group.objects.filter(name__in=Role.values))
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    user.__dict__.pop("role", None)  # forget the cached role


@transaction.atomic
def staff_member_create(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    location: Location | None,
    other_locations: Iterable[Location] = (),
    by: User,
) -> User:
    """Add a team member. They get an email with a link to choose their own password."""
    user = User(username=username, first_name=first_name, last_name=last_name, email=email, location=location)
    user.set_unusable_password()
    user.save()
    user.other_locations.set(_other_sites(other_locations, usual=location))
    _set_role(user, role)
    enqueue(task("servicedesk.tasks.send_welcome_email"), user.pk)
    after = {"role": role.label, "location": location, "also works at": _sites_text(user)}
    log_action(user, Action.CREATED, by, changes({}, after), label=_member_label(user))
    return user


def _other_sites(locations: Iterable[Location], *, usual: Location | None) -> list[Location]:
    """The sites someone covers besides their usual one (which is theirs already)."""
    return [site for site in locations if usual is None or site.pk != usual.pk]


def _sites_text(user: User) -> str:
    return ", ".join(sorted(user.other_locations.values_list("name", flat=True)))


def _member_label(user: User) -> str:
    return f"the team member {user.get_full_name() or user.get_username()} ({user.get_username()})"


@transaction.atomic
def staff_member_update(
    *,
    member: User,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    location: Location | None,
    other_locations: Iterable[Location] | QuerySet[Location] = (),
    is_active: bool,
    by: User,
) -> None:
    """Change a team member's details, role or access.

    Refuses to leave the practice without an active manager: someone must be able to
    manage the team afterwards.
    """
    locked = User.objects.select_for_update().get(pk=member.pk)
    losing_manager = locked.is_manager and (role != Role.MANAGER or not is_active)
    if losing_manager and not User.objects.managers().exclude(pk=locked.pk).exists():
        raise ValidationError("The practice needs at least one active manager; appoint another one first.")
    before = {
        "first name": locked.first_name,
        "last name": locked.last_name,
        "email": locked.email,
        "location": locked.location,
        "also works at": _sites_text(locked),
        "role": locked.role.label if locked.role else "",
        "can log in": locked.is_active,
    }
    User.objects.filter(pk=locked.pk).update(
        first_name=first_name, last_name=last_name, email=email, location=location, is_active=is_active
    )
    locked.other_locations.set(_other_sites(other_locations, usual=location))
    _set_role(locked, role)
    after = {"first name": first_name, "last name": last_name, "email": email, "location": location,
             "also works at": _sites_text(locked), "role": role.label, "can log in": is_active}  # fmt: skip
    if changed := changes(before, after):
        log_action(locked, Action.CHANGED, by, changed, label=_member_label(locked))


@transaction.atomic
def staff_member_send_password_link(*, member: User, by: User, now: datetime) -> bool:
    """A manager's "Send a set-password link": the welcome email again for someone who has not
    chosen a password yet, or a reset link for someone who has. False when they cannot log in
    or have no email address."""
    if not member.is_active or not member.email:
        return False
    if member.has_usable_password():
        password_link_send(user=member, reason="password_link", now=now)
    else:
        # Pending: the welcome email again, claimed afresh so the sweep and the task agree.
        User.objects.filter(pk=member.pk).update(welcome_email_sent_at=None)
        enqueue(task("servicedesk.tasks.send_welcome_email"), member.pk)
    log_action(member, Action.RESENT, by, label=_member_label(member))
    return True


def welcome_email_send(*, user_id: int, now: datetime) -> bool:
    """Queue one welcome email in the outbox, at most once per request for it.

    Claiming ``welcome_email_sent_at`` and writing the message are one transaction: a duplicate
    task or a concurrent sweep finds the claim taken and queues nothing; the outbox sends the
    message after commit and retries a refusal on its own.
    """
    with transaction.atomic():
        claimed = User.objects.awaiting_welcome_email().filter(pk=user_id).update(welcome_email_sent_at=now)
        if not claimed:
            return False
        password_link_send(user=User.objects.get(pk=user_id), reason="welcome", now=now)
    return True


# Why a set-password link is sent → (email template, subject). The outbox kind is the reason.
PASSWORD_LINK_EMAILS = {
    "welcome": ("servicedesk/email/welcome.txt", "Welcome to the team at {practice}: choose your password"),
    "password_link": ("servicedesk/email/password_link.txt", "Choose a new password for {practice}"),
    "password_reset": ("servicedesk/email/password_link.txt", "Choose a new password for {practice}"),
}


def password_link_days() -> int:
    """How many days a set-password link works (the email and the Team page both say it)."""
    return round(settings.PASSWORD_RESET_TIMEOUT / 86400)


def password_link_send(*, user: User, reason: str, now: datetime) -> None:
    """Queue one email with a link to choose a password, in the caller's transaction.

    The link is Django's password-reset link: it works once, and for PASSWORD_RESET_TIMEOUT.
    ``reason``: "welcome" (a new account), "password_link" (a manager sent it) or
    "password_reset" (the person asked on the login page). Each request is its own message.
    """
    template, subject = PASSWORD_LINK_EMAILS[reason]
    link = settings.SITE_URL + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "link": link,
        "practice_name": settings.PRACTICE_NAME,
        "days": password_link_days(),
    }
    outbox_email(
        key=message_key(reason, user.pk, now.isoformat()),
        to=user.email,
        subject=subject.format(practice=settings.PRACTICE_NAME),
        text=render_to_string(template, context),
        kind=reason,
        now=now,
    )


@transaction.atomic
def opening_hours_set(*, days: dict[int, tuple[time, time] | None], by: User) -> list[OpeningHours]:
    """Replace the practice's opening hours: weekday (Monday 0) → (opens, closes), or None when closed.

    Deadlines already given to open incidents stay as promised; incidents logged from now on, and
    pauses that end from now on, count the new hours.
    """
    for weekday, hours in days.items():
        if weekday not in OpeningHours.Weekday.values:
            raise ValidationError(f"{weekday} is not a day of the week.")
        if hours is not None and hours[1] <= hours[0]:
            raise ValidationError("Closing time must be after opening time.")
    before = {row.weekday: row for row in OpeningHours.objects.all()}
    OpeningHours.objects.all().delete()
    rows = OpeningHours.objects.bulk_create(
        OpeningHours(weekday=weekday, opens=hours[0], closes=hours[1])
        for weekday, hours in sorted(days.items())
        if hours is not None
    )

    after = {row.weekday: row for row in rows}
    names = dict(OpeningHours.Weekday.choices)
    changed = changes(
        {str(names[day]): _hours_text(before.get(day)) for day in names},
        {str(names[day]): _hours_text(after.get(day)) for day in names},
    )
    if changed:
        log_action(
            None,
            Action.CHANGED,
            by,
            changed,
            target_type="servicedesk.openinghours",
            label="the opening hours",
        )
    return rows


def _hours_text(row: OpeningHours | None) -> str:
    return "closed" if row is None else f"{row.opens:%H:%M} to {row.closes:%H:%M}"


@transaction.atomic
def closed_day_add(*, date: date_type, reason: str, by: User) -> ClosedDay:
    """A bank holiday or another day the practice stays closed: opening-hours clocks skip it."""
    day = ClosedDay.objects.create(date=date, reason=reason)
    log_action(day, Action.CREATED, by, changes({}, {"reason": reason}), label=_day_label(day))
    return day


def _day_label(day: ClosedDay) -> str:
    return f"the closed day {day.date:%a %d %b %Y}"


@transaction.atomic
def closed_day_remove(*, day: ClosedDay, by: User) -> None:
    log_action(day, Action.REMOVED, by, label=_day_label(day))
    day.delete()


@transaction.atomic
def vocabulary_create(*, model: type[Location | Touchpoint], fields: Mapping[str, Any], by: User) -> Any:
    """Add a location or a touchpoint (``fields``: its form's cleaned data)."""
    return create_logged(model, fields=fields, by=by)


@transaction.atomic
def vocabulary_update(*, obj: Location | Touchpoint, fields: Mapping[str, Any], by: User) -> bool:
    """Rename or re-describe a location or a touchpoint. Returns whether anything changed."""
    return update_logged(obj, fields=fields, by=by)


@transaction.atomic
def vocabulary_set_active(*, obj: Location | Touchpoint, active: bool, by: User) -> None:
    """Deactivate (or reactivate) a location or touchpoint. History keeps pointing at it."""
    if type(obj).objects.filter(pk=obj.pk).exclude(is_active=active).update(is_active=active):
        log_action(obj, Action.ENABLED if active else Action.DISABLED, by)


@transaction.atomic
def practice_settings_save(*, staff_need_to_know: bool, by: User) -> PracticeSettings:
    """Keep the practice-wide rules a manager decides; audited, and in force from the next request."""
    # A new row holds the defaults, which are what the practice had with no row: no change yet.
    row, _created = PracticeSettings.objects.select_for_update().get_or_create(pk=PracticeSettings.SINGLETON)
    label = "staff see only what their work needs"
    if row.staff_need_to_know != staff_need_to_know:
        changed = changes({label: row.staff_need_to_know}, {label: staff_need_to_know})
        row.staff_need_to_know, row.updated_by = staff_need_to_know, by
        row.save()
        log_action(row, Action.CHANGED, by, changed, label="the practice settings")
    forget_practice_settings()  # now, for this request's next read, and again once committed, for everyone's
    transaction.on_commit(forget_practice_settings)
    return row


@transaction.atomic
def practice_calendar_save(*, country: str, region: str, by: User) -> PracticeSettings:
    """Where the practice is, for its bank holidays; audited, in force from the next request."""
    if region not in COUNTRIES.get(country, ("", {}))[1]:
        raise ValidationError("Choose the country and region from the list.", code="invalid")
    row, _created = PracticeSettings.objects.select_for_update().get_or_create(pk=PracticeSettings.SINGLETON)
    if (row.country, row.region) != (country, region):
        changed = changes({"place": f"{row.country}-{row.region}"}, {"place": f"{country}-{region}"})
        row.country, row.region, row.updated_by = country, region, by
        row.save()
        log_action(row, Action.CHANGED, by, changed, label="the practice calendar")
    forget_practice_region()
    transaction.on_commit(forget_practice_region)
    return row
