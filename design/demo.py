"""Demo service design: five patient-need profiles and eight goals over the three pillars. Idempotent.

Goals name metrics other apps register (feedback, delivery, recovery). Until those apps
are in use the goals show "no data", which is the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from design.models import Accommodation, GoalAcknowledgement, PatientNeed, PatientNeedProfile, ServiceGoal
from design.services import goal_create
from design.tasks import measure_goals
from servicedesk.models import Location, Touchpoint, User

A = Accommodation.Kind
P = PatientNeed.Priority

PROFILES = [
    {
        "name": "Older patients with limited mobility",
        "description": "Over-75s and anyone who finds stairs, standing in a queue or a busy phone line hard.",
        "estimated_share": Decimal("14.0"),
        "needs": [
            ("Step-free route from the car park to the consulting room", P.ESSENTIAL),
            ("A seat and a call-back option instead of holding on the phone", P.ESSENTIAL),
            ("Appointments after the morning rush", P.IMPORTANT),
            ("Home visits when travel is not possible", P.IMPORTANT),
        ],
        "accommodations": [
            (A.STEP_FREE, "Ramp at Riverside; ground-floor rooms at Hillcrest"),
            (A.LONGER_APPOINTMENT, "20-minute slots on request"),
            (A.CARER_PRESENT, ""),
        ],
        "touchpoints": ["Main phone line", "Front desk — Riverside"],
    },
    {
        "name": "Patients who need an interpreter",
        "description": "Patients whose first language is not English, and Deaf patients who use BSL.",
        "estimated_share": Decimal("6.0"),
        "needs": [
            ("An interpreter booked before the appointment, never a family member", P.ESSENTIAL),
            ("Letters and reminders in their language", P.IMPORTANT),
            ("Extra time for the consultation", P.IMPORTANT),
        ],
        "accommodations": [
            (A.INTERPRETER, "Polish, Romanian, Bengali, Arabic; BSL by video"),
            (A.LONGER_APPOINTMENT, "Double slot when an interpreter is booked"),
        ],
        "touchpoints": ["Front desk — Hillcrest", "Video consultations"],
    },
    {
        "name": "Working parents",
        "description": "Parents and carers who cannot phone at 8 am or take half a day off for a visit.",
        "estimated_share": Decimal("22.0"),
        "needs": [
            ("Book, change and cancel online at any hour", P.ESSENTIAL),
            ("Early-morning, evening or video appointments", P.IMPORTANT),
            ("Text reminders the day before", P.NICE_TO_HAVE),
        ],
        "accommodations": [],
        "touchpoints": ["Patient portal", "Appointment SMS", "Video consultations"],
    },
    {
        "name": "Patients with a learning disability",
        "description": "Patients on the learning disability register and the people who support them.",
        "estimated_share": Decimal("2.5"),
        "needs": [
            ("Information in easy read", P.ESSENTIAL),
            ("A quiet place to wait", P.IMPORTANT),
            ("The same clinician where possible", P.IMPORTANT),
        ],
        "accommodations": [
            (A.LARGE_PRINT, "Easy read letters and leaflets"),
            (A.LONGER_APPOINTMENT, "30-minute annual health checks"),
            (A.CARER_PRESENT, "Invite the carer or support worker"),
        ],
        "touchpoints": ["Front desk — Riverside", "Main phone line"],
    },
    {
        "name": "Patients with long-term conditions",
        "description": "Diabetes, COPD, heart disease and other conditions that need regular reviews.",
        "estimated_share": Decimal("30.0"),
        "needs": [
            ("Reviews scheduled by us, not chased by them", P.ESSENTIAL),
            ("Repeat prescriptions without the phone queue", P.IMPORTANT),
            ("Continuity with a named clinician", P.IMPORTANT),
        ],
        "accommodations": [],
        "touchpoints": ["Patient portal", "Practice email inbox"],
    },
]

# Names of touchpoints, locations and profiles refer to the core demo data and PROFILES above;
# "serves" links the goal to the profiles it is for.
GOALS = [
    {
        "title": "Patients rate the front desk positively",
        "pillar": "design",
        "metric_key": "feedback.fft_positive_pct",
        "touchpoint": "Front desk — Riverside",
        "comparator": "gte",
        "target": Decimal("90"),
        "tolerance": Decimal("3"),
        "purpose": "The front desk is the face of the practice: a warm welcome sets up the whole visit.",
        "budget_money": Decimal("100"),
        "budget_staff_hours": Decimal("4"),
        "serves": ["Older patients with limited mobility", "Patients with a learning disability"],
    },
    {
        "title": "Interpreter booked for every patient who needs one",
        "pillar": "design",
        "metric_key": "delivery.checklist_completion_pct",
        "params": {"checklist": "interpreter-booking"},
        "comparator": "gte",
        "target": Decimal("100"),
        "purpose": "A consultation the patient cannot follow is unsafe; relatives are not interpreters.",
        "budget_money": Decimal("900"),
        "budget_staff_hours": Decimal("6"),
        "serves": ["Patients who need an interpreter"],
    },
    {
        "title": "Most of our promises are kept",
        "pillar": "design",
        "metric_key": "design.goals_met_pct",
        "comparator": "gte",
        "target": Decimal("80"),
        "tolerance": Decimal("5"),
        "period": "quarter_to_date",
        "purpose": "The goals are only worth writing down if we keep them; this one watches the others.",
        "budget_staff_hours": Decimal("2"),
    },
    {
        "title": "Morning premises check completed",
        "pillar": "delivery",
        "metric_key": "delivery.checklist_completion_pct",
        "params": {"checklist": "morning-premises"},
        "location": "Riverside Surgery",
        "comparator": "gte",
        "target": Decimal("95"),
        "tolerance": Decimal("2"),
        "purpose": "Clean, safe, step-free premises every morning before the first patient arrives.",
        "budget_staff_hours": Decimal("10"),
        "serves": ["Older patients with limited mobility"],
    },
    {
        "title": "Phone answered within 3 rings",
        "pillar": "delivery",
        "metric_key": "delivery.checklist_completion_pct",
        "params": {"dimension": "process", "checklist": "phone-answering-spot-check"},
        "touchpoint": "Main phone line",
        "comparator": "gte",
        "target": Decimal("85"),
        "tolerance": Decimal("5"),
        "purpose": "Patients who get through first time do not give up, or turn up at the desk instead.",
        "budget_money": Decimal("250"),
        "budget_staff_hours": Decimal("40"),
        "serves": ["Older patients with limited mobility", "Patients with long-term conditions"],
    },
    {
        "title": "Online booking rated well by working parents",
        "pillar": "delivery",
        "metric_key": "feedback.fft_positive_pct",
        "touchpoint": "Patient portal",
        "profile": "Working parents",
        "comparator": "gte",
        "target": Decimal("85"),
        "tolerance": Decimal("3"),
        "purpose": "Parents book when they can, often late at night: the portal has to just work.",
        "budget_money": Decimal("60"),
        "serves": ["Working parents"],
    },
    {
        "title": "Complaints get a first response within 4 working hours",
        "pillar": "recovery",
        "metric_key": "recovery.median_hours_to_first_response",
        "comparator": "lte",
        "target": Decimal("4"),
        "tolerance": Decimal("1"),
        "purpose": "A patient who is heard quickly is far more likely to trust us again.",
        "budget_staff_hours": Decimal("12"),
    },
    {
        "title": "Incidents resolved within their SLA",
        "pillar": "recovery",
        "metric_key": "recovery.pct_resolved_within_sla",
        "comparator": "gte",
        "target": Decimal("90"),
        "tolerance": Decimal("5"),
        "purpose": "Putting things right only counts if we do it in the time we said.",
        "budget_staff_hours": Decimal("16"),
    },
]


def _seed_profiles() -> dict[str, PatientNeedProfile]:
    touchpoints = {tp.name: tp for tp in Touchpoint.objects.all()}
    profiles = {}
    for data in PROFILES:
        profile, _ = PatientNeedProfile.objects.update_or_create(
            name=data["name"],
            defaults={"description": data["description"], "estimated_share": data["estimated_share"]},
        )
        for description, priority in data["needs"]:
            PatientNeed.objects.update_or_create(
                profile=profile, description=description, defaults={"priority": priority}
            )
        for kind, detail in data["accommodations"]:
            Accommodation.objects.update_or_create(profile=profile, kind=kind, defaults={"detail": detail})
        profile.preferred_touchpoints.set(
            [touchpoints[name] for name in data["touchpoints"] if name in touchpoints]
        )
        profiles[profile.name] = profile
    return profiles


def _seed_goals(profiles: dict[str, PatientNeedProfile], owner: User) -> list[ServiceGoal]:
    now = timezone.now()
    locations = {loc.name: loc for loc in Location.objects.all()}
    touchpoints = {tp.name: tp for tp in Touchpoint.objects.all()}
    goals = []
    for number, data in enumerate(GOALS):
        goal = ServiceGoal.objects.filter(title=data["title"]).first()
        if goal is None:
            goal = goal_create(
                by=owner,
                now=now,
                fields={
                    "title": data["title"],
                    "purpose": data["purpose"],
                    "pillar": data["pillar"],
                    "owner": owner,
                    "metric_key": data["metric_key"],
                    "metric_params": data.get("params", {}),
                    "location": locations.get(data.get("location")),
                    "touchpoint": touchpoints.get(data.get("touchpoint")),
                    "need_profile": profiles.get(data.get("profile")),
                    "comparator": data["comparator"],
                    "target": data["target"],
                    "tolerance": data.get("tolerance", Decimal(0)),
                    "period": data.get("period", ServiceGoal.Period.ROLLING_30_DAYS),
                    "budget_money": data.get("budget_money"),
                    "budget_staff_hours": data.get("budget_staff_hours"),
                    # Reviews spread over the coming months; one falls inside the reminder window.
                    "review_on": timezone.localdate(now) + timedelta(days=10 + 30 * number),
                },
            )
            # Set when the demo practice started, 90 days of data ago, so last month's report has them.
            ServiceGoal.objects.filter(pk=goal.pk).update(created_at=now - timedelta(days=90))
        for name in data.get("serves", []):
            profiles[name].goals.add(goal)
        goals.append(goal)
    return goals


@transaction.atomic
def seed(*, options: dict, out: Callable[[str], None]) -> None:
    owner = User.objects.managers().order_by("pk").first()
    if owner is None:
        out("Service design: skipped, no manager to own the goals.")
        return
    profiles = _seed_profiles()
    goals = _seed_goals(profiles, owner)
    # The receptionist has read the front-desk and phone goals; the others are on their My work list.
    reader = User.objects.filter(username="reception").first()
    if reader is not None:
        for goal in goals:
            if goal.title in ("Patients rate the front desk positively", "Phone answered within 3 rings"):
                GoalAcknowledgement.objects.get_or_create(
                    goal=goal, user=reader, version=goal.version, defaults={"acknowledged_at": timezone.now()}
                )
    out(f"Service design: {len(profiles)} patient-need profiles, {len(goals)} goals.")


def after_seed(*, options: dict, out: Callable[[str], None]) -> None:
    """Measure every goal once all pillars have seeded, so goals show figures at once."""
    out(f"Service design: measured {measure_goals()} goals against the demo data.")
