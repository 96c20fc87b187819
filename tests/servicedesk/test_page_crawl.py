"""Every page a manager or a staff member can reach from the navigation opens, and shows no
developer text: no untranslated placeholder, constraint name, metric key, "---------", empty
URL part or Python value. Runs on the demo practice (``seed_demo``), so every list has rows."""

from __future__ import annotations

import pytest
from django.core.management import call_command

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
            "outbox_send_again", "staff_member_send_password_link",
            "delivery:item_create", "delivery:item_move", "delivery:item_remove", "delivery:run_complete",
            "delivery:run_record", "delivery:template_start",
            "design:goal_acknowledge", "design:goal_reactivate", "design:goal_retire",
            "feedback:question_move", "feedback:question_remove", "feedback:survey_set_active",
            "feedback:answer_themes",
            "invitations:contact_erase", "invitations:contact_export", "invitations:integration_revoke",
            "invitations:invitation_import_confirm", "invitations:invitation_import_discard",
            "recovery:action_done", "recovery:drill_create",
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
}  # fmt: skip


def _crawl_as(client, username: str):
    client.force_login(User.objects.get(username=username))
    return crawl(client, ["/", "/my-work/"])


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
