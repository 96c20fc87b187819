"""A site manager adopts one of the group's checklists on a phone (issue 19): the group's page lists
no site yet and offers their own site only; adopting opens their copy, which names where it comes
from and shows the group's items read-only. Neither page slides sideways at 390 px."""

from __future__ import annotations

from django.urls import reverse

from servicedesk.models import Location
from servicedesk.roles import Role
from tests.factories import ChecklistItemFactory, ChecklistTemplateFactory, LocationFactory, UserFactory

OVERFLOW = "() => Math.max(document.documentElement.scrollWidth, window.innerWidth) - 390"


def test_a_site_manager_adopts_the_groups_checklist_at_their_site_on_a_phone(
    phone_page, log_in, assert_accessible, shot
):
    riverside = LocationFactory(name="Riverside Medical Centre")
    LocationFactory(name="Hilltop Surgery")
    group = ChecklistTemplateFactory(location=None, touchpoint=None, title="Fire safety walk-round")
    ChecklistItemFactory(template=group, text="Every fire exit is clear, unlocked and signed")
    site_manager = UserFactory(role=Role.SITE_MANAGER, location=riverside)
    log_in(phone_page, site_manager)

    phone_page.goto(reverse("delivery:template_detail", args=[group.pk]))
    shot(phone_page, "group-checklist")
    assert phone_page.get_by_text("No site has adopted this checklist yet").is_visible()
    assert phone_page.get_by_role("button", name="Adopt at Hilltop Surgery").count() == 0
    assert phone_page.evaluate(OVERFLOW) <= 0
    assert_accessible(phone_page)

    phone_page.get_by_role("button", name="Adopt at Riverside Medical Centre").click()
    phone_page.wait_for_load_state()
    shot(phone_page, "site-copy")
    copy = group.site_templates.get()
    assert copy.location == Location.objects.get(name="Riverside Medical Centre")
    assert phone_page.url.endswith(reverse("delivery:template_detail", args=[copy.pk]))
    assert phone_page.get_by_role("link", name="Fire safety walk-round").is_visible()
    assert phone_page.get_by_text("From the group", exact=True).is_visible()
    whose = "This is Riverside Medical Centre\N{RIGHT SINGLE QUOTATION MARK}s copy"
    assert phone_page.get_by_text(whose).is_visible()
    assert phone_page.evaluate(OVERFLOW) <= 0
    assert_accessible(phone_page)
