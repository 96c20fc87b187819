"""Every page a manager or a staff member can reach from the navigation opens, and shows no
developer text: no untranslated placeholder, constraint name, metric key, "---------", empty
URL part or Python value. Runs on the demo practice (``seed_demo``), so every list has rows."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from recovery.models import FollowUp
from servicedesk.models import User
from tests.servicedesk.crawl import crawl, text_problems
from tests.servicedesk.test_url_access import ACCESS, PUBLIC

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    call_command("seed_demo", "--force", verbosity=0)


ACTION = "an action: a button posts to it, there is no page to open"
# Team and manager URLs no link leads to, and why. Every other one must be reached by the crawl.
NOT_LINKED = {
    **dict.fromkeys(
        [
            "logout", "closed_day_add", "closed_day_remove", "location_set_active", "touchpoint_set_active",
            "outbox_send_again", "staff_member_send_password_link", "practice_settings", "practice_calendar",
            "delivery:item_create", "delivery:item_move", "delivery:item_remove", "delivery:run_complete",
            "delivery:run_record", "delivery:template_start",
            "design:goal_acknowledge", "design:goal_reactivate", "design:goal_retire",
            "feedback:question_move", "feedback:question_remove", "feedback:survey_set_active",
            "feedback:answer_themes", "learning:pattern_close",
            "invitations:contact_erase", "invitations:contact_export", "invitations:integration_revoke",
            "invitations:invitation_import_confirm", "invitations:invitation_import_discard",
            "recovery:action_done", "recovery:drill_create", "recovery:sla_site_remove",
            "delivery:template_adopt", "delivery:template_adopt_everywhere",
            "design:goal_adopt", "design:goal_adopt_everywhere",
            "complaints:complaint_acknowledge", "complaints:complaint_agree", "complaints:complaint_subject",
            "complaints:complaint_extend", "complaints:complaint_letter_email",
            "complaints:complaint_letter_posted",
            "complaints:complaint_respond",
            *(f"recovery:incident_{action}" for action in (
                "acknowledge", "action", "ask_patient", "assign", "close", "contact", "note", "pause",
                "reopen", "resolve", "resume", "start",
            )),
        ],
        ACTION,
    ),
    "password_change_done": "the page after changing a password",
    "feedback:pulse_thanks": "the page after a staff pulse answer",
    "invitations:invitation_import_detail": "the page after uploading a visit list",
    "invitations:invitation_import_progress": "polled by the visit-list page while it checks",
    "design:metric_preview": "a fragment the goal form fetches as the metric changes",
    "security:two_factor_setup": "reached while signing in, before the crawl starts",
    "security:two_factor_verify": "reached while signing in, before the crawl starts",
    "attachment_thumbnail": "an <img> inside the link to the photo's display copy (the crawl follows links)",
}  # fmt: skip


def _crawl_as(client, username: str):
    client.force_login(User.objects.get(username=username))
    # Also from an incident with a photo: the crawl opens three pages per URL name, and the demo
    # has many incidents, so the ones with photos need not be among the three it meets first.
    with_photo = FollowUp.objects.filter(attachment__isnull=False).values_list(
        "incident__reference", flat=True
    )
    photos = [reverse("recovery:incident_detail", args=[reference]) for reference in with_photo[:1]]
    return crawl(client, ["/", "/my-work/", *photos])


def test_every_page_a_manager_reaches_opens_and_reads_as_meant(client, demo):
    result = _crawl_as(client, "manager")
    assert not result.problems, result.report()
    # The crawl really went everywhere: each area of the navigation, not just the landing page.
    names = set(result.names)
    for expected in (
        "dashboard",
        "team_list",
        "feedback:survey_list",
        "feedback:response_list",
        "invitations:invitation_list",
        "design:goal_list",
        "delivery:overview",
        "recovery:incident_list",
        "recovery:incident_detail",
        "security:audit_log",
    ):
        assert expected in names, f"the crawl never reached {expected}"
    assert len(result.pages) > 60
    unreached = {name for name, access in ACCESS.items() if access != PUBLIC} - names - set(NOT_LINKED)
    assert not unreached, f"no link leads to {sorted(unreached)}: link them, or say why in NOT_LINKED"


def test_every_page_a_staff_member_reaches_opens_and_reads_as_meant(client, demo):
    result = _crawl_as(client, "reception")
    assert not result.problems, result.report()
    names = set(result.names)
    assert {"my_work", "recovery:incident_list", "recovery:incident_log", "design:goal_list"} <= names
    assert not names & {"dashboard", "team_list", "security:audit_log"}  # none linked for staff


@pytest.mark.parametrize(
    "text",
    [
        "“%(title)s” is now on.",
        "Constraint “survey_negative_rating_max_in_scale” is violated.",
        "feedback.fft_positive_pct",
        "recovery.median_hours_to_first_response",
        "Used in /k//.",
        "---------",
        "None %",
    ],
)
def test_the_crawl_catches_each_kind_of_developer_text_it_was_written_for(text):
    assert text_problems([text])


def _patient_pages(manager) -> list[tuple[str, str]]:
    """(path, language) of the patient pages a link leads to, on the demo practice: the kiosk and
    QR survey, an invitation and its opt-out, and the neutral pages for links that no longer work.
    The "Did we put it right?" link is in the mail it sends; the thank-you pages, reached by
    answering, are checked in tests/feedback/test_patient_pages.py."""
    from django.utils import timezone

    from feedback.models import Invitation, Survey
    from recovery import services
    from tests.recovery.conftest import resolved_for_patient

    kiosk = next(s for s in Survey.objects.for_patients().filter(is_active=True) if s.offers("es"))
    invitation = next(i for i in Invitation.objects.open(timezone.now()) if i.survey.offers("es"))
    # A patient who wrote in Spanish: the loop page (its link is in the mail) speaks Spanish.
    incident = resolved_for_patient(by=manager, language="es", patient_email="a@example.org")
    services.loop_link_send(incident=incident, by=manager, now=timezone.now())
    pages = []
    for language in ("en", "es"):
        pages += [
            (f"/k/{kiosk.slug}/?lang={language}", language),
            (f"/k/{kiosk.slug}/?lang={language}&src=qr", language),
            (f"{invitation.get_absolute_url()}?lang={language}", language),
        ]
    pages += [
        (f"{invitation.get_absolute_url()}opt-out/", invitation.language),
        ("/f/not.a-token/opt-out/", "en"),
        ("/recovery/r/not-a-real-token/", "en"),
        ("/f/not.a-token/", "en"),
    ]
    return pages


def test_every_patient_page_reads_as_meant_in_english_and_in_spanish(client, demo, mailoutbox):
    import re

    from tests.servicedesk.crawl import english_on_spanish_page, read

    manager = User.objects.get(username="manager")
    pages = _patient_pages(manager)
    link = re.search(r"/recovery/r/\S+/", mailoutbox[-1].body).group(0)
    pages.append((link, "es"))
    problems = []
    for path, language in pages:
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code in (200, 404), (path, response.status_code)
        page = read(response.content.decode())
        found = text_problems(page.text)
        if language == "es":
            found += english_on_spanish_page(page.text)
        problems += [f"{path}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


def test_the_crawl_catches_english_left_on_a_spanish_page():
    from tests.servicedesk.crawl import english_on_spanish_page

    assert english_on_spanish_page(["Did we put it right?", "Please answer this question."])
    assert not english_on_spanish_page(
        ["¿Lo hemos solucionado?", "Gracias por decírnoslo", "Riverside Family Practice"]
    )
