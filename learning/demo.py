"""Demo learning: patients kept waiting at the Hillcrest front desk, a checklist item added to answer
it 45 days ago, and the effect (fewer incidents, better FFT) measured since.

Made by the real services at past moments: five incidents in the 30 days before the change
(logged, put right and closed), the pattern recorded at the third, the change, and one incident
in the 30 days after. The feedback demo's answers at the front desk improve over the same months
(feedback/demo.py: the strain before day 45 is higher), so FFT is better after too. Idempotent:
nothing is made when the demo's pattern is there already.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from delivery import services as delivery_services
from delivery.models import ChecklistTemplate
from learning import services
from learning.models import Change, Pattern
from recovery import services as recovery_services
from recovery.vocabulary import Category, Severity
from servicedesk.clock import local_today
from servicedesk.models import Touchpoint, User

TOUCHPOINT = "Front desk — Hillcrest"
CHANGE_DAYS_AGO = 45
# Days before the change each incident was logged: five before it, one after.
INCIDENT_DAYS = [-28, -21, -15, -9, -4, 12]
ITEM = "Tell everyone waiting when the clinic is running over 20 minutes late, and how late"


def _at(day_offset: int, hour: int, change_on: datetime) -> datetime:
    return timezone.make_aware(
        datetime.combine(change_on.date() + timedelta(days=day_offset), time(hour, 15))
    )


def seed(*, options: dict, out: Callable[[str], None]) -> None:
    touchpoint = Touchpoint.objects.filter(name=TOUCHPOINT).first()
    manager = User.objects.managers().order_by("pk").first()
    reporter = User.objects.filter(username="nurse").first() or manager
    if touchpoint is None or manager is None:
        out("Learning: skipped (no demo practice).")
        return
    key = services.place_key(Category.WAITING, touchpoint.pk)
    if Pattern.objects.filter(key=key).exists():
        out("Learning: the demo pattern is there already.")
        return
    now = timezone.now()
    change_on = timezone.make_aware(
        datetime.combine(local_today(now) - timedelta(days=CHANGE_DAYS_AGO), time(9))
    )
    with transaction.atomic():
        for n, offset in enumerate(INCIDENT_DAYS):
            opened = _at(offset, 10, change_on)
            incident = recovery_services.incident_open(
                description="Patient waited over 40 minutes at the front desk with no word about the delay.",
                title="Long wait at the Hillcrest front desk, nobody told the patient",
                category=Category.WAITING,
                severity=Severity.MEDIUM,
                touchpoint=touchpoint,
                reporter=reporter,
                now=opened,
            )
            _put_right(incident, manager, opened)
            if offset < 0 and n >= 2:  # from the third in 30 days: recorded as detection would have then
                services.patterns_detect(now=opened + timedelta(minutes=1))
        pattern = Pattern.objects.get(key=key)
        template = ChecklistTemplate.objects.filter(slug="hillcrest-premises").first()
        item = None
        if template is not None:
            item = delivery_services.item_add(template=template, by=manager, text=ITEM, is_critical=False)
        services.change_record(
            pattern=pattern,
            kind=Change.Kind.CHECKLIST_ITEM,
            description=(
                "Reception checks the clinic screens each morning and tells waiting patients about any delay."
            ),
            made_on=change_on.date(),
            by=manager,
            now=change_on,
            linked=item,
        )
    out(f"Learning: a pattern at {TOUCHPOINT} answered with a checklist item {CHANGE_DAYS_AGO} days ago.")


def _put_right(incident, manager: User, opened: datetime) -> None:
    recovery_services.incident_acknowledge(incident=incident, by=manager, now=opened + timedelta(minutes=30))
    recovery_services.incident_resolve(
        incident=incident,
        by=manager,
        now=opened + timedelta(hours=3),
        summary="Apologised and explained the delay; the patient was seen next.",
        root_cause="The clinic ran late and nobody at the desk was told to let patients know.",
    )
    recovery_services.incident_close(incident=incident, by=manager, now=opened + timedelta(days=1))
