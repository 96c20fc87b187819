"""Incident pages: who may do what, the quick log, the list's filters, the detail's actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from recovery.models import FollowUp, Incident
from tests.factories import LocationFactory, TouchpointFactory, UserFactory, open_incident
from tests.recovery.conftest import covering_every_site, drive_to

Status = Incident.Status
LIST = reverse("recovery:incident_list")
NEW = reverse("recovery:incident_log")


def detail(incident: Incident) -> str:
    return reverse("recovery:incident_detail", args=[incident.reference])


def act(incident: Incident, action: str) -> str:
    return reverse(f"recovery:incident_{action}", args=[incident.reference])


# --- Access matrix ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["incident_list", "incident_log"])
def test_anonymous_visitors_are_sent_to_login(client, url_name):
    response = client.get(reverse(f"recovery:{url_name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_anonymous_visitors_see_no_incident_and_cannot_act(client):
    incident = open_incident()
    assert client.get(detail(incident)).status_code == 302
    assert client.post(act(incident, "acknowledge")).status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.NEW


@pytest.mark.django_db
def test_an_account_without_a_role_is_refused(client):
    client.force_login(UserFactory(role=None))
    incident = open_incident()
    assert client.get(LIST).status_code == 403
    assert client.get(detail(incident)).status_code == 403
    assert client.post(act(incident, "acknowledge")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["staff_client", "manager_client"])
def test_staff_and_managers_see_and_work_incidents(request, who, staff):
    client = request.getfixturevalue(who)
    incident = open_incident()
    covering_every_site(staff)
    assert incident.reference in client.get(LIST).content.decode()
    assert incident.title in client.get(detail(incident)).content.decode()
    assert client.post(act(incident, "acknowledge")).status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.ACKNOWLEDGED


# --- Quick log -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_log_an_incident_with_the_quick_form(staff_client, staff):
    touchpoint = TouchpointFactory(name="Front desk — Riverside")
    page = staff_client.get(NEW).content.decode()
    assert "The patient is upset and needs a call back." in page  # plain-language severity help
    response = staff_client.post(
        NEW,
        {
            "description": "Patient shouted at for arriving late.\nThey left in tears.",
            "touchpoint": touchpoint.pk,
            "severity": "high",
            "category": "attitude",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(incident)
    assert incident.title == "Patient shouted at for arriving late."
    assert incident.reporter == staff
    assert incident.location == touchpoint.location
    assert not incident.patient_consented


@pytest.mark.django_db
def test_the_quick_log_keeps_contact_details_only_with_consent(staff_client):
    touchpoint = TouchpointFactory()
    data = {
        "description": "Lost prescription",
        "touchpoint": touchpoint.pk,
        "severity": "medium",
        "category": "prescriptions",
        "patient_name": "Ada",
        "patient_phone": "07700 900123",
    }
    refused = staff_client.post(NEW, data)
    assert refused.status_code == 400
    assert "Tick the consent box" in refused.content.decode()
    assert not Incident.objects.exists()
    accepted = staff_client.post(NEW, {**data, "patient_consented": "on"})
    assert accepted.status_code == 302
    assert Incident.objects.get().patient_phone == "07700 900123"


@pytest.mark.django_db
def test_the_quick_log_explains_what_is_missing(staff_client):
    response = staff_client.post(NEW, {"description": "", "severity": "urgent"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Say what happened" in page
    assert "Choose where it happened" in page
    assert "Choose what it is about" in page
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_logging_a_critical_incident_says_to_tell_a_manager_now(staff_client):
    touchpoint = TouchpointFactory()
    response = staff_client.post(
        NEW,
        {
            "description": "Notes left on the desk",
            "touchpoint": touchpoint.pk,
            "severity": "critical",
            "category": "privacy",
        },
        follow=True,
    )
    assert "tell a manager now" in response.content.decode()


# --- List --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_open_incidents_by_default_and_can_show_all(staff_client, staff, manager):
    open_one = drive_to(Status.IN_PROGRESS, by=manager)
    closed = drive_to(Status.CLOSED, by=manager)
    covering_every_site(staff)
    page = staff_client.get(LIST).content.decode()
    assert open_one.reference in page
    assert closed.reference not in page
    page = staff_client.get(LIST, {"status": "all"}).content.decode()
    assert open_one.reference in page
    assert closed.reference in page
    page = staff_client.get(LIST, {"status": "closed"}).content.decode()
    assert open_one.reference not in page
    assert closed.reference in page


@pytest.mark.django_db
def test_the_list_filters_by_every_field(staff_client, staff, manager):
    site = LocationFactory()
    desk = TouchpointFactory(location=site)
    target = open_incident(severity="high", category="privacy", touchpoint=desk)
    other = open_incident(severity="low", category="waiting")
    Incident.objects.filter(pk=target.pk).update(assignee=staff)
    for params in (
        {"severity": "high"},
        {"category": "privacy"},
        {"touchpoint": desk.pk},
        {"location": site.pk},
        {"assignee": staff.pk},
        {"mine": "on"},
        {"q": target.reference},
        {"q": target.reference.lower()},  # as someone types it
        {"status": "new"},
    ):
        page = staff_client.get(LIST, params).content.decode()
        assert target.reference in page, params
        if params != {"status": "new"}:
            assert other.reference not in page, params


@pytest.mark.django_db
def test_the_word_search_finds_words_in_the_title_or_the_description_in_any_case(staff_client, staff):
    titled = open_incident(title="Phone line busy all morning")
    described = open_incident(title="Complaint", description="Nobody answered the PHONE for an hour.")
    other = open_incident(title="Leaflets out of date")
    covering_every_site(staff)
    page = staff_client.get(LIST, {"q": "phone"}).content.decode()
    assert titled.reference in page
    assert described.reference in page
    assert other.reference not in page


def test_on_postgresql_the_word_search_reads_trigram_indexes(postgres):
    """Without them the search reads every incident ever logged (330 ms at 100,000)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'recovery_incident'")
        names = {row[0] for row in cursor.fetchall()}
        assert {"incident_title_trgm", "incident_description_trgm"} <= names
        cursor.execute("SET enable_seqscan = off")  # a tiny test table: make the planner show its options
        words = Q(title__icontains="phone") | Q(description__icontains="phone")
        plan = Incident.objects.order_by().filter(words).explain()
        cursor.execute("SET enable_seqscan = on")
    assert "incident_title_trgm" in plan
    assert "incident_description_trgm" in plan


