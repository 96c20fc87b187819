"""Each input the attack run of issue 17 turned into a 500, answered now with a 4xx and a message.

The NUL findings show only on PostgreSQL (SQLite stores a NUL); run with ``DATABASE_URL`` set.
The fuzz in ``test_bad_input.py`` looks for more of their kind; these pin the ones found.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import Invitation, Response
from tests.factories import InvitationFactory, SurveyFactory, TouchpointFactory, UserFactory

pytestmark = pytest.mark.django_db

UNREADABLE = "could not be read"  # the heading of errors/400_unstorable.html


@pytest.fixture
def survey():
    return SurveyFactory(slug="front-desk")


# Superscript two, Arabic-Indic three, fullwidth one, and a number no row has.
@pytest.mark.parametrize("number", ["²", "٣", "\uff11", "9" * 40])
def test_the_kiosk_takes_a_touchpoint_number_in_unicode_digits_as_no_touchpoint(client, survey, number):
    """'²' passed an isdigit() check and broke int(): the kiosk page was a 500 on GET and POST."""
    touchpoint = TouchpointFactory(name="Waiting room")
    survey.touchpoint = touchpoint
    survey.save()

    page = client.get(f"/k/{survey.slug}/", {"tp": number})
    posted = client.post(f"/k/{survey.slug}/?tp={number}", {"tp": number})

    assert page.status_code == 200
    assert "tp" not in page.context["keep"]  # the survey's own touchpoint, not a guess
    assert posted.status_code == 400  # an empty form, refused as any empty form is
    assert Response.objects.count() == 0


def test_a_poster_for_a_touchpoint_number_in_unicode_digits_is_the_plain_poster(manager_client, survey):
    page = manager_client.get(reverse("feedback:survey_poster", args=[survey.pk]), {"tp": "²"})

    assert page.status_code == 200
    assert page.context["touchpoint"] is None


@pytest.mark.parametrize(
    "path",
    ["/f/{token}\x00/", "/f/{selector}\x00.x/", "/f/{token}\x00/opt-out/", "/recovery/r/a\x00.b/"],
    ids=["invitation", "invitation-selector", "opt-out", "put-it-right"],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_in_a_patient_link_is_refused_with_a_message(client, path, method):
    invitation = InvitationFactory()
    url = path.format(token=invitation.token, selector=invitation.token.partition(".")[0])

    response = getattr(client, method)(url)

    assert response.status_code == 400
    assert UNREADABLE in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT


@pytest.mark.parametrize("where", ["query", "form", "field name"])
def test_a_nul_anywhere_in_a_form_or_query_is_refused_before_the_view(client, survey, where):
    url = f"/k/{survey.slug}/"
    if where == "query":
        response = client.post(f"{url}?lang=e%00s", {})
    else:
        response = client.post(url, {"comment\x00": "x"} if where == "field name" else {"comment": "a\x00b"})

    assert response.status_code == 400
    assert UNREADABLE in response.content.decode()
    assert Response.objects.count() == 0


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_username_over_255_characters_is_a_failed_login_at_both_login_pages(client, url):
    UserFactory(username="maya")

    response = client.post(url, {"username": "m" * 300, "password": "whatever it is"})

    assert response.status_code == 200
    assert response.context["form"].errors


MANAGER_LISTS = [
    ("feedback:response_list", {}),
    ("recovery:incident_list", {}),
    ("invitations:invitation_list", {}),
    ("security:audit_log", {}),
    ("design:goal_list", {}),
    ("dashboard", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), MANAGER_LISTS, ids=[name for name, _ in MANAGER_LISTS])
def test_manager_lists_take_unicode_digits_in_any_number_they_read(manager_client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    for param in ("page", "tp", "location", "days"):
        response = manager_client.get(url, {param: "²"})

        assert response.status_code in (200, 400), (param, response.status_code)
