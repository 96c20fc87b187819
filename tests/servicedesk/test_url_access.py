"""Every URL in the project is declared public, team, site or manager, and behaves so for every role.

This walks the whole URL configuration, so a page added later with no decision about who may
see it fails here: add its name to ACCESS. The matrix then checks it for an anonymous visitor,
a staff member, a site manager and a (fully signed-in, two-factor verified) manager of the group.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PUBLIC = "public"  # patients (no account), login, password reset, health
TEAM = "team"  # staff and managers
SITE = "site"  # the group's managers and site managers (who see only their sites); staff get a 403
MANAGER = "manager"  # the group's managers only; staff and site managers get the 403 page

# One entry per URL name ("namespace:name" when namespaced). Keep it sorted by area.
ACCESS = {
    # Accounts
    "login": PUBLIC,
    "logout": TEAM,  # POST-only; it ends the session and sends you to the login page
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "password_change": TEAM,
    "password_change_done": TEAM,
    "security:two_factor_verify": SITE,
    "security:two_factor_setup": SITE,
    # Core
    "healthz": PUBLIC,
    "home": TEAM,
    "my_work": TEAM,
    "dashboard": SITE,
    "team_list": SITE,
    "staff_member_create": SITE,
    "staff_member_update": SITE,
    "staff_member_send_password_link": SITE,
    "location_list": MANAGER,
    "opening_hours": MANAGER,
    "practice_identity": MANAGER,
    "practice_settings": MANAGER,
    "practice_logo": PUBLIC,  # shown on the patient pages and in invitation emails
    "practice_theme": PUBLIC,  # the accent colour's stylesheet, on the patient pages
    # Photos and files: the record they belong to decides (a 404 for one not found or not theirs).
    "attachment_file": TEAM,
    "attachment_display": TEAM,
    "attachment_thumbnail": TEAM,
    "outbox_failed": MANAGER,
    "outbox_send_again": MANAGER,
    "sms_receipt": PUBLIC,  # Twilio's delivery receipts, refused (403) unless signed with our auth token
    "closed_day_add": MANAGER,
    "practice_calendar": MANAGER,
    "closed_day_remove": MANAGER,
    "location_create": MANAGER,
    "location_update": MANAGER,
    "location_set_active": MANAGER,
    "touchpoint_list": MANAGER,
    "touchpoint_create": MANAGER,
    "touchpoint_update": MANAGER,
    "touchpoint_set_active": MANAGER,
    "security:audit_log": MANAGER,
    "dashboard_export": SITE,
    "dashboard_report": MANAGER,
    "dashboard_compare": MANAGER,  # group managers only (group_manager_required)
    # Feedback: patients' pages (feedback.patient_urls)
    "patient:kiosk": PUBLIC,
    "patient:kiosk_thanks": PUBLIC,
    "patient:invitation": PUBLIC,
    "patient:invitation_thanks": PUBLIC,
    "invitation_opt_out": PUBLIC,  # the patient's "no more survey messages" link
    "api_visits": PUBLIC,  # the practice-management system, authenticated by its bearer token
    # Feedback: invitations and patient data (managers)
    "invitations:invitation_list": SITE,
    "invitations:invitation_import_upload": MANAGER,
    "invitations:invitation_import_detail": MANAGER,
    "invitations:invitation_import_progress": MANAGER,
    "invitations:invitation_import_confirm": MANAGER,
    "invitations:invitation_import_discard": MANAGER,
    "invitations:invitation_rules": MANAGER,
    "invitations:integration_list": MANAGER,
    "invitations:integration_revoke": MANAGER,
    "invitations:invitation_report": SITE,
    "invitations:contact_requests": MANAGER,
    "invitations:contact_export": MANAGER,
    "invitations:contact_erase": MANAGER,
    # Feedback: staff and managers
    "feedback:pulse": TEAM,
    "feedback:pulse_thanks": TEAM,
    "feedback:survey_list": SITE,
    "feedback:survey_create": SITE,
    "feedback:survey_from_template": MANAGER,
    "feedback:survey_builder": SITE,
    "feedback:survey_update": SITE,
    "feedback:survey_set_active": SITE,
    "feedback:survey_preview": SITE,
    "feedback:survey_poster": SITE,
    "feedback:question_create": SITE,
    "feedback:question_update": SITE,
    "feedback:question_remove": SITE,
    "feedback:question_move": SITE,
    "feedback:theme_list": MANAGER,
    "feedback:theme_create": MANAGER,
    "feedback:theme_update": MANAGER,
    "feedback:survey_results": SITE,
    "feedback:survey_export": SITE,
    "feedback:response_list": MANAGER,
    "feedback:response_detail": MANAGER,
    "feedback:answer_themes": MANAGER,
    # Design
    "design:goal_list": TEAM,
    "design:goal_detail": TEAM,
    "design:goal_acknowledge": TEAM,
    "design:goal_create": SITE,
    "design:goal_update": SITE,
    "design:goal_retire": SITE,
    "design:goal_reactivate": SITE,
    "design:goal_adopt": SITE,  # at the sites the site manager manages (403 for another's)
    "design:goal_adopt_everywhere": MANAGER,
    "design:metric_preview": SITE,
    "design:profile_list": TEAM,
    "design:profile_detail": TEAM,
    "design:profile_create": MANAGER,
    "design:profile_update": MANAGER,
    # Delivery
    "delivery:run_detail": TEAM,
    "delivery:run_record": TEAM,
    "delivery:run_complete": TEAM,
    "delivery:protocol_list": TEAM,
    "delivery:protocol_detail": TEAM,
    "delivery:protocol_version": TEAM,
    "delivery:overview": SITE,
    "delivery:template_create": SITE,
    "delivery:template_detail": SITE,
    "delivery:template_update": SITE,
    "delivery:template_preview": SITE,
    "delivery:template_start": SITE,
    "delivery:template_adopt": SITE,  # at their own sites only (tests/delivery/test_adoption.py)
    "delivery:template_adopt_everywhere": MANAGER,
    "delivery:item_create": SITE,
    "delivery:item_update": SITE,
    "delivery:item_move": SITE,
    "delivery:item_remove": SITE,
    "delivery:touchpoint_list": MANAGER,
    "delivery:touchpoint_history": MANAGER,
    "delivery:training": MANAGER,
    "delivery:protocol_create": MANAGER,
    "delivery:protocol_update": MANAGER,
    # Recovery
    "recovery:put_right": PUBLIC,  # the patient's one-question "Did we put it right?" link
    "recovery:incident_list": TEAM,
    "recovery:incident_log": TEAM,
    "recovery:incident_detail": TEAM,
    **{
        f"recovery:incident_{action}": TEAM
        for action in (
            "acknowledge",
            "start",
            "resume",
            "close",
            "pause",
            "reopen",
            "assign",
            "note",
            "contact",
            "action",
            "resolve",
            "ask_patient",
        )
    },
    "recovery:action_done": TEAM,
    "recovery:plan_list": TEAM,
    "recovery:plan_detail": TEAM,
    "recovery:plan_print": TEAM,
    "recovery:sla_list": SITE,  # site managers read the group's policies and see their own sites
    "recovery:sla_edit": MANAGER,  # the group's policy for a severity
    "recovery:sla_site_edit": SITE,  # a site's own policy: site managers for their sites (else 404)
    "recovery:sla_site_remove": SITE,
    "recovery:plan_create": MANAGER,
    "recovery:plan_edit": MANAGER,
    "recovery:drill_create": MANAGER,
    # Learning: every team member reads what keeps recurring; managers answer it and set the rule
    "learning:pattern_list": TEAM,
    "learning:pattern_detail": TEAM,
    "learning:change_create": MANAGER,
    "learning:change_update": MANAGER,
    "learning:pattern_close": MANAGER,
    "learning:rules": MANAGER,
    # Complaints
    "complaints:tell_us": PUBLIC,  # "Tell us / make a complaint", for patients
    "complaints:tell_us_thanks": PUBLIC,
    "complaints:complaint_list": TEAM,
    "complaints:complaint_record": TEAM,
    "complaints:complaints_return": MANAGER,
    "complaints:letter_template_list": MANAGER,
    "complaints:letter_template_edit": MANAGER,
    "complaints:complaint_letter": TEAM,
    "complaints:complaint_letter_email": TEAM,
    "complaints:complaint_letter_posted": TEAM,
    "complaints:complaint_detail": TEAM,
    "complaints:complaint_acknowledge": TEAM,
    "complaints:complaint_subject": TEAM,
    "complaints:complaint_agree": TEAM,
    "complaints:complaint_extend": TEAM,
    "complaints:complaint_respond": TEAM,
}
# Django admin has its own login page; it is checked for superusers-only access below.
ADMIN_NAMESPACE = "admin"
_SAMPLE = {
    "int": "1",
    "str": "sample",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name, namespace


def _concrete(route: str) -> str:
    """Turn a route like 'team/<int:pk>/edit/' into a URL that resolves: 'team/1/edit/'."""
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLE.get(m.group(1) or "str", "sample"), route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    return "/" + route


ALL_URLS = sorted(
    {
        (_concrete(route), name)
        for route, name, ns in _walk(get_resolver().url_patterns)
        if ns != ADMIN_NAMESPACE
    },
    key=lambda item: item[0],
)


def _urls(*kinds: str) -> list[tuple[str, str]]:
    return [(url, name) for url, name in ALL_URLS if ACCESS.get(name) in kinds]


# Pages whose whole job is to send you to the login page.
_ENDS_THE_SESSION = {"logout"}


def _visit(client, url: str):
    """GET the page; for a POST-only action (405), the POST must answer the same way."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def test_every_url_has_a_name_so_that_it_can_be_classified():
    unnamed = [url for url, name in ALL_URLS if not name]
    assert not unnamed, f"Give these URL patterns a name: {unnamed}"


