"""A site manager of a group (issue 19) changes their site's settings on a phone: gives their site its
own SLA policy for a severity and goes back to the group's, adopts one of the group's service goals
with their own target, and reads their site's survey results, response rates and invitations.
No page slides sideways at 390 px, and none has a serious accessibility problem."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from design.models import ServiceGoal
from feedback.models import Invitation
from recovery import services as recovery_services
from recovery.models import SlaPolicy
from servicedesk.roles import Role
from tests.factories import (
    AnswerFactory,
    InvitationFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    ServiceGoalFactory,
    SurveyFactory,
    UserFactory,
)

OVERFLOW = "() => Math.max(document.documentElement.scrollWidth, window.innerWidth) - 390"
RIVERSIDE = "Riverside Medical Centre"

# The words of table cells that wrap in the middle ("Sever-ity", "Gro-up"): a table squeezed into
# 390 px by ``overflow-wrap: anywhere`` fits the phone but cannot be read; a word breaks there only
# when it is longer than the whole width. Text hidden for screen readers is not looked at.
BROKEN_WORDS = r"""() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent.closest("td, th") || parent.closest(".visually-hidden")) continue;
    if (!parent.closest("table").checkVisibility()) continue;
    for (const word of node.data.matchAll(/[^\s\-\u2010-\u2015\/·]{2,}/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
      if (lines.size > 1) broken.push(word[0]);
    }
  }
  return broken;
}"""


def _fits(page: Page, assert_accessible) -> None:
    """No sideways scroll at 390 px, no table word broken in two, and axe-core finds nothing serious."""
    assert page.evaluate(OVERFLOW) <= 0, f"{page.url} is wider than the phone"
    assert page.evaluate(BROKEN_WORDS) == [], f"{page.url}: words break in the middle of a table"
    assert_accessible(page)


def _site_manager():
    riverside = LocationFactory(name=RIVERSIDE)
    hilltop = LocationFactory(name="Hilltop Surgery")
    return UserFactory(role=Role.SITE_MANAGER, location=riverside), riverside, hilltop


def test_a_site_manager_gives_their_site_its_own_sla_policy_and_goes_back_to_the_groups_on_a_phone(
    phone_page, log_in, assert_accessible, shot
):
    recovery_services.sla_policies_ensure_defaults()  # the browser tests start from a flushed database
    site_manager, riverside, _hilltop = _site_manager()
    log_in(phone_page, site_manager)

    phone_page.goto(reverse("recovery:sla_list"))
    shot(phone_page, "sla-list")
    expect(phone_page.get_by_role("heading", name="SLA policies")).to_be_visible()
    sites = phone_page.locator("#site-policies")
    expect(sites.get_by_role("row", name="Hilltop Surgery")).to_have_count(0)  # not theirs
    _fits(phone_page, assert_accessible)

    sites.get_by_role("link", name=f"High policy: override for {RIVERSIDE}").click()
    phone_page.wait_for_load_state()
    shot(phone_page, "override-form")
    expect(phone_page.get_by_role("heading", name=f"High incidents at {RIVERSIDE}")).to_be_visible()
    _fits(phone_page, assert_accessible)
    phone_page.get_by_label("Respond within (hours)").fill("1")
    phone_page.get_by_role("button", name=f"Override for {RIVERSIDE}").click()
    phone_page.wait_for_load_state()

    shot(phone_page, "own-policy")
    expect(phone_page.get_by_role("status").first).to_contain_text(f"Saved {RIVERSIDE}'s own high SLA policy")
    own = SlaPolicy.objects.get(location=riverside, severity="high")
    assert own.respond_within == timedelta(hours=1)
    own_link = phone_page.locator("#site-policies").get_by_role("link", name=f"High policy at {RIVERSIDE}")
    expect(own_link).to_contain_text("Own")
    _fits(phone_page, assert_accessible)

    own_link.click()
    phone_page.wait_for_load_state()
    shot(phone_page, "own-policy-form")
    expect(phone_page.get_by_label("Respond within (hours)")).to_have_value("1")
    _fits(phone_page, assert_accessible)
    phone_page.get_by_role("button", name="Use the group's policy again").click()
    phone_page.wait_for_load_state()

    shot(phone_page, "confirm")
    question = f"Use the group's high policy again at {RIVERSIDE}?"
    expect(phone_page.get_by_role("heading", name=question)).to_be_visible()
    assert SlaPolicy.objects.filter(location=riverside).exists()  # nothing deleted before confirming
    _fits(phone_page, assert_accessible)
    phone_page.get_by_role("button", name="Use the group's policy again").click()
    phone_page.wait_for_load_state()

    shot(phone_page, "back-on-the-groups")
    expect(phone_page.get_by_role("status").first).to_contain_text(
        f"{RIVERSIDE} uses the group's high SLA policy again"
    )
    assert not SlaPolicy.objects.filter(location=riverside).exists()
    sites = phone_page.locator("#site-policies")
    expect(sites.get_by_role("link", name=f"High policy: override for {RIVERSIDE}")).to_contain_text("Group")
    _fits(phone_page, assert_accessible)


def test_the_groups_manager_pages_through_and_finds_a_site_among_many_on_a_phone(
    phone_page, log_in, assert_accessible, shot
):
    recovery_services.sla_policies_ensure_defaults()
    sites = [LocationFactory(name=f"Surgery at Long Meadow Crossing {n:02}") for n in range(30)]
    riverside = LocationFactory(name=RIVERSIDE)
    manager = UserFactory(role=Role.MANAGER)
    recovery_services.sla_site_policy_save(
        location=riverside,
        severity="high",
        respond_within=timedelta(hours=1),
        resolve_within=timedelta(days=1),
        steps=[recovery_services.StepSpec(after=timedelta(0), notify_role="Managers")],
        by=manager,
    )
    log_in(phone_page, manager)

    phone_page.goto(reverse("recovery:sla_list"))
    shot(phone_page, "first-page-of-sites")
    table = phone_page.locator("#site-policies")
    expect(table.locator("tbody tr")).to_have_count(25)
    expect(phone_page.get_by_text("31 sites")).to_be_visible()
    _fits(phone_page, assert_accessible)

    phone_page.get_by_role("link", name="Next").click()
    phone_page.wait_for_load_state()
    shot(phone_page, "second-page-of-sites")
    expect(table.get_by_role("row", name=sites[-1].name)).to_have_count(1)
    _fits(phone_page, assert_accessible)

    phone_page.get_by_label("Site name").fill("riverside")
    phone_page.get_by_role("button", name="Find").click()
    phone_page.wait_for_load_state()
    shot(phone_page, "found")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.get_by_role("link", name=f"High policy at {RIVERSIDE}")).to_contain_text("Own")
    _fits(phone_page, assert_accessible)


def test_a_site_manager_adopts_a_group_goal_and_sets_their_sites_target_on_a_phone(
    phone_page, log_in, assert_accessible, shot
):
    site_manager, riverside, _hilltop = _site_manager()
    group_goal = ServiceGoalFactory(
        title="Patients would recommend our surgeries", location=None, target=Decimal("90")
    )
    log_in(phone_page, site_manager)

    phone_page.goto(reverse("design:goal_detail", args=[group_goal.pk]))
    shot(phone_page, "group-goal")
    adopted_sites = phone_page.get_by_test_id("adopted-sites")
    expect(adopted_sites).to_contain_text("No site has adopted this goal yet")
    expect(phone_page.get_by_role("button", name="Adopt at all sites")).to_have_count(0)  # the group's to do
    expect(phone_page.get_by_role("button", name="Adopt at Hilltop Surgery")).to_have_count(0)
    _fits(phone_page, assert_accessible)

    phone_page.get_by_role("button", name=f"Adopt at {RIVERSIDE}").click()
    phone_page.wait_for_load_state()
    shot(phone_page, "adopted-goal")
    site_goal = ServiceGoal.objects.get(group_goal=group_goal, location=riverside)
    assert phone_page.url.endswith(reverse("design:goal_detail", args=[site_goal.pk]))
    expect(phone_page.get_by_role("status").first).to_contain_text(f"{RIVERSIDE} has adopted this goal")
    expect(phone_page.get_by_test_id("adopted-from")).to_contain_text("Its target follows the group's.")
    _fits(phone_page, assert_accessible)

    phone_page.get_by_role("link", name="Set this site's target").click()
    phone_page.wait_for_load_state()
    shot(phone_page, "site-target-form")
    group_defined = phone_page.get_by_test_id("group-defined")
    expect(group_defined).to_contain_text("Set by the group")
    expect(group_defined).to_contain_text("Patients would recommend our surgeries")
    expect(group_defined.get_by_role("textbox")).to_have_count(0)  # read-only: shown, not a field
    expect(group_defined.get_by_role("combobox")).to_have_count(0)
    _fits(phone_page, assert_accessible)
    phone_page.get_by_label("Target").fill("85")
    phone_page.get_by_role("button", name="Save this site's target").click()
    phone_page.wait_for_load_state()

    shot(phone_page, "own-target")
    assert phone_page.url.endswith(reverse("design:goal_detail", args=[site_goal.pk]))
    expect(phone_page.get_by_role("status").first).to_contain_text("Saved this site's target")
    expect(phone_page.get_by_test_id("adopted-from")).to_contain_text("The site set its own target")
    site_goal.refresh_from_db()
    assert (site_goal.target, site_goal.target_overridden) == (Decimal("85"), True)
    group_goal.refresh_from_db()
    assert group_goal.target == Decimal("90")  # the group's is untouched
    _fits(phone_page, assert_accessible)

    phone_page.get_by_test_id("adopted-from").get_by_role("link", name=group_goal.title).click()
    phone_page.wait_for_load_state()
    shot(phone_page, "group-goal-with-the-site")
    site_row = phone_page.get_by_test_id("adopted-sites").get_by_role("row", name=RIVERSIDE)
    expect(site_row).to_contain_text("85")
    expect(site_row).to_contain_text("site's own")
    _fits(phone_page, assert_accessible)


def test_a_site_manager_reads_their_sites_survey_results_and_response_rates_on_a_phone(
    phone_page, log_in, assert_accessible, shot
):
    site_manager, riverside, hilltop = _site_manager()
    survey = SurveyFactory(title="After your visit to one of our surgeries", location=None)
    fft = QuestionFactory(survey=survey, position=0, kind="fft", text="Overall, how was your experience?")
    why = QuestionFactory(survey=survey, position=1, kind="text", text="What is the main reason?")
    for location, count in ((riverside, 6), (hilltop, 5)):
        for _i in range(count):
            response = ResponseFactory(survey=survey, location=location)
            AnswerFactory(response=response, question=fft, choice="very_good", value=5)
    response = ResponseFactory(survey=survey, location=riverside)
    AnswerFactory(response=response, question=fft, choice="good", value=4)
    AnswerFactory(
        response=response,
        question=why,
        choice="",
        value=None,
        text="The receptionist found me an appointment the same afternoon, which I had not expected at all.",
    )
    sent = timezone.now() - timedelta(hours=1)
    InvitationFactory(
        survey=survey, location=riverside, sent_at=sent, status=Invitation.Status.COMPLETED, completed_at=sent
    )
    InvitationFactory(survey=survey, location=riverside, sent_at=sent, first_name="Aleksandra-Magdalena")
    InvitationFactory(survey=survey, location=hilltop, sent_at=sent, first_name="Hillary")
    log_in(phone_page, site_manager)

    phone_page.goto(reverse("feedback:survey_results", args=[survey.pk]))
    shot(phone_page, "results")
    expect(phone_page.get_by_role("heading", name=f"Results: {survey.title}")).to_be_visible()
    expect(phone_page.get_by_text("the same afternoon", exact=False)).to_be_visible()
    # Enough answers at Riverside to show its figures; Hilltop's five are not counted.
    this_month = phone_page.get_by_role("region", name="Friends and Family Test by month")
    expect(this_month.locator("td[data-label='Very good']")).to_have_text("6")
    expect(this_month.locator("td[data-label='Total']")).to_have_text("7")
    _fits(phone_page, assert_accessible)

    phone_page.goto(reverse("invitations:invitation_report"))
    shot(phone_page, "response-rates")
    row = phone_page.get_by_role("row", name=survey.title)
    expect(row).to_contain_text("50")  # 1 of Riverside's 2 invitations answered; Hilltop's not counted
    _fits(phone_page, assert_accessible)

    phone_page.goto(reverse("invitations:invitation_list"))
    shot(phone_page, "invitations")
    expect(phone_page.get_by_text("Aleksandra-Magdalena")).to_be_visible()
    expect(phone_page.get_by_text("Hillary")).to_have_count(0)  # another site's patient
    _fits(phone_page, assert_accessible)
