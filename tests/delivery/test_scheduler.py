"""The scheduler's sweeps: creating runs, marking them missed, reminding people. All safe to rerun."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from delivery import services
from delivery.models import ChecklistRun
from delivery.schedule import slots_for_day
from delivery.tasks import mark_missed_runs, schedule_runs, send_run_reminders
from servicedesk.roles import Role
from tests.concurrency import at_once
from tests.factories import ChecklistRunFactory, ChecklistTemplateFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

# Europe/London (the default TIME_ZONE) springs forward on 29 March 2026 and falls back on 25 October.
BEFORE_SPRING = datetime(2026, 3, 28, 5, 0, tzinfo=UTC)
SPRING_DAY = datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
AUTUMN_DAY = datetime(2026, 10, 25, 5, 0, tzinfo=UTC)


def template_created_before(moment, time_machine, **kwargs):
    time_machine.move_to(moment - timedelta(days=2))
    template = ChecklistTemplateFactory(**kwargs)
    time_machine.move_to(moment)
    return template


# --- Creating runs -----------------------------------------------------------------------------------


def test_the_sweep_creates_todays_run_for_each_active_template_once(time_machine):
    daily = template_created_before(SPRING_DAY, time_machine, due_time=time(9, 0))
    practice_wide = template_created_before(SPRING_DAY, time_machine, location=None, touchpoint=None)
    ChecklistTemplateFactory(is_active=False)
    ChecklistTemplateFactory(frequency="ad_hoc")

    schedule_runs()
    schedule_runs()

    runs = ChecklistRun.objects.all()
    assert sorted(r.template_id for r in runs) == sorted([daily.pk, practice_wide.pk])
    run = runs.get(template=daily)
    assert run.period_start == date(2026, 3, 29)
    assert run.location == daily.location
    assert run.responsible_role == Role.STAFF
    assert run.status == ChecklistRun.Status.DUE


def test_the_sweep_reads_templates_in_the_same_number_of_queries_however_many_there_are(
    time_machine, django_assert_max_num_queries
):
    def grow(n):
        for _ in range(n):
            person = UserFactory(role=Role.STAFF)
            template_created_before(SPRING_DAY, time_machine, responsible_person=person)
            template_created_before(
                SPRING_DAY, time_machine, dimension="people", per_person=True, frequency="ad_hoc",
                responsible_person=person,
            )  # fmt: skip

    grow(1)
    with django_assert_max_num_queries(50) as captured:
        schedule_runs()
    grow(5)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        schedule_runs()


def test_each_shift_checklists_get_one_run_per_shift_due_at_its_end(time_machine, settings):
    settings.DELIVERY_SHIFTS = "Morning=08:00-13:00, Afternoon=13:00-18:30"
    template_created_before(BEFORE_SPRING, time_machine, frequency="shift")
    schedule_runs()
    runs = {r.shift: r for r in ChecklistRun.objects.all()}
    assert set(runs) == {"Morning", "Afternoon"}
    assert runs["Afternoon"].due_at == datetime(2026, 3, 28, 18, 30, tzinfo=UTC)


def test_weekly_and_monthly_checklists_get_one_run_for_the_whole_period(time_machine):
    weekly = template_created_before(datetime(2026, 6, 10, 5, tzinfo=UTC), time_machine, frequency="weekly")
    monthly = ChecklistTemplateFactory(frequency="monthly", due_time=time(16, 0))
    monthly.created_at = weekly.created_at
    monthly.save()
    for day in (10, 11, 12):  # Wednesday to Friday: the same week, the same month
        time_machine.move_to(datetime(2026, 6, day, 5, tzinfo=UTC))
        schedule_runs()
    week = ChecklistRun.objects.get(template=weekly)
    month = ChecklistRun.objects.get(template=monthly)
    assert week.period_start == date(2026, 6, 8)  # the Monday
    assert week.due_at == datetime(2026, 6, 12, 9, 0, tzinfo=UTC)  # Friday 10:00 BST
    assert month.period_start == date(2026, 6, 1)
    assert month.due_at == datetime(2026, 6, 30, 15, 0, tzinfo=UTC)  # last weekday, 16:00 BST


def test_a_monthly_deadline_skips_a_weekend_month_end():
    template = ChecklistTemplateFactory.build(frequency="monthly", due_time=time(12, 0))
    (slot,) = slots_for_day(template, date(2026, 5, 14))  # 31 May 2026 is a Sunday
    assert slot.due_at.date() == date(2026, 5, 29)


def test_a_checklist_created_after_todays_deadline_is_not_created_as_missed(time_machine):
    time_machine.move_to(datetime(2026, 6, 10, 11, 0, tzinfo=UTC))  # noon BST, after a 10:00 deadline
    ChecklistTemplateFactory(due_time=time(10, 0))
    schedule_runs()
    assert not ChecklistRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_create_every_run_exactly_once(postgres, time_machine):
    location = LocationFactory()
    for n in range(40):
        template_created_before(SPRING_DAY, time_machine, location=location, touchpoint=None, title=f"T{n}")
    template_created_before(SPRING_DAY, time_machine, dimension="people", per_person=True, location=None)
    for _ in range(10):
        UserFactory()

    def sweep() -> None:
        services.runs_schedule(now=SPRING_DAY + timedelta(minutes=1))

    at_once(sweep, sweep)  # raises what either sweep raised
    assert ChecklistRun.objects.filter(subject__isnull=True).count() == 40
    assert ChecklistRun.objects.filter(subject__isnull=False).count() == 10


# --- Missed, in the practice's time zone, across daylight saving -------------------------------------


@pytest.mark.parametrize(
    ("day", "deadline_utc"),
    [
        (BEFORE_SPRING, datetime(2026, 3, 28, 9, 0, tzinfo=UTC)),  # GMT: 09:00 local is 09:00 UTC
        (SPRING_DAY, datetime(2026, 3, 29, 8, 0, tzinfo=UTC)),  # BST from 01:00: 09:00 local is 08:00 UTC
        (AUTUMN_DAY, datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),  # back to GMT at 02:00
    ],
)
def test_a_run_is_missed_exactly_at_its_local_deadline_across_daylight_saving(
    day, deadline_utc, time_machine
):
    template_created_before(day, time_machine, due_time=time(9, 0))
    schedule_runs()
    run = ChecklistRun.objects.get()
    assert run.due_at == deadline_utc

    time_machine.move_to(deadline_utc - timedelta(seconds=1))
    assert mark_missed_runs() == 0
    time_machine.move_to(deadline_utc)
    assert mark_missed_runs() == 1
    assert mark_missed_runs() == 0  # a rerun changes nothing
    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.MISSED


def test_the_practice_time_zone_setting_decides_the_deadline(time_machine, settings):
    settings.TIME_ZONE = "America/New_York"  # springs forward on 8 March 2026
    template_created_before(datetime(2026, 3, 8, 12, 0, tzinfo=UTC), time_machine, due_time=time(9, 0))
    schedule_runs()
    assert ChecklistRun.objects.get().due_at == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT


def test_completed_runs_and_training_runs_are_never_marked_missed(time_machine):
    time_machine.move_to(SPRING_DAY)
    past = SPRING_DAY - timedelta(hours=1)
    done = ChecklistRunFactory(due_at=past, status="completed", completed_at=past)
    training = ChecklistRunFactory(
        template=ChecklistTemplateFactory(dimension="people", per_person=True),
        subject=UserFactory(),
        due_at=past,
    )
    assert mark_missed_runs() == 0
    assert {r.status for r in ChecklistRun.objects.filter(pk__in=[done.pk, training.pk])} == {
        "completed",
        "due",
    }


# --- Per-person (people) runs ------------------------------------------------------------------------


def test_each_team_member_gets_their_own_onboarding_run_with_a_due_date(time_machine):
    time_machine.move_to(SPRING_DAY)
    site = LocationFactory()
    onboarding = ChecklistTemplateFactory(
        dimension="people", per_person=True, location=site, responsible_role="", due_within_days=14
    )
    here, also_here = UserFactory(location=site), UserFactory(location=site, manager=True)
    UserFactory(location=LocationFactory())  # works elsewhere
    UserFactory(role=None, location=site)  # no role: not on the team
    schedule_runs()
    schedule_runs()
    runs = ChecklistRun.objects.filter(template=onboarding)
    assert {r.subject for r in runs} == {here, also_here}
    run = runs.get(subject=here)
    assert run.assignee == here  # nobody else named: the person completes their own
    assert run.due_at.date() == date(2026, 4, 12)


def test_a_refresher_comes_round_again_before_the_last_one_expires(time_machine):
    time_machine.move_to(datetime(2025, 4, 1, 9, tzinfo=UTC))
    person = UserFactory()
    refresher = ChecklistTemplateFactory(
        dimension="people", per_person=True, location=None, renew_every_days=365, due_within_days=30
    )
    schedule_runs()
    run = ChecklistRun.objects.get()
    ChecklistRun.objects.filter(pk=run.pk).update(
        status="completed", completed_at=datetime(2025, 4, 2, 9, tzinfo=UTC)
    )

    time_machine.move_to(datetime(2026, 3, 1, 9, tzinfo=UTC))  # 32 days before it expires
    schedule_runs()
    assert ChecklistRun.objects.filter(template=refresher).count() == 1
    time_machine.move_to(datetime(2026, 3, 5, 9, tzinfo=UTC))  # inside the 30-day window
    schedule_runs()
    schedule_runs()
    renewal = ChecklistRun.objects.get(template=refresher, status="due")
    assert renewal.subject == person
    assert renewal.due_at.date() == date(2026, 4, 2)


# --- Reminders ---------------------------------------------------------------------------------------


def test_the_responsible_people_are_reminded_once_of_a_run_soon_due(time_machine, mailoutbox, settings):
    settings.DELIVERY_REMINDER_MINUTES = 60
    time_machine.move_to(SPRING_DAY)
    site = LocationFactory()
    staff_here = [UserFactory(location=site), UserFactory(location=site)]
    UserFactory(location=LocationFactory())
    run = ChecklistRunFactory(
        template=ChecklistTemplateFactory(location=site, title="Waiting-room check"),
        due_at=SPRING_DAY + timedelta(minutes=90),
    )
    assert send_run_reminders() == 0  # not yet: 90 minutes away
    time_machine.move_to(SPRING_DAY + timedelta(minutes=31))
    assert send_run_reminders() == 1
    assert send_run_reminders() == 0
    assert sorted(m.to[0] for m in mailoutbox) == sorted(p.email for p in staff_here)
    assert "Waiting-room check" in mailoutbox[0].subject
    assert f"/delivery/runs/{run.pk}/" in mailoutbox[0].body


def test_an_assigned_run_reminds_only_its_assignee_and_not_once_completed(time_machine, mailoutbox):
    time_machine.move_to(SPRING_DAY)
    person = UserFactory()
    ChecklistRunFactory(assignee=person, due_at=SPRING_DAY + timedelta(minutes=30))
    done = SPRING_DAY - timedelta(minutes=5)
    ChecklistRunFactory(status="completed", completed_at=done, due_at=SPRING_DAY + timedelta(minutes=30))
    assert send_run_reminders() == 1
    assert [m.to for m in mailoutbox] == [[person.email]]