def test_every_url_is_declared_public_team_or_manager():
    undeclared = sorted({name for _url, name in ALL_URLS if name not in ACCESS})
    assert not undeclared, (
        f"Declare who may open {undeclared} in ACCESS in {__name__}: PUBLIC (patients, no account), "
        "TEAM (staff and managers), SITE (site managers too) or MANAGER (the group's managers only)."
    )


def test_every_declared_url_still_exists():
    stale = sorted(set(ACCESS) - {name for _url, name in ALL_URLS})
    assert not stale, f"These names in ACCESS no longer match any URL: {stale}"


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), _urls(PUBLIC))
def test_public_pages_open_without_logging_in(client, url, name):
    response = _visit(client, url)
    assert response.status_code < 500, f"{url} ({name}) failed with {response.status_code}"
    assert not response.get("Location", "").startswith(reverse("login")), f"{url} asked for a login"


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), _urls(TEAM, SITE, MANAGER))
def test_staff_pages_send_anonymous_visitors_to_login(client, url, name):
    response = _visit(client, url)
    assert response.status_code == 302, (
        f"{url} ({name}) answered {response.status_code} to an anonymous visitor. If it is a page for "
        f"patients, declare {name!r} PUBLIC in ACCESS in {__name__}; otherwise it must require login."
    )
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), _urls(TEAM))
def test_staff_can_open_team_pages(staff_client, url, name):
    response = _visit(staff_client, url)
    assert response.status_code not in (401, 403), f"{url} ({name}) refused a staff member"
    assert response.status_code < 500, f"{url} ({name}) failed with {response.status_code}"
    if name not in _ENDS_THE_SESSION:
        assert not response.get("Location", "").startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), _urls(SITE, MANAGER))
