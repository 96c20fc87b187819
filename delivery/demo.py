"""Demo delivery: a dozen checklists across process, people and place, 90 days of runs, protocols.

Idempotent: templates and protocols are matched by slug and title, runs by their unique key
(template, period, shift, place, person) and results by (run, item), all inserted with
``ignore_conflicts``. The random choices are seeded by the run's key, so a second seeding
on the same day writes nothing new. Runs from today on are left to the scheduler (which
the demo then runs once, so "My work" has today's checklists).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from delivery import schedule, services
from delivery.models import ChecklistItem, ChecklistResult, ChecklistRun, ChecklistTemplate, Protocol
from servicedesk.attachments import samples
from servicedesk.attachments.services import attachment_store
from servicedesk.models import Location, Touchpoint, User
from servicedesk.roles import Role

DAYS = 90
RIVERSIDE, HILLCREST = "Riverside Surgery", "Hillcrest Clinic"

PROTOCOLS = [
    {
        "title": "Answering the phone",
        "touchpoint": "Main phone line",
        "review_in_days": 120,
        "body": (
            "# Answering the phone\n\n"
            "Patients who get through first time do not give up, or turn up at the desk instead.\n\n"
            "1. Answer within **three rings**; say the practice name and your first name.\n"
            "2. Listen to the whole request before offering an appointment.\n"
            "3. Urgent symptoms (chest pain, breathing difficulty, stroke signs): follow the "
            "*red flags* card and put the call through to the duty doctor at once.\n"
            "4. Before the call ends, repeat back what will happen next and when.\n\n"
            "Voicemail is emptied at **08:15** and **13:30**; every message gets a call back the same day."
        ),
    },
    {
        "title": "Patient portal and email messages",
        "touchpoint": "Patient portal",
        "review_in_days": -20,  # overdue for review: the manager sees it
        "body": (
            "# Portal and email messages\n\n"
            "Every message is **answered within one working day**.\n\n"
            "- Prescription requests go to the prescribing team's queue.\n"
            "- Clinical questions go to the duty doctor; tell the patient when to expect an answer.\n"
            "- Never send test results by email; invite the patient to the portal.\n"
            "- File patient-identifiable emails to the record, then delete them from the inbox."
        ),
    },
    {
        "title": "Opening the premises",
        "touchpoint": "Front desk — Riverside",
        "review_in_days": 200,
        "body": (
            "# Opening the premises\n\n"
            "The building must be clean, safe and step-free **before the first patient arrives** (08:30).\n\n"
            "| Check | Why |\n|---|---|\n"
            "| Fire exits clear | Safety; a blocked exit is a critical failure |\n"
            "| Ramp and automatic door working | Patients with limited mobility |\n"
            "| Hearing loop on | Patients with hearing aids |\n\n"
            "If anything critical fails, record it on the checklist: an incident opens automatically."
        ),
    },
    {
        "title": "Booking an interpreter",
        "touchpoint": None,
        "review_in_days": 60,
        "body": (
            "# Booking an interpreter\n\n"
            "A consultation the patient cannot follow is unsafe. **Relatives are not interpreters.**\n\n"
            "- Check tomorrow's list for the *interpreter needed* flag by 16:00.\n"
            "- Book through the interpreting service; double appointments for interpreted consultations.\n"
            "- Note the language and the booking reference on the appointment."
        ),
    },
]


class Checklist(NamedTuple):
    """One demo checklist; ``rate`` is how often its 90 days of history were completed."""

    slug: str
    title: str
    dimension: str
    frequency: str
    location: str | None
    touchpoint: str | None
    due: time
    role: Role
    protocol: str | None
    rate: float
    items: list[tuple[str, bool, str]]  # (text, critical, guidance)


# Locations, touchpoints and protocols by name: the core demo data and PROTOCOLS above.
TEMPLATES = [
    Checklist(
        "morning-premises", "Morning premises check", "place", "daily",
        RIVERSIDE, "Front desk — Riverside", time(8, 30), Role.STAFF, "Opening the premises", 0.96, [
            ("Entrance, ramp and automatic door clear and working", True, "Try the door button yourself."),
            ("Fire exits clear and unlocked", True, "Both exits, including the one behind the store room."),
            ("Waiting-room chairs clean and undamaged", False, ""),
            ("Hand sanitiser stocked at the entrance", False, ""),
            ("Accessible toilet clean, alarm cord hanging free", True, "The cord must reach the floor."),
            ("Hearing loop switched on and tested", False, "Use the loop listener in the top drawer."),
        ]),
    Checklist(
        "hillcrest-premises", "Morning premises check — Hillcrest", "place", "daily",
        HILLCREST, "Front desk — Hillcrest", time(8, 30), Role.STAFF, "Opening the premises", 0.92, [
            ("Entrance clear and unlocked", True, ""),
            ("Fire exits clear", True, ""),
            ("Reception desk tidy, screen privacy filter in place", False, ""),
            ("Leaflet stand stocked", False, ""),
        ]),
    Checklist(
        "waiting-room", "Waiting-room check", "place", "shift",
        RIVERSIDE, "Waiting room — Riverside", time(13, 0), Role.STAFF, None, 0.9, [
            ("Floor dry and free of trip hazards", True, ""),
            ("Call screen showing the right clinics", False, ""),
            ("Notices and leaflets up to date", False, "Remove anything past its date."),
            ("Water dispenser filled, cups stocked", False, ""),
            ("Children's corner tidy and toys wiped", False, ""),
        ]),
    Checklist(
        "phone-line", "Phone line and voicemail check", "place", "daily",
        None, "Main phone line", time(8, 15), Role.STAFF, "Answering the phone", 0.95, [
            ("Lines open and the greeting is today's", False, ""),
            ("Voicemail emptied, every message logged for a call back", True, ""),
            ("Queue message matches today's opening hours", False, ""),
            (
                "Urgent voicemails passed to the duty doctor",
                True,
                "Anything on the red flags card is urgent.",
            ),
        ]),
    Checklist(
        "portal-messages", "Portal messages answered within a working day", "place", "daily",
        None, "Patient portal", time(17, 0), Role.STAFF, "Patient portal and email messages", 0.93, [
            ("No portal message older than one working day is unanswered", True, ""),
            ("Prescription requests passed to the prescribing team", False, ""),
            ("Clinical questions flagged to the duty doctor", True, ""),
        ]),
    Checklist(
        "email-inbox", "Email inbox check", "place", "daily",
        None, "Practice email inbox", time(16, 0), Role.STAFF, "Patient portal and email messages", 0.94, [
            ("Every email acknowledged", False, ""),
            ("Nothing waiting longer than one working day", True, ""),
            ("Patient-identifiable emails filed to the record and deleted", False, ""),
        ]),
    Checklist(
        "phone-answering-spot-check", "Phone answering spot check", "process", "daily",
        None, "Main phone line", time(11, 0), Role.MANAGER, "Answering the phone", 0.88, [
            ("Test call answered within three rings", False, "Call from a mobile at a random time."),
            ("Caller greeted with the practice name and a first name", False, ""),
            ("Next step repeated back before the call ended", False, ""),
        ]),
    Checklist(
        "interpreter-booking", "Interpreter booking check", "process", "daily",
        None, None, time(16, 0), Role.STAFF, "Booking an interpreter", 0.97, [
            ("Tomorrow's list checked for the interpreter flag", False, ""),
            ("Every flagged appointment has an interpreter booked", True, "Relatives are not interpreters."),
            ("Interpreted appointments are double length", False, ""),
        ]),
    Checklist(
        "appointment-access", "Weekly appointment access review", "process", "weekly",
        None, None, time(16, 0), Role.MANAGER, None, 0.9, [
            ("Next routine appointment within two weeks", False, ""),
            ("Same-day slots released at 08:00 every day", False, ""),
            ("Did-not-attend rate reviewed and reminders working", False, ""),
        ]),
    Checklist(
        "complaints-review", "Monthly complaints and incidents review", "process", "monthly",
        None, None, time(16, 0), Role.MANAGER, None, 1.0, [
            ("Every complaint acknowledged within three working days", False, ""),
            ("Themes shared at the team meeting", False, ""),
            ("Actions from last month closed or carried over", False, ""),
        ]),
]  # fmt: skip
COMPLETION_RATE = {row.slug: row.rate for row in TEMPLATES}
PEOPLE_TEMPLATES = [
    ("onboarding", "Onboarding: new team member", 14, None, [
        ("Fire exits, alarm points and assembly point shown", True, ""),
        ("Smartcard and system logins working", False, ""),
        ("Read the service goals and the phone protocol", False, ""),
        ("Shadowed the front desk for a morning", False, ""),
    ]),
    ("fire-safeguarding-refresher", "Annual fire safety and safeguarding refresher", 30, 365, [
        ("Fire safety e-learning completed", False, ""),
        ("Safeguarding adults and children level 2 completed", False, ""),
        ("Information governance module completed", False, ""),
    ]),
]  # fmt: skip


@transaction.atomic
def seed(*, options: dict, out: Callable[[str], None]) -> None:
    now = timezone.now()
    today = schedule.local_date(now)
    locations = {loc.name: loc for loc in Location.objects.all()}
    touchpoints = {tp.name: tp for tp in Touchpoint.objects.all()}
    manager = User.objects.managers().order_by("pk").first()
    if manager is None:
        out("Delivery: skipped (no manager to own the protocols).")
        return
    protocols = _protocols(manager, touchpoints, today)
    templates = _templates(locations, touchpoints, protocols)
    people_templates = _people_templates()
    # Back-date the templates so the scheduler treats the 90 days as their history.
    ChecklistTemplate.objects.filter(pk__in=[t.pk for t in templates + people_templates]).update(
        created_at=now - timedelta(days=DAYS + 1)
    )
    runs = _history(templates, now=now, today=today)
    _failed_check_with_photo()
    training = _training(people_templates, now=now, today=today)
    services.runs_schedule(now=now)
    out(
        f"Delivery: {len(templates) + len(people_templates)} checklists, {len(protocols)} protocols, "
        f"{runs} runs over {DAYS} days, training for {training} people."
    )


def _protocols(owner: User, touchpoints: dict, today: date) -> dict[str, Protocol]:
    protocols = {}
    for data in PROTOCOLS:
        protocol = Protocol.objects.filter(title=data["title"]).first()
        fields = {
            "owner": owner,
            "touchpoint": touchpoints.get(data["touchpoint"]),
            "review_by": today + timedelta(days=data["review_in_days"]),
        }
        if protocol is None:
            protocol = services.protocol_create(title=data["title"], body=data["body"], by=owner, **fields)
        else:
            services.protocol_update(
                protocol=protocol, body=data["body"], change_note="Demo text", by=owner, **fields
            )
        protocols[protocol.title] = protocol
    return protocols


def _with_items(template: ChecklistTemplate, items: list[tuple[str, bool, str]]) -> None:
    if template.items.exists():
        return
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            template=template,
            order=n,
            text=text,
            is_critical=critical,
            guidance=guidance,
            note_required_on_fail=True,
        )
        for n, (text, critical, guidance) in enumerate(items, start=1)
    )


def _templates(locations: dict, touchpoints: dict, protocols: dict) -> list[ChecklistTemplate]:
    templates = []
    for row in TEMPLATES:
        template, _ = ChecklistTemplate.objects.update_or_create(
            slug=row.slug,
            defaults={
                "title": row.title,
                "description": f"Demo checklist; usually completed {round(row.rate * 100)}% of the time.",
                "dimension": row.dimension,
                "frequency": row.frequency,
                "location": locations.get(row.location),
                "touchpoint": touchpoints.get(row.touchpoint),
                "due_time": row.due,
                "responsible_role": row.role,
                "protocol": protocols.get(row.protocol),
                "is_active": True,
            },
        )
        _with_items(template, row.items)
        templates.append(template)
    return templates


def _people_templates() -> list[ChecklistTemplate]:
    templates = []
    for slug, title, within, renew, items in PEOPLE_TEMPLATES:
        template, _ = ChecklistTemplate.objects.update_or_create(
            slug=slug,
            defaults={
                "title": title,
                "dimension": ChecklistTemplate.Dimension.PEOPLE,
                "frequency": ChecklistTemplate.Frequency.AD_HOC,
                "per_person": True,
                "due_within_days": within,
                "renew_every_days": renew,
                "responsible_role": "",
                "location": None,
                "is_active": True,
            },
        )
        _with_items(template, items)
        templates.append(template)
    return templates


def _doers(template: ChecklistTemplate) -> list[User]:
    people = User.objects.with_role(Role(template.responsible_role)).order_by("pk")
    if template.location_id and template.responsible_role == Role.STAFF:
        people = people.filter(location=template.location_id)
    return list(people) or list(User.objects.managers().order_by("pk"))


def _history(templates: list[ChecklistTemplate], *, now, today: date) -> int:
    """Runs for the past 90 days with realistic completion, a few failures, and their results."""
    wanted: dict[tuple, ChecklistRun] = {}
    plans: dict[tuple, tuple] = {}
    for template in templates:
        doers = _doers(template)
        items = list(template.items.active())
        for offset in range(DAYS, 0, -1):
            for slot in schedule.slots_for_day(template, today - timedelta(days=offset)):
                key = (template.pk, slot.period_start, slot.shift)
                if key in wanted or slot.due_at >= now:
                    continue
                rng = random.Random(f"{template.slug}|{slot.period_start}|{slot.shift}")
                completed = rng.random() < COMPLETION_RATE[template.slug]
                status = ChecklistRun.Status.COMPLETED if completed else ChecklistRun.Status.MISSED
                run = services.periodic_run(template, slot, status=status)
                if completed:
                    run.completed_by = rng.choice(doers)
                    run.completed_at = slot.due_at - timedelta(minutes=rng.randint(5, 150))
                    run.started_at = run.completed_at - timedelta(minutes=rng.randint(2, 10))
                wanted[key] = run
                plans[key] = (rng, items)
    ChecklistRun.objects.bulk_create(wanted.values(), ignore_conflicts=True, batch_size=1000)

    saved = ChecklistRun.objects.filter(template__in=templates, subject__isnull=True, period_start__lt=today)
    results = []
    for run in saved.only(
        "pk", "template_id", "period_start", "shift", "status", "completed_at", "completed_by"
    ):
        key = (run.template_id, run.period_start, run.shift)
        if key not in plans or run.status != ChecklistRun.Status.COMPLETED:
            continue
        rng, items = plans[key]
        for item in items:
            roll = rng.random()
            outcome, note = ChecklistResult.Outcome.PASS, ""
            if roll < (0.004 if item.is_critical else 0.02):
                outcome, note = ChecklistResult.Outcome.FAIL, rng.choice(FAILURE_NOTES)
            elif roll > 0.985:
                outcome = ChecklistResult.Outcome.NOT_APPLICABLE
            recorded_at = run.completed_at - timedelta(minutes=1)
            results.append(
                ChecklistResult(
                    run_id=run.pk,
                    item=item,
                    outcome=outcome,
                    note=note,
                    recorded_by_id=run.completed_by_id,
                    recorded_at=recorded_at,
                    # Demo history: recovery's own demo decides which of these became incidents.
                    failure_reported_at=recorded_at if outcome == "fail" and item.is_critical else None,
                )
            )
    ChecklistResult.objects.bulk_create(results, ignore_conflicts=True, batch_size=2000)
    return len(wanted)


def _failed_check_with_photo() -> ChecklistResult | None:
    """The latest morning premises check at Riverside: the fire exit found blocked, with a photo
    (recovery's demo opens the incident it leads to). Once: a second seed finds it."""
    results = ChecklistResult.objects.filter(run__template__slug="morning-premises")
    if results.filter(attachment__isnull=False).exists():
        return None
    item = ChecklistItem.objects.filter(
        template__slug="morning-premises", text__startswith="Fire exits"
    ).first()
    run = (
        ChecklistRun.objects.filter(template__slug="morning-premises", status=ChecklistRun.Status.COMPLETED)
        .order_by("-period_start")
        .first()
    )
    if item is None or run is None or run.completed_at is None:
        return None
    at = run.completed_at - timedelta(minutes=1)
    photo = attachment_store(upload=samples.photo("fire-exit.jpg"), by=run.completed_by, now=at)
    result, _ = ChecklistResult.objects.update_or_create(
        run=run,
        item=item,
        defaults={
            "outcome": ChecklistResult.Outcome.FAIL,
            "note": "Boxes stacked against the back fire exit.",
            "recorded_by": run.completed_by,
            "recorded_at": at,
            "failure_reported_at": at,
            "attachment": photo,
        },
    )
    return result


FAILURE_NOTES = [
    "Boxes from the delivery left in front of it; moved them and told the practice manager.",
    "Not working this morning; reported to the landlord.",
    "Ran out; ordered more, arriving tomorrow.",
    "Three messages over a day old; answered them now.",
    "Broken; put a sign up and logged a repair.",
]


def _training(templates: list[ChecklistTemplate], *, now, today: date) -> int:
    """Onboarding done long ago for everyone; refreshers at various stages, one overdue."""
    onboarding, refresher = templates
    people = list(User.objects.team().order_by("pk"))
    already = set(
        ChecklistRun.objects.filter(template__in=templates, subject__in=people).values_list(
            "subject_id", flat=True
        )
    )
    runs = []
    for n, person in enumerate(people):
        if person.pk in already:  # seeded before (or trained for real): leave their history alone
            continue
        joined = today - timedelta(days=400 + 30 * n)
        done_at = schedule.at_local(joined + timedelta(days=9), time(15, 0))
        runs.append(_person_run(onboarding, person, joined, done_at, done_at))
        # Refresher: most recently done 120 days ago; the last person's expired and is overdue.
        if n == len(people) - 1 and n > 0:
            last = schedule.at_local(today - timedelta(days=380), time(15, 0))
            runs.append(_person_run(refresher, person, today - timedelta(days=410), last, last))
            opened = today - timedelta(days=45)
            runs.append(
                _person_run(
                    refresher, person, opened, schedule.at_local(opened + timedelta(days=30), time(10))
                )
            )
        else:
            done = schedule.at_local(today - timedelta(days=120 + 20 * n), time(15, 0))
            runs.append(_person_run(refresher, person, done.date() - timedelta(days=20), done, done))
    ChecklistRun.objects.bulk_create(runs, ignore_conflicts=True)
    return len(people)


def _person_run(template, person, period_start: date, due_at, completed_at=None) -> ChecklistRun:
    return ChecklistRun(
        template=template,
        period_start=period_start,
        subject=person,
        assignee=person,
        due_at=due_at,
        status=ChecklistRun.Status.COMPLETED if completed_at else ChecklistRun.Status.DUE,
        completed_by=person if completed_at else None,
        completed_at=completed_at,
        started_at=completed_at,
    )