@pytest.mark.django_db
def test_the_overdue_filter_shows_only_late_incidents(staff_client, staff):
    late = open_incident(severity="critical", now=timezone.now() - timedelta(hours=2))
    on_time = open_incident(severity="low")
    covering_every_site(staff)
    page = staff_client.get(LIST, {"overdue": "on"}).content.decode()
    assert late.reference in page
    assert on_time.reference not in page
    assert "Response overdue by" in page


@pytest.mark.django_db
def test_the_list_sorts_by_severity_and_paginates(staff_client, staff):
    touchpoint = TouchpointFactory(location=None)  # practice-wide: every staff member sees its incidents
    for severity in ["low"] * 25 + ["critical"]:
        open_incident(severity=severity, touchpoint=touchpoint)
    page = staff_client.get(LIST, {"sort": "severity"})
    rows = page.context["page"].object_list
    assert rows[0].severity == "critical"
    assert len(rows) == 25
    second = staff_client.get(LIST, {"sort": "severity", "page": 2})
    assert len(second.context["page"].object_list) == 1
    assert "sort=severity" in page.content.decode()  # the next-page link keeps the sort


@pytest.mark.django_db
def test_the_list_shows_an_empty_state(staff_client):
    assert "No open incidents" in staff_client.get(LIST).content.decode()
    assert "No incidents match" in staff_client.get(LIST, {"severity": "high"}).content.decode()


@pytest.mark.django_db
def test_a_bad_filter_value_is_ignored_not_a_500(staff_client):
    open_incident()
    assert staff_client.get(LIST, {"sort": "drop table", "page": "x", "assignee": "abc"}).status_code == 200


@pytest.mark.django_db
def test_the_list_runs_the_same_number_of_queries_for_3_or_30_incidents(
    staff_client, staff, django_assert_num_queries
):
    touchpoint = TouchpointFactory()

    def make(n):
        for _ in range(n):
            incident = open_incident(touchpoint=touchpoint)
            Incident.objects.filter(pk=incident.pk).update(assignee=staff)

    make(3)
    staff_client.get(LIST)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        staff_client.get(LIST)
    make(27)
    with django_assert_num_queries(len(small.captured_queries)):
        staff_client.get(LIST)