def test_staff_are_refused_manager_pages(staff_client, url, name):
    response = _visit(staff_client, url)
    assert response.status_code == 403, f"{url} ({name}) answered {response.status_code} to a staff member"
    assert "manager" in response.content.decode().lower()


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), _urls(TEAM, SITE))
def test_site_managers_can_open_team_and_site_pages(site_manager_client, url, name):
    _assert_opens(site_manager_client, url, name, who="a site manager")


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), _urls(MANAGER))
def test_site_managers_are_refused_the_groups_pages(site_manager_client, url, name):
    response = _visit(site_manager_client, url)
    assert response.status_code == 403, f"{url} ({name}) answered {response.status_code} to a site manager"
    assert "group's managers" in response.content.decode().replace("&#x27;", "'")


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), _urls(TEAM, SITE, MANAGER))
def test_managers_can_open_team_and_manager_pages(manager_client, url, name):
    _assert_opens(manager_client, url, name, who="a manager")


def _assert_opens(client, url: str, name: str, *, who: str) -> None:
    """The page lets ``who`` (signed in, second factor verified) in: no 401/403, no 500, no login again."""
    response = _visit(client, url)
    assert response.status_code not in (401, 403), f"{url} ({name}) refused {who}"
    assert response.status_code < 500, f"{url} ({name}) failed with {response.status_code}"
    location = response.get("Location", "")
    if name not in _ENDS_THE_SESSION:
        assert not location.startswith(reverse("login")), f"{url} ({name}) sent {who} to log in"
    assert not location.startswith("/security/two-factor"), f"{url} ({name}) asked {who} for a code again"


