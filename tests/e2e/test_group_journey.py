"""A medical group of 40 sites (``seed_demo --group 40``), in the browser (issue 19).

Hillcrest Clinic's site manager signs in and sees only Hillcrest: its dashboard (and where it
stands among the group's sites), its team, never another site's dashboard nor the comparison
between sites. The group's manager then opens the comparison from the menu: the funnel plot, and
a site far below the others named outside the limits."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from dashboard.comparison.summaries import site_days_refresh
from dashboard.models import FeedbackDay
from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import Location, User


def _sign_out(page) -> None:
    page.context.clear_cookies()


def test_a_site_manager_sees_only_their_site_and_the_group_manager_compares_every_site(
    page, log_in, shot, assert_accessible
):
    call_command("seed_demo", "--force", "--group", "40", verbosity=0)  # pytest-django runs with DEBUG off
    # One site far below the rest, beside the demo's own answers: 100 positive of 400.
    ashford = Location.objects.get(name="Ashford Surgery")
    FeedbackDay.objects.filter(location=ashford).delete()
    FeedbackDay.objects.create(
        day=timezone.localdate() - timedelta(days=2),
        location=ashford,
        responses=400,
        fft_very_good=100,
        fft_poor=300,
        refreshed_at=timezone.now(),
    )
    site_days_refresh(days=sorted(set(FeedbackDay.objects.values_list("day", flat=True))), now=timezone.now())
    hillcrest = Location.objects.get(name="Hillcrest Clinic")
    riverside = Location.objects.get(name="Riverside Surgery")

    # The site manager: Hillcrest only.
    site_manager = User.objects.get(username="sitemanager")
    log_in(page, site_manager, password=DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Practice dashboard")).to_be_visible()
    location = page.get_by_label("Location")
    assert location.locator("option").all_inner_texts() == ["Hillcrest Clinic"]
    expect(page.locator(".site-positions")).to_contain_text(re.compile(r"of \d+ sites for FFT"))
    shot(page, "site-manager-dashboard")
    assert_accessible(page)
    expect(page.get_by_role("link", name="Compare sites")).to_have_count(0)

    page.get_by_role("navigation").get_by_role("link", name="Team", exact=True).click()
    team = page.locator("main table")
    expect(team).to_contain_text("Lucía García")  # Hillcrest's nurse
    expect(team).not_to_contain_text("Sam Okafor")  # Riverside's receptionist
    expect(team).not_to_contain_text("Maya Patel")  # the group's manager

    response = page.goto(f"{reverse('dashboard')}?location={riverside.pk}")
    assert response.status == 400
    response = page.goto(reverse("dashboard_compare"))
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("Only the group's managers can do this")
    assert hillcrest.pk in site_manager.managed_site_ids
    _sign_out(page)

    # The group's manager: every site, and the comparison between them.
    manager = User.objects.get(username="manager")
    log_in(page, manager, password=DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Compare sites").click()
    expect(page.get_by_role("heading", name="Compare sites")).to_be_visible()
    expect(page.get_by_role("img", name="Funnel plot of FFT % positive against volume")).to_be_visible()
    outside = page.locator("ul.outside-limits")
    expect(outside.first).to_be_visible()
    assert any("Ashford Surgery" in text for text in outside.all_inner_texts())
    expect(page.locator("main")).to_contain_text("Every site")
    shot(page, "group-comparison")
    assert_accessible(page)
