from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from delivery import services
from delivery.models import ChecklistResult, ChecklistRun
from servicedesk.roles import Role
from tests.concurrency import at_once
from tests.factories import (
    ChecklistItemFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(location):
    template = ChecklistTemplateFactory(location=location, responsible_role=Role.STAFF)
    ChecklistItemFactory(template=template, order=1, text="Front door unlocked")
    ChecklistItemFactory(template=template, order=2, text="Fire exits clear", is_critical=True)
    return ChecklistRunFactory(template=template)


@pytest.fixture
def receptionist(location):
    return UserFactory(location=location)


def items(run):
    return list(run.template.items.active())


def record(run, item, outcome, by, note=""):
    return services.run_record_result(
        run=run, item=item, outcome=outcome, note=note, by=by, now=timezone.now()
    )


def test_recording_an_item_saves_it_and_starts_the_run(run, receptionist):
    result = record(run, items(run)[0], "pass", receptionist)
    run.refresh_from_db()
    assert result.outcome == "pass"
    assert result.recorded_by == receptionist
    assert run.status == ChecklistRun.Status.IN_PROGRESS
    assert run.started_at is not None


def test_tapping_again_replaces_the_answer_instead_of_adding_one(run, receptionist):
    first = items(run)[0]
    record(run, first, "fail", receptionist, note="Key missing")
    record(run, first, "pass", receptionist)
    assert ChecklistResult.objects.get().outcome == "pass"


def test_a_failure_needs_a_note_when_the_item_says_so_and_nothing_is_saved(run, receptionist):
    with pytest.raises(ValidationError) as exc:
        record(run, items(run)[0], "fail", receptionist, note="   ")
    assert "note" in exc.value.message_dict
    assert not ChecklistResult.objects.exists()
    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.DUE


def test_a_failure_without_a_note_is_fine_when_the_item_does_not_ask_for_one(run, receptionist):
    item = ChecklistItemFactory(template=run.template, note_required_on_fail=False)
    assert record(run, item, "fail", receptionist).outcome == "fail"


def test_an_item_from_another_checklist_is_refused(run, receptionist):
    with pytest.raises(ValidationError):
        record(run, ChecklistItemFactory(), "pass", receptionist)


def test_completing_needs_every_item_answered(run, receptionist):
    record(run, items(run)[0], "pass", receptionist)
    with pytest.raises(ValidationError, match="Fire exits clear"):
        services.run_complete(run=run, by=receptionist, now=timezone.now())
    record(run, items(run)[1], "na", receptionist)
    services.run_complete(run=run, by=receptionist, now=timezone.now())
    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.COMPLETED
    assert run.completed_by == receptionist
    assert run.completed_at is not None


def test_completing_twice_is_refused_and_keeps_the_first_completion(run, receptionist):
    for item in items(run):
        record(run, item, "pass", receptionist)
    services.run_complete(run=run, by=receptionist, now=timezone.now())
    colleague = UserFactory(location=run.location)
    with pytest.raises(services.RunClosed, match="already completed by"):
        services.run_complete(run=run, by=colleague, now=timezone.now())
    with pytest.raises(services.RunClosed):
        record(run, items(run)[0], "fail", colleague, note="late change")
    run.refresh_from_db()
    assert run.completed_by == receptionist
    assert ChecklistResult.objects.filter(outcome="pass").count() == 2


def test_a_missed_run_can_be_done_late_and_is_recorded_as_completed_late(run, receptionist, client):
    past = timezone.now() - timedelta(hours=2)
    ChecklistRun.objects.filter(pk=run.pk).update(status=ChecklistRun.Status.MISSED, due_at=past)
    run.refresh_from_db()
    for item in items(run):
        record(run, item, "pass", receptionist)
    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.MISSED  # until it is completed
    assert services.runs_mark_missed(now=timezone.now()) == 0  # the sweep leaves it be
    services.run_complete(run=run, by=receptionist, now=timezone.now())
    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.COMPLETED
    assert run.completed_late
    client.force_login(receptionist)
    page = client.get(reverse("delivery:run_detail", args=[run.pk])).content.decode()
    assert "Completed late" in page
    with pytest.raises(services.RunClosed, match="already completed"):
        record(run, items(run)[0], "pass", receptionist)


def test_a_run_completed_in_time_is_not_late(run, receptionist):
    for item in items(run):
        record(run, item, "pass", receptionist)
    services.run_complete(run=run, by=receptionist, now=timezone.now())
    run.refresh_from_db()
    assert (run.status, run.completed_late) == (ChecklistRun.Status.COMPLETED, False)


def test_staff_at_another_location_cannot_work_on_the_run(run):
    elsewhere = UserFactory(location=LocationFactory())
    with pytest.raises(PermissionDenied, match="staff team at"):
        record(run, items(run)[0], "pass", elsewhere)
    assert not ChecklistResult.objects.exists()


def test_someone_elses_assigned_run_is_refused_but_a_manager_may_step_in(run, receptionist):
    owner = UserFactory(location=run.location)
    ChecklistRun.objects.filter(pk=run.pk).update(assignee=owner)
    run.refresh_from_db()
    with pytest.raises(PermissionDenied, match=f"assigned to {owner}"):
        services.run_complete(run=run, by=receptionist, now=timezone.now())
    manager = UserFactory(manager=True)
    record(run, items(run)[0], "pass", manager)
    assert ChecklistResult.objects.get().recorded_by == manager


def test_an_account_without_a_role_cannot_work_on_any_run(run, location):
    with pytest.raises(PermissionDenied):
        record(run, items(run)[0], "pass", UserFactory(role=None, location=location))


def test_a_failed_critical_item_sends_check_failed_once_after_commit(
    run, receptionist, check_failed_calls, django_capture_on_commit_callbacks
):
    critical = items(run)[1]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = record(run, critical, "fail", receptionist, note="Blocked by boxes")
        assert check_failed_calls == []  # nothing before the commit
    # check_failed, then recovery's incident_opened for the incident the failure opened.
    assert len(callbacks) == 2
    assert check_failed_calls == [(result.pk, run.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        record(run, critical, "fail", receptionist, note="Still blocked")
        record(run, critical, "pass", receptionist)
        record(run, critical, "fail", receptionist, note="Blocked again")
    assert check_failed_calls == [(result.pk, run.pk)]
    assert ChecklistResult.objects.get(pk=result.pk).failure_reported_at is not None


def test_a_non_critical_failure_sends_nothing(
    run, receptionist, check_failed_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(run, items(run)[0], "fail", receptionist, note="Sticky lock")
    assert check_failed_calls == []


def test_a_refused_failure_sends_nothing(run, check_failed_calls, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        record(run, items(run)[1], "fail", UserFactory(location=LocationFactory()), note="x")
    assert check_failed_calls == []


def test_a_broken_receiver_does_not_undo_the_saved_result(
    run, receptionist, check_failed_calls, django_capture_on_commit_callbacks
):
    from delivery.signals import check_failed

    def broken(**kwargs):
        raise RuntimeError("recovery is down")

    check_failed.connect(broken, dispatch_uid="tests.broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = record(run, items(run)[1], "fail", receptionist, note="Blocked")
    finally:
        check_failed.disconnect(dispatch_uid="tests.broken")
    assert ChecklistResult.objects.filter(pk=result.pk, outcome="fail").exists()
    assert check_failed_calls == [(result.pk, run.pk)]


def test_an_ad_hoc_run_started_twice_the_same_day_is_the_same_run(manager):
    template = ChecklistTemplateFactory(frequency="ad_hoc")
    # Early in the practice's day, so an hour later is still the same local day at any hour the suite runs.
    now = timezone.localtime().replace(hour=9, minute=0)
    first, created = services.run_start_ad_hoc(template=template, by=manager, now=now)
    again, created_again = services.run_start_ad_hoc(
        template=template, by=manager, now=now + timedelta(hours=1)
    )
    assert created
    assert not created_again
    assert first == again
    assert first.due_at > now


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_critical_failures_send_check_failed_once(postgres, check_failed_calls):

    site = LocationFactory()
    template = ChecklistTemplateFactory(location=site)
    critical = ChecklistItemFactory(template=template, is_critical=True, note_required_on_fail=False)
    shared_run = ChecklistRunFactory(template=template)
    people = [UserFactory(location=site), UserFactory(location=site)]
    at_once(*(lambda p=person: record(shared_run, critical, "fail", p) for person in people))
    result = ChecklistResult.objects.get()
    assert check_failed_calls == [(result.pk, shared_run.pk)]