# --- Detail and actions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_page_runs_the_same_number_of_queries_for_a_short_or_long_timeline(
    staff_client, staff, django_assert_num_queries
):
    incident = drive_to(Status.IN_PROGRESS, by=staff)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff_client.get(detail(incident))
    with CaptureQueriesContext(connection) as short:
        staff_client.get(detail(incident))
    for n in range(20):
        from recovery import services

        services.incident_note(incident=incident, by=UserFactory(), body=f"Note {n}", now=timezone.now())
        services.incident_add_action(
            incident=incident,
            by=staff,
            description=f"Do {n}",
            due_on=timezone.localdate(),
            owner=UserFactory(),
            now=timezone.now(),
        )
    with django_assert_num_queries(len(short.captured_queries)):
        staff_client.get(detail(incident))


@pytest.mark.django_db
def test_the_manager_assigns_from_the_detail_page(manager_client, manager, staff):
    incident = open_incident()
    response = manager_client.post(act(incident, "assign"), {"assignee": staff.pk})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == staff
    page = manager_client.get(detail(incident)).content.decode()
    assert f"Assigned to {staff}" in page


@pytest.mark.django_db
def test_a_refused_transition_is_explained_not_a_500(staff_client, staff):
    incident = open_incident()
    covering_every_site(staff)
    response = staff_client.post(act(incident, "close"), follow=True)
    assert response.status_code == 200
    assert "cannot be closed now" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.NEW


@pytest.mark.django_db
def test_resolving_without_a_root_cause_shows_the_form_again(staff_client, staff):
    incident = drive_to(Status.IN_PROGRESS, by=staff)
    covering_every_site(staff)
    response = staff_client.post(act(incident, "resolve"), {"summary": "Rebooked", "root_cause": ""})
    assert response.status_code == 400
    assert "Say why it happened" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_a_full_recovery_through_the_pages(staff_client, staff):
    incident = open_incident(patient_consented=True, patient_phone="07700 900123")
    covering_every_site(staff)
    steps = [
        ("acknowledge", {}),
        ("start", {}),
        ("note", {"body": "Looked at the rota."}),
        ("contact", {"channel": "phone", "outcome": "apologised", "body": "Apologised."}),
        ("action", {"description": "Call back with a new slot", "due_on": timezone.localdate().isoformat()}),
        ("pause", {"pause-reason": "Patient checking their diary"}),
        ("resume", {}),
        ("resolve", {"summary": "Rebooked with the same GP.", "root_cause": "Double booking."}),
        ("close", {}),
        ("reopen", {"reopen-reason": "Appointment cancelled again"}),
    ]
    for action, data in steps:
        response = staff_client.post(act(incident, action), data)
        assert response.status_code == 302, (action, response.content.decode()[:500])
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS
    assert incident.reopen_count == 1
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds.count(FollowUp.Kind.STATUS) == 7
    assert {FollowUp.Kind.NOTE, FollowUp.Kind.CONTACT, FollowUp.Kind.ACTION} <= set(kinds)
    assert all(row.author == staff for row in incident.timeline.exclude(kind=FollowUp.Kind.OPENED))


@pytest.mark.django_db
def test_marking_an_action_done(staff_client, staff):
    incident = drive_to(Status.IN_PROGRESS, by=staff)
    covering_every_site(staff)
    from recovery import services

    action = services.incident_add_action(
        incident=incident,
        by=staff,
        description="Send letter",
        due_on=timezone.localdate(),
        now=timezone.now(),
    )
    url = reverse("recovery:action_done", args=[incident.reference, action.pk])
    assert staff_client.post(url).status_code == 302
    action.refresh_from_db()
    assert action.done_at is not None


@pytest.mark.django_db
def test_an_unknown_action_or_reference_is_a_404(staff_client):
    incident = open_incident()
    assert staff_client.post(f"/recovery/incidents/{incident.reference}/delete/").status_code == 404
    assert staff_client.get("/recovery/incidents/INC-1999-0001/").status_code == 404


@pytest.mark.django_db
def test_actions_only_accept_post(staff_client):
    incident = open_incident()
    assert staff_client.get(act(incident, "acknowledge")).status_code == 405


# --- My work and the dashboard ---------------------------------------------------------------------


@pytest.mark.django_db
def test_my_work_lists_my_incidents_and_actions_due(staff_client, staff):
    mine = open_incident()
    Incident.objects.filter(pk=mine.pk).update(assignee=staff, status=Status.IN_PROGRESS)
    others = open_incident()
    from recovery import services

    services.incident_add_action(
        incident=mine,
        by=staff,
        description="Ring back",
        due_on=timezone.localdate(),
        owner=staff,
        now=timezone.now(),
    )
    page = staff_client.get(reverse("my_work")).content.decode()
    assert mine.reference in page
    assert others.reference not in page
    assert "Ring back" in page
