"""The dashboard's first screen answers "how are we doing, and what needs me today": goals, FFT,
NPS, overdue incidents and missed checks are inside the first viewport on a laptop and a phone."""

from __future__ import annotations

import pytest

from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import User
from tests.e2e.conftest import _new_page
from tests.e2e.test_every_page_fits import SCREENS

HEADLINE = ("Goals", "FFT positive", "Net Promoter Score", "Overdue incidents", "Missed checks")


@pytest.mark.parametrize("screen", SCREENS)
def test_the_headline_is_on_the_first_screen(demo, browser, live_server, log_in, shot, screen):
    page = next(_new_page(browser, live_server.url, **SCREENS[screen]))
    log_in(page, User.objects.get(username="manager"), DEMO_PASSWORD)
    page.goto("/dashboard/")
    shot(page, f"dashboard on a {screen}")
    height = SCREENS[screen]["viewport"]["height"]
    headline = page.get_by_role("region", name="At a glance")
    tiles = headline.locator(".figure-tile")
    assert [label.strip() for label in tiles.locator(".figure-label").all_inner_texts()] == list(HEADLINE)
    for tile in tiles.all():
        box = tile.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= height, f"{tile.inner_text()!r} is below the first {screen} screen"
        assert tile.get_attribute("href")  # each leads to its detail
    page.context.close()
