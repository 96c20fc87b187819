"""Every page the crawl reaches fits the screen and passes axe: no page-level sideways scroll and
no serious or critical axe-core violation, at a phone's 390x844 and a laptop's 1366x768, as a
manager and as a staff member, on the demo practice (so lists have rows and long names)."""

from __future__ import annotations

import pytest
from django.test import Client

from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import User
from tests.e2e.conftest import _new_page
from tests.servicedesk.crawl import crawl

SCREENS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "laptop": {"viewport": {"width": 1366, "height": 768}},
}
# How far the page is wider than the screen, in CSS pixels (0 when nothing slides sideways). A
# phone's browser widens its window to a page too wide for it, so the screen's width is the measure.
OVERFLOW = "(width) => Math.max(document.documentElement.scrollWidth, window.innerWidth) - width"
# The innermost elements reaching past the screen's edge, to say what to fix.
WIDE_ELEMENTS = """(width) => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1 && e.offsetParent !== null)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 4)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " "
        + JSON.stringify(e.textContent.trim().slice(0, 40)))"""


def _pages(username: str) -> list[str]:
    """One page per URL name the crawl reaches as this person (downloads left out)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    return [path for path in crawl(client, ["/", "/my-work/"], per_name=1).pages if "export" not in path]


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("username", ["manager", "reception"])
def test_every_page_fits_the_screen_and_passes_axe(demo, browser, live_server, log_in, axe, username, screen):
    pages = _pages(username)
    width = SCREENS[screen]["viewport"]["width"]
    page = next(_new_page(browser, live_server.url, **SCREENS[screen]))
    log_in(page, User.objects.get(username=username), DEMO_PASSWORD)
    too_wide, inaccessible = {}, {}
    for path in pages:
        page.goto(path)
        if (overflow := page.evaluate(OVERFLOW, width)) > 0:
            too_wide[path] = f"{overflow} px too wide: {page.evaluate(WIDE_ELEMENTS, width)}"
        violations = axe.run(page).response["violations"]
        if serious := [v for v in violations if v.get("impact") in {"serious", "critical"}]:
            inaccessible[path] = [f"{v['id']} {[n['target'] for n in v['nodes']][:2]}" for v in serious]
    page.context.close()
    assert len(pages) > (50 if username == "manager" else 15)
    assert not too_wide, "\n".join(f"{path}: {why}" for path, why in too_wide.items())
    assert not inaccessible, "\n".join(f"{path}: {why}" for path, why in inaccessible.items())
