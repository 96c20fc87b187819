"""A group manager compares the sites on a phone: the funnel plot scales to the screen, the page
never slides sideways, the outliers are named, and axe finds nothing serious."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from dashboard.models import SiteDay
from tests.factories import LocationFactory, UserFactory

OVERFLOW = "() => Math.max(document.documentElement.scrollWidth, window.innerWidth) - 390"


def test_the_comparison_fits_a_phone_names_the_outliers_and_passes_axe(
    phone_page, log_in, assert_accessible, shot
):
    counts = {"Ashford Surgery": (95, 100), "Brook Lane": (340, 400), "Cedar Health Centre": (320, 400)}
    counts |= {"Dale Road Practice": (45, 96), "Elm Tree Clinic": (0, 4)}
    for name, (positive, total) in counts.items():
        SiteDay.objects.create(
            day=timezone.localdate(),
            location=LocationFactory(name=name),
            fft_very_good=positive,
            fft_poor=total - positive,
            refreshed_at=timezone.now(),
        )
    manager = UserFactory(manager=True)
    log_in(phone_page, manager)
    phone_page.goto(reverse("dashboard_compare"))
    shot(phone_page, "compare-sites")
    assert phone_page.get_by_role("img", name="Funnel plot of FFT % positive against volume").is_visible()
    outside = phone_page.locator("ul.outside-limits").all_inner_texts()
    assert any("Ashford Surgery" in text for text in outside)
    assert any("Dale Road Practice" in text for text in outside)
    assert not any("Elm Tree Clinic" in text for text in outside)
    assert phone_page.evaluate(OVERFLOW) <= 0
    assert_accessible(phone_page)
