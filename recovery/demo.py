"""Demo recovery: SLA policies, five continuity plans, and about 60 incidents in every state.

The incidents are made by the real services at past moments, so their timelines read like
two months of a practice's life: logged, acknowledged (some late, after an escalation),
worked, paused while waiting on a patient, resolved, closed, a few reopened, and patients
asked "Did we put it right?". Random choices come from a fixed seed.

Idempotent: plans are matched by title, drills by date, and the incidents are only made
when the demo's incidents are not there yet. ``--incidents N`` tops the database up to N
extra closed-and-open incidents with ``bulk_create``, for benchmarks.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from delivery.models import ChecklistResult
from recovery import services
from recovery.models import Drill, FollowUp, Incident, RecoveryPlan, Severity
from servicedesk import outbox
from servicedesk.attachments import samples
from servicedesk.models import OutboxMessage, Touchpoint, User
from servicedesk.roles import Role

DEMO_COUNT = 60
VOLUME_TITLE = "Volume incident"

PLANS = [
    {
        "title": "Ransomware or IT outage",
        "summary": "Computers, the clinical system or the network are down or locked by ransomware.",
        "drill_every_days": 182,
        "last_drill_days_ago": 120,
        "steps": [
            ("Do not turn infected machines off; unplug them from the network and Wi-Fi.", "Whoever notices"),
            (
                "Phone the IT support line (number on the back of this sheet) and the practice manager.",
                "Duty manager",
            ),
            (
                "Switch to paper: appointment lists printed at 07:30 each day, paper prescription pads.",
                "Reception lead",
            ),
            (
                "Tell patients at the desk and by the phone message that we are running on paper.",
                "Reception lead",
            ),
            (
                "Report to the data protection officer within 24 hours if patient data may be affected.",
                "Practice manager",
            ),
            ("Keep a log of everything done and when: it is needed for the incident report.", "Duty manager"),
        ],
    },
    {
        "title": "Phone system down",
        "summary": "Patients cannot reach the practice on the main number.",
        "drill_every_days": 91,
        "last_drill_days_ago": 30,
        "steps": [
            (
                "Divert the main number to the emergency mobile from the provider's web portal.",
                "Duty manager",
            ),
            ("Post a notice on the website and the patient portal with the mobile number.", "Reception lead"),
            ("Ask the duty doctor to call back urgent requests from the portal first.", "Duty doctor"),
            (
                "Log the outage as an incident (Phones and IT systems) so that the time is on record.",
                "Reception lead",
            ),
        ],
    },
    {
        "title": "Records-system downtime",
        "summary": "The clinical records system is unavailable (planned or unplanned).",
        "drill_every_days": 182,
        "last_drill_days_ago": 200,  # overdue: the manager sees the reminder
        "steps": [
            (
                "Print tomorrow's clinic lists and summaries for booked patients (planned downtime).",
                "Reception lead",
            ),
            ("Use the downtime forms for consultations; keep them in the red folder.", "Clinicians"),
            (
                "No repeat prescriptions without a record check, except urgent ones the duty doctor agrees.",
                "Duty doctor",
            ),
            ("When the system is back, enter the paper records the same day.", "Clinicians"),
        ],
    },
    {
        "title": "Staff shortage",
        "summary": "Sickness or absence leaves the front desk or clinics short of people.",
        "drill_every_days": 365,
        "last_drill_days_ago": 90,
        "steps": [
            ("Call in the bank staff list, in order, until the desk has two people.", "Duty manager"),
            (
                "Protect urgent and same-day appointments; move routine reviews with a call to each patient.",
                "Reception lead",
            ),
            ("Put a message on the phone line about longer waits.", "Reception lead"),
            ("Tell the team at the 13:00 huddle what has changed for the afternoon.", "Duty manager"),
        ],
    },
    {
        "title": "Power cut",
        "summary": "The building loses power.",
        "drill_every_days": 365,
        "last_drill_days_ago": None,  # never rehearsed
        "steps": [
            ("Check the vaccine fridge temperatures and start the cold-chain log.", "Practice nurse"),
            (
                "Move patients from the lift and dark areas; open the fire doors' manual release if needed.",
                "Duty manager",
            ),
            ("Use the laptop on battery and the mobile to see today's list.", "Reception lead"),
            ("Call the electricity network on 105 for an estimate of how long it will last.", "Duty manager"),
        ],
    },
]

# (category, touchpoint, severity, what happened)
SCENARIOS = [
    (
        "waiting",
        "Waiting room — Riverside",
        Severity.MEDIUM,
        "Patient waited 50 minutes past their appointment without being told why.",
    ),
    ("access", "Main phone line", Severity.MEDIUM, "Caller held for 25 minutes at 08:00 and then cut off."),
    (
        "attitude",
        "Front desk — Riverside",
        Severity.HIGH,
        "Patient felt the receptionist was dismissive about an urgent request.",
    ),
    (
        "communication",
        "Practice email inbox",
        Severity.LOW,
        "Email about a referral went unanswered for a week.",
    ),
    (
        "prescriptions",
        "Patient portal",
        Severity.HIGH,
        "Repeat prescription not issued; patient ran out of medication.",
    ),
    (
        "privacy",
        "Front desk — Hillcrest",
        Severity.CRITICAL,
        "Another patient's letter was handed over with this patient's.",
    ),
    ("systems", "Patient portal", Severity.MEDIUM, "Portal showed no appointments for three days."),
    ("premises", "Waiting room — Riverside", Severity.LOW, "Accessible toilet out of order all morning."),
    (
        "care",
        "Video consultations",
        Severity.HIGH,
        "Video consultation dropped twice; patient not called back.",
    ),
    ("admin", "Front desk — Hillcrest", Severity.LOW, "Sick note request lost; patient had to ask again."),
    ("access", "Appointment SMS", Severity.MEDIUM, "Reminder SMS gave the wrong site for the appointment."),
    (
        "communication",
        "Consulting rooms — Riverside",
        Severity.MEDIUM,
        "Test results explained in jargon; patient left confused and worried.",
    ),
]

FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Ella", "Farah", "George", "Hana", "Ivan", "Jo"]


def add_arguments(parser) -> None:
    parser.add_argument(
        "--incidents",
        type=int,
        default=0,
        metavar="N",
        help="Also add N extra incidents (mostly closed) with bulk_create, for benchmarks.",
    )
    parser.add_argument(
        "--incident-days",
        type=int,
        default=90,
        metavar="D",
        help="Spread those incidents over the last D days (1825: a five-year practice's history).",
    )
    parser.add_argument(
        "--incidents-open",
        type=float,
        default=0.15,
        metavar="SHARE",
        help="The share of those incidents still open, logged in the last ten hours (default 0.15).",
    )


def seed(*, options: dict, out: Callable[[str], None]) -> None:
    services.sla_policies_ensure_defaults()
    now = timezone.now()
    managers = list(User.objects.managers().order_by("pk"))
    team = list(User.objects.with_role(Role.STAFF).order_by("pk")) + managers
    plans = _seed_plans(owner=managers[0] if managers else None, today=timezone.localdate(now))
    made = _seed_incidents(team=team, now=now) if team else 0
    _seed_photos(team=team, now=now)
    out(f"Recovery: 4 SLA policies, {plans} recovery plans, {made} new demo incidents.")
    if options.get("incidents"):
        added = bulk_incidents(
            options["incidents"],
            now=now,
            open_share=options.get("incidents_open", 0.15),
            due=0,
            days=options.get("incident_days", 90),
        )
        out(f"Recovery: {added} extra incidents for benchmarks (bulk).")


@transaction.atomic
def _seed_plans(*, owner: User | None, today: date) -> int:
    for spec in PLANS:
        plan = RecoveryPlan.objects.filter(title=spec["title"]).first()
        plan = services.plan_save(
            plan=plan,
            title=spec["title"],
            summary=spec["summary"],
            owner=plan.owner if plan else owner,
            drill_every_days=spec["drill_every_days"],
            next_drill_on=plan.next_drill_on if plan else today + timedelta(days=30),
            is_active=True,
            steps=[services.PlanStepSpec(instruction=i, owner=o) for i, o in spec["steps"]],
        )
        if spec["last_drill_days_ago"] is not None:
            held_on = today - timedelta(days=spec["last_drill_days_ago"])
            if not Drill.objects.filter(plan=plan, held_on=held_on).exists():
                services.drill_log(
                    plan=plan,
                    held_on=held_on,
                    led_by=owner,
                    outcome=Drill.Outcome.GAPS if spec["last_drill_days_ago"] > 100 else Drill.Outcome.WORKED,
                    notes="Rehearsed with the morning team; the printed copy was out of date, now replaced.",
                    today=today,
                )
    return len(PLANS)


# Roughly how a practice's incidents stand after two months: most put right, a few still live.
STATES = (
    ["closed"] * 20
    + ["resolved"] * 10
    + ["in_progress"] * 10
    + ["paused"] * 4
    + ["acknowledged"] * 6
    + ["new"] * 6
    + ["reopened"] * 4
)


def _seed_incidents(*, team: list[User], now: datetime) -> int:
    titles = [services.incidents.title_from(text) for *_rest, text in SCENARIOS]
    if Incident.objects.filter(title__in=titles).count() >= DEMO_COUNT:
        return 0
    touchpoints = {tp.name: tp for tp in Touchpoint.objects.all()}
    rng = random.Random(2026)
    made = 0
    # Messages go nowhere: the demo must not email its fictional patients and managers.
    with outbox.discarding():
        for n, state in enumerate(STATES):
            category, touchpoint, severity, text = SCENARIOS[n % len(SCENARIOS)]
            age = _age(state, severity, n=n, rng=rng)
            with transaction.atomic():
                _one_incident(
                    state=state,
                    category=category,
                    touchpoint=touchpoints.get(touchpoint),
                    severity=severity,
                    text=text,
                    start=now - age,
                    now=now,
                    team=team,
                    rng=rng,
                    n=n,
                )
            made += 1
    return made


def _seed_photos(*, team: list[User], now: datetime) -> None:
    """The incident the demo's failed check (with its photo) opened, and a note with a photo on an
    incident being worked. Once each: a second seed finds them."""
    with outbox.discarding():
        failed = ChecklistResult.objects.filter(
            attachment__isnull=False, outcome=ChecklistResult.Outcome.FAIL, recovery_incident__isnull=True
        )
        for result in failed:
            services.incident_open_from_check(result_id=result.pk, now=result.recorded_at)
        if not team or FollowUp.objects.filter(kind=FollowUp.Kind.NOTE, attachment__isnull=False).exists():
            return
        incident = Incident.objects.filter(status=Incident.Status.IN_PROGRESS).order_by("pk").first()
        if incident is not None:
            services.incident_note(
                incident=incident,
                by=incident.assignee or team[0],
                body="Photo of the waiting-room chair that gave way; taken out of use.",
                now=now - timedelta(minutes=2),
                attachment=samples.photo("chair.jpg", colour="#546e7a"),
            )


def _age(state: str, severity: str, *, n: int, rng: random.Random) -> timedelta:
    """How long ago it was logged. Finished incidents spread over two months; live ones are recent
    and mostly within their SLA, with a couple running late, as in a practice that keeps up."""
    if state in ("new", "acknowledged"):
        return timedelta(hours=rng.randint(1, 20))
    if state in ("in_progress", "paused"):
        resolve_within = services.DEFAULT_SLA[Severity(severity)][1]
        share = 1.3 if n % 7 == 0 else rng.uniform(0.1, 0.7)  # every seventh one is overdue
        return resolve_within * share
    return timedelta(days=rng.randint(3, 60), hours=rng.randint(0, 8))


def _one_incident(*, state, category, touchpoint, severity, text, start, now, team, rng, n) -> None:
    reporter, worker = rng.choice(team), rng.choice(team)
    consent = rng.random() < 0.5
    incident = services.incident_open(
        description=text,
        category=category,
        severity=severity,
        touchpoint=touchpoint,
        reporter=reporter,
        now=start,
        patient_consented=consent,
        patient_name=FIRST_NAMES[n % len(FIRST_NAMES)] if consent else "",
        patient_email=f"patient{n}@example.org" if consent else "",
    )
    if state == "new":
        _escalate_until(incident, until=now)
        return
    # Some were acknowledged in time, some only after an escalation.
    late = rng.random() < 0.25
    respond_in = incident.respond_by - start
    ack_at = start + (respond_in * 1.5 if late else respond_in * rng.uniform(0.1, 0.8))
    ack_at = min(ack_at, now - timedelta(minutes=5))
    _escalate_until(incident, until=ack_at)
    incident = services.incident_acknowledge(incident=incident, by=worker, now=ack_at)
    services.incident_assign(incident=incident, assignee=worker, by=worker, now=ack_at)
    if state == "acknowledged":
        return
    # Each later step a little after the one before, and all of them before now: a step after
    # now is a timeline in the future, and (just before midnight) an action due "today" refused.
    t = min(ack_at + timedelta(minutes=20), now - timedelta(minutes=4))
    incident = services.incident_start(incident=incident, by=worker, now=t)
    services.incident_note(
        incident=incident, by=worker, body="Checked the rota and spoke to the colleague involved.", now=t
    )
    if consent:
        services.incident_log_contact(
            incident=incident,
            by=worker,
            channel="phone",
            outcome=rng.choice(["apologised", "explained", "left_message"]),
            body="Listened, apologised, explained what we are doing about it.",
            now=min(t + timedelta(hours=1), now - timedelta(minutes=3)),
        )
    if state == "in_progress":
        due = timezone.localdate(now) if n % 3 == 0 else timezone.localdate(now) + timedelta(days=2)
        services.incident_add_action(
            incident=incident,
            by=worker,
            description="Call the patient back with the outcome",
            due_on=due,
            now=t,
            owner=worker,
        )
        return
    if state == "paused":
        services.incident_pause(
            incident=incident,
            by=worker,
            reason="Waiting for the patient to confirm a convenient time",
            now=min(t + timedelta(hours=2), now - timedelta(minutes=2)),
        )
        return
    resolved_at = min(t + timedelta(hours=rng.randint(3, 80)), now - timedelta(minutes=1))
    incident = services.incident_resolve(
        incident=incident,
        by=worker,
        summary="Apologised to the patient and put the immediate problem right.",
        root_cause=rng.choice(
            [
                "Clinic overran and nobody updated the waiting room.",
                "Only one person on the phones at 08:00.",
                "The process was not written down; a new colleague did not know it.",
                "A system change was not communicated to the front desk.",
            ]
        ),
        now=resolved_at,
    )
    if consent and resolved_at + timedelta(days=1) < now:
        _ask_and_answer(incident, by=worker, at=resolved_at + timedelta(days=1), now=now, rng=rng)
    if state == "resolved":
        return
    closed_at = min(resolved_at + timedelta(days=2), now)
    incident = services.incident_close(incident=incident, by=worker, now=closed_at)
    if state == "reopened":
        services.incident_reopen(
            incident=incident,
            by=worker,
            reason="It happened again to the same patient.",
            now=max(closed_at + timedelta(minutes=30), now - timedelta(days=1)),  # reopened lately
        )


def _escalate_until(incident: Incident, *, until: datetime) -> None:
    """Climb the escalation steps that would have fired before ``until`` (nobody responded)."""
    incident.refresh_from_db()
    while incident.next_escalation_at is not None and incident.next_escalation_at <= until:
        if not services.incident_escalate(incident_id=incident.pk, now=incident.next_escalation_at):
            break
        incident.refresh_from_db()


def _ask_and_answer(incident: Incident, *, by: User, at: datetime, now: datetime, rng: random.Random) -> None:
    services.loop_link_send(incident=incident, by=by, now=at)
    message = OutboxMessage.objects.get(key=outbox.message_key("recovery_loop", incident.pk))
    token = re.search(r"/recovery/r/([^/\s]+)/", message.text).group(1)
    if rng.random() < 0.8:  # most answer, mostly yes
        services.loop_answer(
            token=token, recovered=rng.random() < 0.75, now=min(at + timedelta(hours=6), now)
        )


def bulk_incidents(count: int, *, now: datetime, open_share: float, due: int, days: int = 90) -> int:
    """Top the database up to ``count`` volume incidents, fast (no per-row services, no timelines
    beyond the opening row). ``due`` of the open ones are past their respond-by with level 1 due."""
    existing = Incident.objects.filter(title__startswith=VOLUME_TITLE).count()
    to_add = max(0, count - existing)
    if not to_add:
        return 0
    touchpoints = list(Touchpoint.objects.values_list("pk", "location_id")) or [(None, None)]
    rng = random.Random(existing)
    year = timezone.localtime(now).year
    categories = [c for c, *_ in SCENARIOS]
    open_count = round(to_add * open_share)
    with transaction.atomic():
        rows = []
        for k, number in enumerate(services.incidents.reserve_reference_numbers(year, to_add)):
            touchpoint_id, location_id = touchpoints[k % len(touchpoints)]
            is_open = k < open_count
            is_due = k < due
            created = now - timedelta(hours=rng.randint(1, 24 * days))
            if is_due:
                created = now - timedelta(hours=30)  # respond-by 6 h ago: level 1 due, level 2 not yet
            elif is_open:
                created = now - timedelta(minutes=rng.randint(1, 600))
            respond_by = created + timedelta(days=1)
            resolve_by = created + timedelta(days=7)
            rows.append(
                Incident(
                    reference=services.incidents.format_reference(year, number),
                    title=f"{VOLUME_TITLE} {number}",
                    description="Benchmark volume.",
                    category=categories[k % len(categories)],
                    severity=Severity.MEDIUM,
                    touchpoint_id=touchpoint_id,
                    location_id=location_id,
                    status=Incident.Status.NEW if is_open else Incident.Status.CLOSED,
                    respond_by=respond_by,
                    resolve_by=resolve_by,
                    acknowledged_at=None if is_open else created + timedelta(hours=2),
                    resolved_at=None if is_open else created + timedelta(days=2),
                    closed_at=None if is_open else created + timedelta(days=3),
                    resolution_summary="" if is_open else "Put right.",
                    root_cause="" if is_open else "Volume.",
                    # Level 1 fires at the respond-by deadline (the default ladder's first step).
                    next_escalation_at=respond_by if is_open else None,
                )
            )
        created_rows = Incident.objects.bulk_create(rows, batch_size=5000)
        FollowUp.objects.bulk_create(
            (
                FollowUp(
                    incident=i, at=i.respond_by - timedelta(days=1), kind=FollowUp.Kind.OPENED, body="Volume."
                )
                for i in created_rows
            ),
            batch_size=5000,
        )
        # created_at is set on insert; put it back to when each incident was logged.
        added = Incident.objects.filter(pk__gte=created_rows[0].pk, title__startswith=VOLUME_TITLE)
        added.update(created_at=F("respond_by") - timedelta(days=1))
        added.fill_similar_before()
    return to_add
