"""Need-profile pages: the whole team reads them, managers write them with their needs and accommodations."""

import pytest
from django.urls import reverse

from design.models import Accommodation, PatientNeedProfile
from tests.factories import (
    AccommodationFactory,
    PatientNeedFactory,
    PatientNeedProfileFactory,
    ServiceGoalFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db


def _formsets(needs=(), accommodations=(), prefix_counts=None):
    data = {
        "needs-TOTAL_FORMS": str(len(needs)),
        "needs-INITIAL_FORMS": "0",
        "accommodations-TOTAL_FORMS": str(len(accommodations)),
        "accommodations-INITIAL_FORMS": "0",
    }
    for i, (description, priority) in enumerate(needs):
        data[f"needs-{i}-description"] = description
        data[f"needs-{i}-priority"] = str(priority)
    for i, (kind, detail) in enumerate(accommodations):
        data[f"accommodations-{i}-kind"] = kind
        data[f"accommodations-{i}-detail"] = detail
    return data


def test_staff_read_profiles_but_cannot_write_them(staff_client):
    profile = PatientNeedProfileFactory(name="Working parents")
    hidden = PatientNeedProfileFactory(name="Old profile", is_active=False)
    assert "Working parents" in staff_client.get(reverse("design:profile_list")).content.decode()
    assert "Old profile" not in staff_client.get(reverse("design:profile_list")).content.decode()
    assert staff_client.get(reverse("design:profile_detail", args=[profile.pk])).status_code == 200
    assert staff_client.get(reverse("design:profile_detail", args=[hidden.pk])).status_code == 404
    assert staff_client.get(reverse("design:profile_create")).status_code == 403
    assert (
        staff_client.post(reverse("design:profile_update", args=[profile.pk]), {"name": "x"}).status_code
        == 403
    )
    profile.refresh_from_db()
    assert profile.name == "Working parents"


def test_anonymous_visitors_cannot_read_a_profile(client):
    profile = PatientNeedProfileFactory()
    assert client.get(reverse("design:profile_detail", args=[profile.pk])).status_code == 302


def test_profile_page_lists_needs_accommodations_channels_and_linked_goals(staff_client):
    profile = PatientNeedProfileFactory(name="Patients who need an interpreter")
    PatientNeedFactory(profile=profile, description="Interpreter booked in advance", priority=1)
    AccommodationFactory(profile=profile, kind="interpreter", detail="Polish and Romanian")
    profile.preferred_touchpoints.add(TouchpointFactory(name="Video consultations"))
    linked = ServiceGoalFactory(title="Interpreter booked for every patient who needs one")
    profile.goals.add(linked)
    measured = ServiceGoalFactory(title="FFT for interpreter patients", need_profile=profile)
    ServiceGoalFactory(title="Unrelated goal")

    page = staff_client.get(reverse("design:profile_detail", args=[profile.pk])).content.decode()

    for text in (
        "Interpreter booked in advance",
        "Essential",
        "Interpreter</strong> — Polish and Romanian",
        "Video consultations",
        linked.title,
        measured.title,
    ):
        assert text in page
    assert "Unrelated goal" not in page


def test_manager_creates_a_profile_with_needs_accommodations_touchpoints_and_goals(manager_client):
    touchpoint, goal = TouchpointFactory(name="Patient portal"), ServiceGoalFactory()
    data = {
        "name": "Working parents",
        "description": "Cannot phone at 8 am.",
        "estimated_share": "22",
        "preferred_touchpoints": [touchpoint.pk],
        "goals": [goal.pk],
        **_formsets(
            needs=[("Book online at any hour", 1), ("Evening appointments", 2)],
            accommodations=[("longer_appointment", "")],
        ),
    }
    response = manager_client.post(reverse("design:profile_create"), data)

    profile = PatientNeedProfile.objects.get()
    assert response["Location"] == reverse("design:profile_detail", args=[profile.pk])
    assert [n.description for n in profile.needs.all()] == ["Book online at any hour", "Evening appointments"]
    assert list(profile.accommodations.values_list("kind", flat=True)) == ["longer_appointment"]
    assert list(profile.preferred_touchpoints.all()) == [touchpoint]
    assert list(profile.goals.all()) == [goal]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("estimated_share", "120", "cannot be more than 100"),
        ("estimated_share", "-3", "cannot be negative"),
        ("estimated_share", "lots", "Enter a percentage"),
        ("name", "", "This field is required"),
    ],
)
def test_a_bad_profile_gives_a_form_error_and_writes_nothing(manager_client, field, value, message):
    data = {"name": "Working parents", "estimated_share": "20", **_formsets(needs=[("Online booking", 1)])}
    data[field] = value
    response = manager_client.post(reverse("design:profile_create"), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not PatientNeedProfile.objects.exists()


def test_the_same_accommodation_twice_is_refused(manager_client):
    data = {
        "name": "Interpreter patients",
        **_formsets(accommodations=[("interpreter", "Polish"), ("interpreter", "Arabic")]),
    }
    response = manager_client.post(reverse("design:profile_create"), data)
    assert response.status_code == 400
    assert "listed twice" in response.content.decode()
    assert not Accommodation.objects.exists()


def test_an_existing_name_is_refused(manager_client):
    PatientNeedProfileFactory(name="Working parents")
    response = manager_client.post(
        reverse("design:profile_create"), {"name": "Working parents", **_formsets()}
    )
    assert response.status_code == 400
    assert "already has this name" in response.context["form"].errors["name"][0]


def test_manager_edits_a_profile_and_removes_a_need(manager_client):
    profile = PatientNeedProfileFactory(name="Carers")
    keep = PatientNeedFactory(profile=profile, description="Flexible times")
    drop = PatientNeedFactory(profile=profile, description="Outdated need")
    data = {
        "name": "Carers",
        "estimated_share": "8",
        "is_active": "on",
        "needs-TOTAL_FORMS": "2",
        "needs-INITIAL_FORMS": "2",
        "needs-0-id": str(keep.pk),
        "needs-0-description": "Flexible times",
        "needs-0-priority": "1",
        "needs-1-id": str(drop.pk),
        "needs-1-description": "Outdated need",
        "needs-1-priority": "3",
        "needs-1-DELETE": "on",
        "accommodations-TOTAL_FORMS": "0",
        "accommodations-INITIAL_FORMS": "0",
    }
    response = manager_client.post(reverse("design:profile_update", args=[profile.pk]), data)
    assert response.status_code == 302
    assert list(profile.needs.values_list("description", flat=True)) == ["Flexible times"]


def test_profile_list_query_count_does_not_grow_with_profiles(manager_client, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            profile = PatientNeedProfileFactory()
            PatientNeedFactory(profile=profile)
            AccommodationFactory(profile=profile)
            profile.preferred_touchpoints.add(TouchpointFactory())
            profile.goals.add(ServiceGoalFactory())

    make(2)
    manager_client.get(reverse("design:profile_list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        manager_client.get(reverse("design:profile_list"))
    make(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        manager_client.get(reverse("design:profile_list"))