@pytest.mark.django_db
def test_admin_is_for_superusers_only(client, manager):
    client.force_login(manager)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- Need to know: staff at one site and another site's incidents and checklist runs ------------------

# Every page about one incident or one checklist run. With need to know on (the default), a staff
# member at another site gets a 404 from each, as if it did not exist; managers open all of them.
SITE_SCOPED = sorted(
    name
    for route, name, _ns in _walk(get_resolver().url_patterns)
    if ACCESS.get(name) == TEAM and ("incidents/<" in route or "runs/<" in route)
)


def _site_scoped_url(name: str, *, incident, action, run, item) -> str:
    if name == "recovery:action_done":
        return reverse(name, args=[incident.reference, action.pk])
    if name.startswith("recovery:"):
        return reverse(name, args=[incident.reference])
    if name == "delivery:run_record":
        return reverse(name, args=[run.pk, item.pk])
    return reverse(name, args=[run.pk])


@pytest.fixture
def hilltop_work(manager):
    """An incident (with an action) and a checklist run at Hilltop, a site the staff member is not at."""
    from django.utils import timezone

    from recovery import services
    from tests.factories import (
        ChecklistItemFactory,
        ChecklistRunFactory,
        ChecklistTemplateFactory,
        LocationFactory,
        TouchpointFactory,
        open_incident,
    )

    hilltop = LocationFactory(name="Hilltop")
    incident = open_incident(touchpoint=TouchpointFactory(location=hilltop))
    action = services.incident_add_action(
        incident=incident,
        by=manager,
        description="Ring back",
        due_on=timezone.localdate(),
        now=timezone.now(),
    )
    template = ChecklistTemplateFactory(location=hilltop)
    item = ChecklistItemFactory(template=template)
    return {
        "incident": incident,
        "action": action,
        "run": ChecklistRunFactory(template=template),
        "item": item,
    }


def test_the_pages_about_one_incident_or_run_are_all_site_scoped():
    assert "recovery:incident_detail" in SITE_SCOPED
    assert "recovery:incident_resolve" in SITE_SCOPED
    assert "recovery:action_done" in SITE_SCOPED
    assert {"delivery:run_detail", "delivery:run_record", "delivery:run_complete"} <= set(SITE_SCOPED)


@pytest.mark.django_db
@pytest.mark.parametrize("name", SITE_SCOPED)
def test_staff_at_another_site_get_a_404_from_every_page_about_its_work(client, hilltop_work, name):
    from tests.factories import LocationFactory, UserFactory

    client.force_login(UserFactory(location=LocationFactory(name="Riverside")))
    response = _visit(client, _site_scoped_url(name, **hilltop_work))
    assert response.status_code == 404, f"{name} answered {response.status_code} to staff at another site"


@pytest.mark.django_db
@pytest.mark.parametrize("name", SITE_SCOPED)
def test_staff_at_the_site_and_managers_reach_every_page_about_its_work(client, manager, hilltop_work, name):
    from tests.factories import UserFactory

    at_hilltop = UserFactory(location=hilltop_work["run"].location)
    url = _site_scoped_url(name, **hilltop_work)
    for user in (at_hilltop, manager):
        client.force_login(user)
        response = _visit(client, url)
        assert response.status_code not in (401, 403, 404), f"{name} refused {user} ({response.status_code})"
        assert response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("name", SITE_SCOPED)
def test_anonymous_visitors_are_sent_to_login_from_every_page_about_a_sites_work(client, hilltop_work, name):
    response = _visit(client, _site_scoped_url(name, **hilltop_work))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", SITE_SCOPED)
def test_switched_off_staff_at_another_site_reach_every_page_as_before(client, hilltop_work, name):
    from servicedesk.models import PracticeSettings
    from tests.factories import LocationFactory, UserFactory

    PracticeSettings.objects.create(pk=PracticeSettings.SINGLETON, staff_need_to_know=False)
    client.force_login(UserFactory(location=LocationFactory(name="Riverside")))
    response = _visit(client, _site_scoped_url(name, **hilltop_work))
    assert response.status_code not in (401, 404), f"{name} answered {response.status_code}"
    assert response.status_code < 500
