"""Needs attention today, and the recovery and delivery sections: what the manager acts on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import Protocol
from recovery.models import Incident
from tests.factories import (
    ChecklistItemFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    RecoveryPlanFactory,
    TouchpointFactory,
    UserFactory,
    open_incident,
)

pytestmark = pytest.mark.django_db

URL = reverse("dashboard")


def _attention(client, **params) -> dict:
    return {listing.key: listing for listing in client.get(URL, params).context["attention"]}


def test_overdue_incidents_are_listed_longest_overdue_first_with_links(manager_client):
    old = open_incident(
        title="Rude reply on the phone", severity="high", now=timezone.now() - timedelta(days=3)
    )
    older = open_incident(
        title="Lost referral letter", severity="critical", now=timezone.now() - timedelta(days=9)
    )
    open_incident(title="Logged a minute ago", now=timezone.now())
    listing = _attention(manager_client)["overdue_incidents"]
    assert listing.total == 2
    assert [item.label for item in listing.items] == [
        f"{older.reference} Lost referral letter",
        f"{old.reference} Rude reply on the phone",
    ]
    assert listing.items[0].is_critical
    assert listing.items[0].url == reverse("recovery:incident_detail", args=[older.reference])
    assert "overdue by" in listing.items[0].detail
    assert "nobody owns it" in listing.items[0].detail
    unowned = _attention(manager_client)["unassigned_incidents"]
    assert [item.label.split(" ", 1)[1] for item in unowned.items] == ["Logged a minute ago"], (
        "an overdue incident is listed once, as overdue"
    )
    page = manager_client.get(URL).content.decode()
    assert "Lost referral letter" in page


def test_overdue_incidents_follow_the_touchpoint_filter(manager_client):
    desk, phone = TouchpointFactory(), TouchpointFactory()
    open_incident(title="At the desk", touchpoint=desk, now=timezone.now() - timedelta(days=3))
    open_incident(title="On the phone", touchpoint=phone, now=timezone.now() - timedelta(days=3))
    listing = _attention(manager_client, touchpoint=phone.pk)["overdue_incidents"]
    assert [item.label.split(" ", 1)[1] for item in listing.items] == ["On the phone"]


def test_missed_checks_are_listed_critical_ones_first(manager_client):
    plain = ChecklistTemplateFactory(title="Waiting-room tidy")
    critical = ChecklistTemplateFactory(title="Morning premises check")
    ChecklistItemFactory(template=critical, is_critical=True)
    ChecklistRunFactory(template=plain, status="missed", due_at=timezone.now() - timedelta(hours=2))
    ChecklistRunFactory(template=critical, status="missed", due_at=timezone.now() - timedelta(days=2))
    ChecklistRunFactory(
        template=plain,
        status="missed",
        due_at=timezone.now() - timedelta(days=30),
        period_start=timezone.localdate() - timedelta(days=30),
    )
    ChecklistRunFactory(
        template=critical,
        status="completed",
        completed_at=timezone.now(),
        period_start=timezone.localdate() - timedelta(days=1),
        due_at=timezone.now() - timedelta(days=1),
    )
    listing = _attention(manager_client)["missed_checks"]
    assert listing.total == 2  # the one a month ago is history, not today's work
    assert [(item.label, item.is_critical) for item in listing.items] == [
        ("Morning premises check", True),
        ("Waiting-room tidy", False),
    ]
    assert listing.items[0].url.startswith("/delivery/runs/")


def test_negative_feedback_without_an_incident_needs_attention(manager_client, feedback):
    desk = TouchpointFactory(name="Front desk — Riverside")
    (handled,) = feedback(1, choice="very_poor", touchpoint=desk)
    feedback(2, choice="poor", touchpoint=desk)
    feedback(3, choice="very_good", touchpoint=desk)
    feedback(1, choice="poor", when=timezone.now() - timedelta(days=20))  # long ago: not today's
    incident = open_incident(title="Follow-up")
    Incident.objects.filter(pk=incident.pk).update(source_response=handled)
    listing = _attention(manager_client)["unanswered_feedback"]
    assert listing.total == 2
    assert {item.label for item in listing.items} == {"Front desk — Riverside"}
    assert listing.items[0].url.startswith(reverse("feedback:response_list").rsplit("/", 2)[0])
    assert "negative=on" in listing.url


def test_overdue_drills_and_protocol_reviews_need_attention(manager_client):
    RecoveryPlanFactory(title="Phone system down", next_drill_on=timezone.localdate() - timedelta(days=10))
    RecoveryPlanFactory(title="Power cut", next_drill_on=timezone.localdate() + timedelta(days=10))
    Protocol.objects.create(
        title="Answering the phone",
        owner=UserFactory(manager=True),
        review_by=timezone.localdate() - timedelta(days=1),
    )
    attention = _attention(manager_client)
    assert [item.label for item in attention["overdue_drills"].items] == ["Phone system down"]
    assert [item.label for item in attention["protocol_reviews"].items] == ["Answering the phone"]


def test_incidents_by_category_compare_this_period_with_the_one_before(manager_client):
    open_incident(category="waiting", now=timezone.now() - timedelta(days=2))
    open_incident(category="waiting", now=timezone.now() - timedelta(days=3))
    open_incident(category="attitude", now=timezone.now() - timedelta(days=4))
    open_incident(category="attitude", now=timezone.now() - timedelta(days=40))
    open_incident(category="attitude", now=timezone.now() - timedelta(days=45))
    open_incident(category="privacy", now=timezone.now() - timedelta(days=100))  # before both periods
    response = manager_client.get(URL)
    rows = [(row.label, row.current, row.previous) for row in response.context["incident_categories"]]
    assert rows == [("Waiting time", 2, 0), ("Staff attitude", 1, 2)]
    assert "category=waiting" in response.context["incident_categories"][0].url
    (recovery,) = [view for view in response.context["panels"] if view.panel.key == "recovery"]
    (categories,) = recovery.comparisons
    assert categories.chart["labels"] == ["Waiting time", "Staff attitude"]
    html = response.content.decode()
    assert 'id="incident-categories-data"' in html  # the bars' data, under the recovery panel


def test_recovery_and_delivery_tiles_come_from_the_registry_and_link_to_their_lists(manager_client):
    open_incident(now=timezone.now() - timedelta(days=3))
    response = manager_client.get(URL)
    recovery = {fig.label: fig for fig in response.context["recovery"]}
    assert recovery["Open incidents"].value == 1
    assert recovery["Overdue incidents"].value == 1
    assert recovery["Overdue incidents"].url == reverse("recovery:incident_list") + "?overdue=on"
    delivery = [fig.label for fig in response.context["delivery"]]
    assert "Process checklists completed" in delivery
    assert "Training up to date" in delivery


def test_a_figure_that_cannot_be_cut_by_the_filter_says_so(manager_client):
    from tests.factories import PatientNeedProfileFactory

    response = manager_client.get(URL, {"need_profile": PatientNeedProfileFactory().pk})
    open_figure = next(fig for fig in response.context["recovery"] if fig.label == "Open incidents")
    assert open_figure.note == "Not split by need profile."


def test_checklist_completion_by_dimension_matches_the_delivery_pillars_metric(manager_client):
    from delivery.contributions import delivery_figures
    from servicedesk.metrics import Filters, registry
    from servicedesk.panels import Scope

    people = ChecklistTemplateFactory(dimension="people")
    place = ChecklistTemplateFactory(dimension="place")
    for days_ago, template, status in [
        (1, place, "completed"),
        (2, place, "missed"),
        (3, place, "completed"),
        (4, people, "missed"),
        (35, place, "missed"),
        (36, people, "completed"),
        (0, place, "due"),  # still open: does not count yet
    ]:
        ChecklistRunFactory(
            template=template,
            status=status,
            completed_at=timezone.now() if status == "completed" else None,
            period_start=timezone.localdate() - timedelta(days=days_ago),
            due_at=timezone.now() - timedelta(days=days_ago, minutes=5),
        )
    scope = Scope.last_days(now=timezone.now())
    figures = {fig.label: fig for fig in delivery_figures(scope)}
    metric = registry.get("delivery.checklist_completion_pct")
    for label, params in [
        ("Checklists completed on time", {}),
        ("Place checklists completed", {"dimension": "place"}),
        ("People checklists completed", {"dimension": "people"}),
        ("Process checklists completed", {"dimension": "process"}),
    ]:
        filters = Filters().with_params(**params)
        assert figures[label].value == metric.value(period=scope.period, filters=filters), label
        assert figures[label].previous == metric.value(period=scope.previous, filters=filters), label
    assert (figures["Missed checklists"].value, figures["Missed checklists"].previous) == (2, 1)


def test_a_long_list_of_unanswered_feedback_is_counted_up_to_a_hundred(manager_client, feedback, monkeypatch):
    from recovery import contributions
    from servicedesk import panels

    monkeypatch.setattr(panels, "COUNT_UP_TO", 7)  # where "7+" is written
    monkeypatch.setattr(contributions, "COUNT_UP_TO", 7)  # where recovery stops counting
    feedback(9, choice="very_poor")
    listing = _attention(manager_client)["unanswered_feedback"]
    assert (listing.total_label, len(listing.items)) == ("7+", 5)
    feedback_short = _attention(manager_client, touchpoint=TouchpointFactory().pk)["unanswered_feedback"]
    assert feedback_short.total_label == "0"


def test_incidents_nobody_owns_are_listed_most_urgent_first_until_assigned(manager_client, manager):
    from recovery import services

    routine = open_incident(title="Leaflets out of date", severity="low")
    urgent = open_incident(title="Patient collapsed in the car park", severity="critical")
    owned = open_incident(title="Phone line busy", severity="high")
    services.incident_assign(incident=owned, assignee=manager, by=manager, now=timezone.now())

    listing = _attention(manager_client)["unassigned_incidents"]

    assert listing.total == 2
    assert [item.label for item in listing.items] == [
        f"{urgent.reference} Patient collapsed in the car park",
        f"{routine.reference} Leaflets out of date",
    ]
    assert listing.items[0].is_critical
    assert listing.items[0].detail == "Critical · logged just now"
    assert manager_client.get(listing.url).context["total"].n == 2  # the list behind it

    services.incident_assign(incident=urgent, assignee=manager, by=manager, now=timezone.now())
    assert _attention(manager_client)["unassigned_incidents"].total == 1


def test_failed_critical_checks_are_listed_with_the_incident_each_opened(manager_client):
    from tests.factories import ChecklistResultFactory

    template = ChecklistTemplateFactory(title="Morning premises check")
    fire_exits = ChecklistItemFactory(template=template, text="Fire exits clear", is_critical=True)
    bins = ChecklistItemFactory(template=template, text="Bins emptied", is_critical=False)
    failed = ChecklistResultFactory(run__template=template, item=fire_exits, outcome="fail", note="Blocked")
    ChecklistResultFactory(run=failed.run, item=bins, outcome="fail", note="Full")  # not critical
    incident = open_incident(title="Fire exit blocked", source_links={"source_check": failed})
    earlier = ChecklistResultFactory(
        run__template=template,
        run__period_start=timezone.localdate() - timedelta(days=1),
        item=fire_exits,
        outcome="fail",
        recorded_at=timezone.now() - timedelta(hours=5),
    )
    ChecklistResultFactory(  # too long ago to need attention today
        run__template=template,
        run__period_start=timezone.localdate() - timedelta(days=30),
        item=fire_exits,
        outcome="fail",
        recorded_at=timezone.now() - timedelta(days=30),
    )

    listing = _attention(manager_client)["failed_checks"]

    assert listing.total == 2
    assert [item.label for item in listing.items] == ["Fire exits clear", "Fire exits clear"]
    assert listing.items[0].url == reverse("recovery:incident_detail", args=[incident.reference])
    assert incident.reference in listing.items[0].detail
    assert "Morning premises check" in listing.items[0].detail
    assert listing.items[1].url == reverse("delivery:run_detail", args=[earlier.run_id])
