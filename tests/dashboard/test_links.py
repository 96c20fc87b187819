"""Every tile links to the filtered list behind it, and every such link opens for a manager."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import Protocol
from tests.factories import (
    ChecklistRunFactory,
    PatientNeedProfileFactory,
    RecoveryPlanFactory,
    ServiceGoalFactory,
    ThemeFactory,
    TouchpointFactory,
    UserFactory,
    open_incident,
)

pytestmark = pytest.mark.django_db


def test_every_link_on_a_busy_dashboard_opens_the_page_behind_it(manager_client, feedback, summarise):
    desk = TouchpointFactory(name="Front desk")
    profile = PatientNeedProfileFactory(name="Working parents")
    theme = ThemeFactory(name="Wait time")
    feedback(
        6, choice="poor", touchpoint=desk, need_profile=profile, comment="Waited an hour", themes=(theme,)
    )
    ServiceGoalFactory(title="FFT positive", metric_key="tests.fixed", metric_params={"now": "50"})
    open_incident(title="Overdue", touchpoint=desk, now=timezone.now() - timedelta(days=3))
    ChecklistRunFactory(status="missed", due_at=timezone.now() - timedelta(hours=3))
    RecoveryPlanFactory(next_drill_on=timezone.localdate() - timedelta(days=3))
    Protocol.objects.create(
        title="Phone protocol",
        owner=UserFactory(manager=True),
        review_by=timezone.localdate() - timedelta(days=3),
    )
    summarise(days=3)

    page = manager_client.get(reverse("dashboard")).content.decode()
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    links = {unescape(href) for href in re.findall(r'href="([^"#][^"]*)"', main)}
    wanted = {
        "design:goal_detail": "/design/goals/",
        "recovery:incident_list": reverse("recovery:incident_list") + "?",
        "recovery:incident_detail": "/recovery/incidents/INC-",
        "feedback:response_list": reverse("feedback:response_list") + "?",
        "delivery:run_detail": "/delivery/runs/",
        "recovery:plan_detail": "/recovery/plans/",
        "delivery:protocol_detail": "/delivery/protocols/",
        "dashboard (patient group)": reverse("dashboard") + "?days=30&need_profile=",
    }
    for name, prefix in wanted.items():
        assert any(link.startswith(prefix) for link in links), f"no link to {name} on the dashboard"
    for link in sorted(links):
        if link.startswith(("/static/", reverse("dashboard_export"))):
            continue
        response = manager_client.get(link)
        assert response.status_code == 200, f"{link} answered {response.status_code}"
