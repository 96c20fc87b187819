"""The run page staff use on a phone, and the My work section that lists today's runs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import ChecklistResult, ChecklistRun
from servicedesk.roles import Role
from tests.factories import (
    ChecklistItemFactory,
    ChecklistResultFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def run(staff, location):
    staff.location = location
    staff.save()
    template = ChecklistTemplateFactory(title="Morning premises check", location=location)
    ChecklistItemFactory(template=template, order=1, text="Front door unlocked")
    ChecklistItemFactory(template=template, order=2, text="Fire exits clear", is_critical=True)
    return ChecklistRunFactory(template=template)


def record_url(run, item):
    return reverse("delivery:run_record", args=[run.pk, item.pk])


def first_item(run):
    return run.template.items.first()


# --- Access matrix -----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, run):
    responses = [
        client.get(reverse("delivery:run_detail", args=[run.pk])),
        client.post(reverse("delivery:run_complete", args=[run.pk])),
        client.post(record_url(run, first_item(run)), {"outcome": "pass"}),
    ]
    for response in responses:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not ChecklistResult.objects.exists()


def test_staff_see_the_run_with_one_tap_buttons_for_each_item(staff_client, run):
    response = staff_client.get(reverse("delivery:run_detail", args=[run.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Morning premises check" in html
    assert html.count('name="outcome" value="pass"') == 2
    assert "0 of 2 items recorded" in html
    assert "<script>" not in html.replace("<script src=", "")  # no inline scripts


def test_a_manager_can_open_and_work_on_any_run(manager_client, run):
    response = manager_client.post(record_url(run, first_item(run)), {"outcome": "pass"})
    assert response.status_code == 302
    assert ChecklistResult.objects.get().recorded_by.username == "mgr"


def test_an_account_without_a_role_is_refused(client, run):
    client.force_login(UserFactory(role=None, location=run.location))
    assert client.get(reverse("delivery:run_detail", args=[run.pk])).status_code == 403


def test_an_unknown_run_is_a_404(staff_client):
    assert staff_client.get(reverse("delivery:run_detail", args=[999999])).status_code == 404


# --- Recording ---------------------------------------------------------------------------------------


def test_without_javascript_a_tap_saves_and_returns_to_the_item(staff_client, run):
    item = first_item(run)
    response = staff_client.post(record_url(run, item), {"outcome": "pass", "note": ""})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#item-{item.pk}")
    assert ChecklistResult.objects.get(item=item).outcome == "pass"


def test_with_htmx_a_tap_returns_just_the_item_and_the_new_progress(staff_client, run):
    item = first_item(run)
    response = staff_client.post(record_url(run, item), {"outcome": "na"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="item-{item.pk}"' in html
    assert "Fire exits clear" not in html
    assert 'hx-swap-oob="true"' in html
    assert "1 of 2 items recorded" in html
    assert 'aria-pressed="true"' in html


def test_a_failure_without_its_note_is_refused_with_a_clear_message(staff_client, run):
    response = staff_client.post(record_url(run, first_item(run)), {"outcome": "fail", "note": ""}, **HTMX)
    assert response.status_code == 422
    assert "Say what is wrong in the note" in response.content.decode()
    assert not ChecklistResult.objects.exists()
    response = staff_client.post(record_url(run, first_item(run)), {"outcome": "fail", "note": ""})
    assert response.status_code == 422
    assert "Say what is wrong in the note" in response.content.decode()


def test_a_made_up_outcome_is_refused(staff_client, run):
    response = staff_client.post(record_url(run, first_item(run)), {"outcome": "maybe"})
    assert response.status_code == 422
    assert "Tap Pass, Fail or N/A" in response.content.decode()
    assert not ChecklistResult.objects.exists()


def test_someone_elses_run_is_refused_with_the_reason(client, run):
    # They cover the run's site (so they see it), but their daily checklists are another site's.
    colleague = UserFactory(location=LocationFactory())
    colleague.other_locations.add(run.location)
    client.force_login(colleague)
    response = client.post(record_url(run, first_item(run)), {"outcome": "pass"}, **HTMX)
    assert response.status_code == 403
    assert "This checklist is for the staff team at" in response.content.decode()
    page = client.get(reverse("delivery:run_detail", args=[run.pk])).content.decode()
    assert "This checklist is for the staff team at" in page
    assert 'name="outcome"' not in page
    assert not ChecklistResult.objects.exists()


def test_a_failed_critical_item_through_the_page_sends_check_failed_once(
    staff_client, run, check_failed_calls, django_capture_on_commit_callbacks
):
    critical = run.template.items.get(is_critical=True)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(record_url(run, critical), {"outcome": "fail", "note": "Boxes in the way"}, **HTMX)
        staff_client.post(record_url(run, critical), {"outcome": "fail", "note": "Boxes in the way"}, **HTMX)
    result = ChecklistResult.objects.get(item=critical)
    assert check_failed_calls == [(result.pk, run.pk)]


# --- Completing --------------------------------------------------------------------------------------


def test_completing_the_run_thanks_the_person_and_shows_it_done(staff_client, run):
    for item in run.template.items.all():
        ChecklistResultFactory(run=run, item=item)
    response = staff_client.post(reverse("delivery:run_complete", args=[run.pk]), follow=True)
    assert "Morning premises check is complete" in response.content.decode()
    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.COMPLETED


def test_completing_with_items_left_lists_them(staff_client, run):
    response = staff_client.post(reverse("delivery:run_complete", args=[run.pk]))
    assert response.status_code == 422
    assert (
        "Record every item before completing: Front door unlocked; Fire exits clear"
        in response.content.decode()
    )


def test_completing_twice_says_who_already_did_it(staff_client, run):
    colleague = UserFactory(first_name="Ada", last_name="Lovelace", location=run.location)
    ChecklistRun.objects.filter(pk=run.pk).update(
        status="completed", completed_by=colleague, completed_at=timezone.now()
    )
    response = staff_client.post(reverse("delivery:run_complete", args=[run.pk]))
    assert response.status_code == 409
    assert "already completed by Ada Lovelace" in response.content.decode()


def test_completing_someone_elses_run_is_forbidden(client, run):
    # They cover the run's site (so they see it), but their daily checklists are another site's.
    colleague = UserFactory(location=LocationFactory())
    colleague.other_locations.add(run.location)
    client.force_login(colleague)
    assert client.post(reverse("delivery:run_complete", args=[run.pk])).status_code == 403
    run.refresh_from_db()
    assert run.status == ChecklistRun.Status.DUE


def test_pages_only_accept_posts_for_changes(staff_client, run):
    assert staff_client.get(reverse("delivery:run_complete", args=[run.pk])).status_code == 405


# --- My work ------------------------------------------------------------------------------------------


def test_my_work_lists_todays_runs_for_me_my_role_and_my_location(staff_client, staff, run):
    mine = ChecklistRunFactory(
        template=ChecklistTemplateFactory(title="My own check", location=None), assignee=staff
    )
    ChecklistRunFactory(template=ChecklistTemplateFactory(title="Elsewhere check"))  # another location
    ChecklistRunFactory(
        template=ChecklistTemplateFactory(
            title="Managers check", location=run.location, responsible_role=Role.MANAGER
        )
    )
    ChecklistRunFactory(
        template=ChecklistTemplateFactory(title="Tomorrow check", location=run.location),
        period_start=timezone.localdate() + timedelta(days=1),
    )
    html = staff_client.get(reverse("my_work")).content.decode()
    assert "Morning premises check" in html
    assert "My own check" in html
    assert "Elsewhere check" not in html
    assert "Managers check" not in html
    assert "Tomorrow check" not in html
    assert reverse("delivery:run_detail", args=[mine.pk]) in html


def test_my_work_has_a_clear_empty_state(client):
    client.force_login(UserFactory())
    assert "No checklists for you today." in client.get(reverse("my_work")).content.decode()


def test_my_work_query_count_stays_flat_as_runs_grow(client, staff, location, django_assert_max_num_queries):
    staff.location = location
    staff.save()
    client.force_login(staff)

    def add_runs(n):
        for _ in range(n):
            run = ChecklistRunFactory(template=ChecklistTemplateFactory(location=location))
            ChecklistResultFactory(run=run)

    add_runs(2)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("my_work"))
    add_runs(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("my_work"))
    assert response.content.decode().count("/delivery/runs/") == 12


def test_run_page_query_count_stays_flat_as_items_grow(staff_client, run, django_assert_max_num_queries):
    with django_assert_max_num_queries(30) as few:
        staff_client.get(reverse("delivery:run_detail", args=[run.pk]))
    for _ in range(15):
        ChecklistResultFactory(run=run, item=ChecklistItemFactory(template=run.template))
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(reverse("delivery:run_detail", args=[run.pk]))


def test_an_archived_item_cannot_be_recorded(staff_client, run):
    item = first_item(run)
    item.is_active = False
    item.save()
    assert staff_client.post(record_url(run, item), {"outcome": "pass"}, **HTMX).status_code == 404
    assert not ChecklistResult.objects.exists()


def test_a_tap_on_a_run_completed_meanwhile_explains_and_saves_nothing(staff_client, run):
    ChecklistRun.objects.filter(pk=run.pk).update(status="completed", completed_at=timezone.now())
    response = staff_client.post(record_url(run, first_item(run)), {"outcome": "pass"}, **HTMX)
    assert response.status_code == 409
    assert "already completed" in response.content.decode()
    assert not ChecklistResult.objects.exists()


# --- Need to know: another site's runs --------------------------------------------------------------


def test_staff_cannot_see_or_work_another_sites_run(client, run):
    client.force_login(UserFactory(location=LocationFactory(name="Hilltop")))
    assert client.get(reverse("delivery:run_detail", args=[run.pk])).status_code == 404
    assert client.post(record_url(run, first_item(run)), {"outcome": "pass"}).status_code == 404
    assert client.post(reverse("delivery:run_complete", args=[run.pk])).status_code == 404
    assert not ChecklistResult.objects.exists()


def test_staff_see_a_run_tied_to_no_site_and_managers_see_every_run(client, manager_client, run):
    practice_wide = ChecklistRunFactory(template=ChecklistTemplateFactory(location=None))
    assert manager_client.get(reverse("delivery:run_detail", args=[run.pk])).status_code == 200
    client.force_login(UserFactory(location=LocationFactory(name="Hilltop")))
    assert client.get(reverse("delivery:run_detail", args=[practice_wide.pk])).status_code == 200


def test_switched_off_staff_see_another_sites_run_again(client, run):
    from servicedesk.models import PracticeSettings

    PracticeSettings.objects.create(pk=PracticeSettings.SINGLETON, staff_need_to_know=False)
    client.force_login(UserFactory(location=LocationFactory(name="Hilltop")))
    page = client.get(reverse("delivery:run_detail", args=[run.pk]))
    assert page.status_code == 200
    assert "This checklist is for the staff team at" in page.content.decode()  # seen, not worked
