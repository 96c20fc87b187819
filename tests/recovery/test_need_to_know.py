"""Need to know (issue 17): staff see and work their own sites' incidents, and a patient's contact
details only on incidents they work; managers see everything; the practice can switch it off."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from recovery import services
from recovery.models import Incident
from servicedesk.models import PracticeSettings
from servicedesk.security.models import AuditEvent
from tests.factories import LocationFactory, TouchpointFactory, UserFactory, open_incident

pytestmark = pytest.mark.django_db

LIST = reverse("recovery:incident_list")
PHONE = "07700 900456"


def detail(incident: Incident) -> str:
    return reverse("recovery:incident_detail", args=[incident.reference])


def act(incident: Incident, action: str) -> str:
    return reverse(f"recovery:incident_{action}", args=[incident.reference])


def incident_at(site, **kwargs) -> Incident:
    return open_incident(touchpoint=TouchpointFactory(location=site), **kwargs)


def switch_need_to_know(on: bool) -> None:
    PracticeSettings.objects.update_or_create(
        pk=PracticeSettings.SINGLETON, defaults={"staff_need_to_know": on}
    )
    from django.core.cache import cache

    cache.clear()  # as the service does after a change


@pytest.fixture
def riverside():
    return LocationFactory(name="Riverside")


@pytest.fixture
def hilltop():
    return LocationFactory(name="Hilltop")


@pytest.fixture
def nurse(client, riverside):
    """A staff member whose usual location is Riverside, signed in."""
    user = UserFactory(first_name="Nia", location=riverside)
    client.force_login(user)
    return user


def test_staff_list_and_search_only_their_own_sites_incidents(client, nurse, riverside, hilltop):
    ours = incident_at(riverside, title="Phone queue at Riverside")
    theirs = incident_at(hilltop, title="Phone queue at Hilltop")
    practice_wide = open_incident(touchpoint=TouchpointFactory(location=None), title="Portal down")
    page = client.get(LIST).content.decode()
    assert ours.reference in page
    assert practice_wide.reference in page
    assert theirs.reference not in page
    assert "2 incidents" in page  # the count shown is of what they may see
    searched = client.get(LIST, {"q": "phone", "location": hilltop.pk}).content.decode()
    assert theirs.reference not in searched
    assert "Select a valid choice" in searched  # another site is not one of their choices
    assert ours.reference in searched  # the words they searched for still filter


def test_staff_filter_choices_name_only_their_sites(client, nurse, riverside, hilltop):
    TouchpointFactory(location=riverside, name="Riverside desk")
    TouchpointFactory(location=hilltop, name="Hilltop desk")
    TouchpointFactory(location=None, name="Phone line")
    form = client.get(LIST).context["form"]
    assert [site.name for site in form.fields["location"].queryset] == ["Riverside"]
    assert {tp.name for tp in form.fields["touchpoint"].queryset} == {"Riverside desk", "Phone line"}
    nurse.other_locations.add(hilltop)
    form = client.get(LIST).context["form"]
    assert {site.name for site in form.fields["location"].queryset} == {"Riverside", "Hilltop"}


def test_managers_and_switched_off_staff_choose_from_every_site(client, nurse, manager, riverside, hilltop):
    switch_need_to_know(False)
    form = client.get(LIST).context["form"]
    assert {site.name for site in form.fields["location"].queryset} >= {"Riverside", "Hilltop"}
    switch_need_to_know(True)
    client.force_login(manager)
    form = client.get(LIST).context["form"]
    assert {site.name for site in form.fields["location"].queryset} >= {"Riverside", "Hilltop"}


def test_another_sites_incident_is_a_404_for_staff(client, nurse, hilltop):
    theirs = incident_at(hilltop, title="Hilltop lift broken")
    response = client.get(detail(theirs))
    assert response.status_code == 404
    assert "Hilltop lift broken" not in response.content.decode()


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("acknowledge", {}),
        ("assign", {"assignee": "me"}),
        ("note", {"body": "Looked into it"}),
        ("contact", {"channel": "phone", "outcome": "apologised", "body": "Apologised."}),
        ("resolve", {"summary": "Fixed", "root_cause": "Lift"}),
        ("close", {}),
    ],
)
def test_staff_cannot_work_another_sites_incident(client, nurse, hilltop, action, data):
    theirs = incident_at(hilltop)
    if data.get("assignee") == "me":
        data = {"assignee": nurse.pk}
    assert client.post(act(theirs, action), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Incident.Status.NEW
    assert theirs.assignee is None
    assert list(theirs.timeline.values_list("kind", flat=True)) == ["opened"]


def test_staff_cannot_mark_another_sites_action_done(client, nurse, hilltop, manager):
    theirs = incident_at(hilltop)
    action = services.incident_add_action(
        incident=theirs, by=manager, description="Call the lift company", due_on=timezone.localdate(),
        now=timezone.now(),
    )  # fmt: skip
    assert client.post(reverse("recovery:action_done", args=[theirs.reference, action.pk])).status_code == 404
    action.refresh_from_db()
    assert action.done_at is None


def test_staff_see_another_sites_incident_given_to_them_logged_by_them_or_with_their_action(
    client, nurse, hilltop, manager
):
    assigned = incident_at(hilltop)
    services.incident_assign(incident=assigned, assignee=nurse, by=manager, now=timezone.now())
    logged = incident_at(hilltop, reporter=nurse)
    with_action = incident_at(hilltop)
    services.incident_add_action(
        incident=with_action, by=manager, owner=nurse, description="Ring the patient",
        due_on=timezone.localdate(), now=timezone.now(),
    )  # fmt: skip
    for incident in (assigned, logged, with_action):
        assert client.get(detail(incident)).status_code == 200
        assert client.post(act(incident, "acknowledge")).status_code == 302
    page = client.get(LIST).content.decode()
    assert all(i.reference in page for i in (assigned, logged, with_action))


def test_staff_who_also_work_at_a_site_see_its_incidents(client, nurse, hilltop):
    theirs = incident_at(hilltop)
    assert client.get(detail(theirs)).status_code == 404
    nurse.other_locations.add(hilltop)
    assert client.get(detail(theirs)).status_code == 200
    assert theirs.reference in client.get(LIST).content.decode()


def test_staff_with_no_location_see_only_unsited_work_and_are_told_why(client, riverside):
    newcomer = UserFactory(location=None)
    client.force_login(newcomer)
    sited = incident_at(riverside)
    unsited = open_incident(touchpoint=TouchpointFactory(location=None))
    page = client.get(LIST).content.decode()
    assert unsited.reference in page
    assert sited.reference not in page
    assert "You have no location yet" in page
    assert client.get(detail(sited)).status_code == 404


def test_managers_see_and_work_every_sites_incidents(manager_client, riverside, hilltop):
    ours, theirs = incident_at(riverside), incident_at(hilltop)
    page = manager_client.get(LIST).content.decode()
    assert ours.reference in page
    assert theirs.reference in page
    assert "You have no location yet" not in page
    assert manager_client.get(detail(theirs)).status_code == 200
    assert manager_client.post(act(theirs, "acknowledge")).status_code == 302


def test_anonymous_visitors_are_sent_to_login_for_any_sites_incident(client, hilltop):
    theirs = incident_at(hilltop)
    for response in (client.get(detail(theirs)), client.post(act(theirs, "acknowledge"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_switched_off_staff_see_and_work_every_site_as_before(client, nurse, hilltop):
    theirs = incident_at(hilltop)
    switch_need_to_know(False)
    assert theirs.reference in client.get(LIST).content.decode()
    assert client.get(detail(theirs)).status_code == 200
    assert client.post(act(theirs, "acknowledge")).status_code == 302


# --- A patient's contact details ------------------------------------------------------------------------


def with_contact(site) -> Incident:
    return incident_at(site, patient_consented=True, patient_name="Bea Lowe", patient_phone=PHONE)


def test_a_colleague_at_the_site_sees_that_contact_details_exist_but_not_them(client, nurse, riverside):
    incident = with_contact(riverside)
    page = client.get(detail(incident)).content.decode()
    assert PHONE not in page
    assert "Bea Lowe" not in page
    assert "Kept, and hidden" in page
    assert not AuditEvent.objects.filter(action="viewed").exists()  # nothing was shown


def test_the_assignee_and_an_action_owner_see_the_contact_details(client, nurse, riverside, manager):
    assigned, with_action = with_contact(riverside), with_contact(riverside)
    services.incident_assign(incident=assigned, assignee=nurse, by=manager, now=timezone.now())
    services.incident_add_action(
        incident=with_action, by=manager, owner=nurse, description="Ring the patient",
        due_on=timezone.localdate(), now=timezone.now(),
    )  # fmt: skip
    for incident in (assigned, with_action):
        page = client.get(detail(incident)).content.decode()
        assert PHONE in page
        assert "Bea Lowe" in page
    assert AuditEvent.objects.filter(action="viewed", actor=nurse).count() == 2


def test_the_reporter_who_is_not_working_it_does_not_see_them(client, nurse, riverside):
    incident = incident_at(riverside, reporter=nurse, patient_consented=True, patient_phone=PHONE)
    assert PHONE not in client.get(detail(incident)).content.decode()


def test_managers_see_every_patients_contact_details(manager_client, hilltop):
    incident = with_contact(hilltop)
    assert PHONE in manager_client.get(detail(incident)).content.decode()


def test_switched_off_every_colleague_sees_the_contact_details(client, nurse, riverside):
    incident = with_contact(riverside)
    switch_need_to_know(False)
    page = client.get(detail(incident)).content.decode()
    assert PHONE in page
    assert "Kept, and hidden" not in page


def test_the_rule_is_on_when_the_practice_never_chose(client, nurse, hilltop):
    assert not PracticeSettings.objects.exists()
    assert client.get(detail(incident_at(hilltop))).status_code == 404
    colleague_at_hilltop = UserFactory(location=hilltop)
    assert Incident.objects.visible_to(colleague_at_hilltop).count() == 1
