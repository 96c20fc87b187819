"""Managers design checklists, reorder items, preview, and read completion history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import ChecklistItem, ChecklistRun, ChecklistTemplate
from servicedesk.figures import round_figure
from servicedesk.metrics import Filters, Period, Unit, registry
from servicedesk.roles import Role
from tests.factories import (
    ChecklistItemFactory,
    ChecklistResultFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    LocationFactory,
    TouchpointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return ChecklistTemplateFactory(title="Waiting-room check")


def manager_pages(template):
    item = ChecklistItemFactory(template=template)
    return [
        reverse("delivery:overview"),
        reverse("delivery:template_create"),
        reverse("delivery:template_detail", args=[template.pk]),
        reverse("delivery:template_update", args=[template.pk]),
        reverse("delivery:template_preview", args=[template.pk]),
        reverse("delivery:item_create", args=[template.pk]),
        reverse("delivery:item_update", args=[item.pk]),
        reverse("delivery:touchpoint_list"),
        reverse("delivery:touchpoint_history", args=[template.touchpoint.pk]),
        reverse("delivery:training"),
        reverse("delivery:protocol_create"),
    ]


def test_manager_pages_access_matrix(client, staff, manager, template):
    urls = manager_pages(template)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    client.force_login(staff)
    for url in urls:
        assert client.get(url).status_code == 403, url
    client.force_login(manager)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_staff_cannot_change_a_checklist(staff_client, template):
    item = ChecklistItemFactory(template=template, text="Chairs clean")
    assert (
        staff_client.post(reverse("delivery:item_move", args=[item.pk]), {"direction": "up"}).status_code
        == 403
    )
    assert staff_client.post(reverse("delivery:item_remove", args=[item.pk])).status_code == 403
    assert staff_client.post(reverse("delivery:template_start", args=[template.pk])).status_code == 403
    assert ChecklistItem.objects.get(pk=item.pk).is_active


def test_a_manager_builds_a_checklist(manager_client):
    site = LocationFactory(name="Riverside Surgery")
    desk = TouchpointFactory(name="Front desk — Riverside", location=site)
    response = manager_client.post(
        reverse("delivery:template_create"),
        {
            "title": "Morning premises check",
            "dimension": "place",
            "touchpoint": desk.pk,
            "location": site.pk,
            "frequency": "daily",
            "due_time": "08:30",
            "responsible_role": Role.STAFF,
            "due_within_days": 14,
            "is_active": "on",
        },
    )
    template = ChecklistTemplate.objects.get(title="Morning premises check")
    assert response.status_code == 302
    assert response["Location"] == reverse("delivery:template_detail", args=[template.pk])
    for text, critical in [("Doors unlocked", False), ("Fire exits clear", True)]:
        manager_client.post(
            reverse("delivery:item_create", args=[template.pk]),
            {"text": text, "is_critical": "on" if critical else "", "note_required_on_fail": "on"},
        )
    assert [(i.text, i.order, i.is_critical) for i in template.items.all()] == [
        ("Doors unlocked", 1, False),
        ("Fire exits clear", 2, True),
    ]


def test_a_checklist_needs_someone_responsible_and_a_matching_place(manager_client):
    response = manager_client.post(
        reverse("delivery:template_create"),
        {
            "title": "Broken",
            "dimension": "place",
            "touchpoint": TouchpointFactory().pk,  # at a site of its own
            "location": LocationFactory().pk,
            "frequency": "daily",
            "due_time": "08:30",
            "due_within_days": 14,
        },
    )
    html = response.content.decode()
    assert response.status_code == 400  # a refused form is a 400 everywhere (servicedesk.refusal)
    assert "Choose who does this checklist" in html
    assert "This touchpoint is at" in html
    assert not ChecklistTemplate.objects.exists()


def test_only_people_checklists_can_be_per_team_member_in_the_form(manager_client):
    response = manager_client.post(
        reverse("delivery:template_create"),
        {"title": "X", "dimension": "place", "frequency": "ad_hoc", "due_time": "09:00",
         "per_person": "on", "due_within_days": 14, "responsible_role": Role.STAFF},
    )  # fmt: skip
    assert "Only people checklists" in response.content.decode()
    assert not ChecklistTemplate.objects.exists()


def test_an_empty_item_is_refused_with_a_clear_message(manager_client, template):
    response = manager_client.post(reverse("delivery:item_create", args=[template.pk]), {"text": ""})
    assert response.status_code == 400
    assert "Write what should be checked." in response.content.decode()
    assert not template.items.exists()


def test_items_move_up_and_down(manager_client, template):
    a, _b, c = (ChecklistItemFactory(template=template, order=n, text=t) for n, t in enumerate("abc", 1))
    manager_client.post(reverse("delivery:item_move", args=[c.pk]), {"direction": "up"})
    assert [i.text for i in template.items.active()] == ["a", "c", "b"]
    manager_client.post(reverse("delivery:item_move", args=[a.pk]), {"direction": "down"})
    assert [i.text for i in template.items.active()] == ["c", "a", "b"]
    response = manager_client.post(
        reverse("delivery:item_move", args=[c.pk]), {"direction": "up"}, follow=True
    )
    assert "already at the top" in response.content.decode()


def test_removing_an_answered_item_archives_it_so_history_keeps_it(manager_client, template):
    answered = ChecklistItemFactory(template=template, text="Answered once")
    fresh = ChecklistItemFactory(template=template, text="Never answered")
    ChecklistResultFactory(item=answered, run=ChecklistRunFactory(template=template))
    manager_client.post(reverse("delivery:item_remove", args=[answered.pk]), {"confirmed": "yes"})
    manager_client.post(reverse("delivery:item_remove", args=[fresh.pk]), {"confirmed": "yes"})
    assert list(ChecklistItem.objects.values_list("text", "is_active")) == [("Answered once", False)]


def test_the_preview_shows_items_as_staff_see_them_without_saving(manager_client, template):
    ChecklistItemFactory(template=template, text="Leaflets stocked", guidance="At least ten of each")
    html = manager_client.get(reverse("delivery:template_preview", args=[template.pk])).content.decode()
    assert "Leaflets stocked" in html
    assert "At least ten of each" in html
    assert "Nothing here is saved" in html
    assert "<form" not in html.split('id="main"')[1]


def test_starting_an_ad_hoc_run_opens_it(manager_client):
    template = ChecklistTemplateFactory(frequency="ad_hoc")
    response = manager_client.post(reverse("delivery:template_start", args=[template.pk]))
    run = ChecklistRun.objects.get()
    assert response["Location"] == reverse("delivery:run_detail", args=[run.pk])


def test_completion_history_shows_who_completed_and_failures(manager_client, template):
    done_by = UserFactory(first_name="Grace", last_name="Hopper")
    run = ChecklistRunFactory(
        template=template, status="completed", completed_at=timezone.now(), completed_by=done_by
    )
    ChecklistResultFactory(run=run, outcome="fail", note="Torn chair")
    html = manager_client.get(reverse("delivery:template_detail", args=[template.pk])).content.decode()
    assert "Grace Hopper" in html
    assert "Completed" in html


def test_the_overview_gives_each_dimension_the_completion_goals_read_from_the_registry(manager_client):
    due = timezone.now() - timedelta(days=2)
    place, process = (
        ChecklistTemplateFactory(dimension="place"),
        ChecklistTemplateFactory(dimension="process"),
    )
    for template, statuses in [(place, ["completed", "completed", "missed"]), (process, ["missed"])]:
        for n, status in enumerate(statuses):
            done = {"completed_at": due} if status == "completed" else {}
            ChecklistRunFactory(
                template=template,
                status=status,
                due_at=due,
                period_start=due.date() - timedelta(days=n),
                **done,
            )
    ChecklistRunFactory(template=place, due_at=due, period_start=due.date() - timedelta(days=5))  # still open

    sections = manager_client.get(reverse("delivery:overview")).context["sections"]

    period = Period.rolling(30, now=timezone.now())
    shown = [None if pct is None else float(round_figure(pct, Unit.PERCENT)) for _d, _t, pct in sections]
    for (dimension, _templates, _pct), value in zip(sections, shown, strict=True):
        filters = Filters().with_params(dimension=dimension.value)
        assert value == registry.value("delivery.checklist_completion_pct", period=period, filters=filters)
    assert shown == [0.0, None, 66.7]


def test_list_pages_use_a_constant_number_of_queries(
    manager_client, django_assert_max_num_queries, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)  # the session's "last seen" write stays out
    site = LocationFactory()
    tp = TouchpointFactory(location=site)

    def grow(n):
        for _ in range(n):
            template = ChecklistTemplateFactory(location=site, touchpoint=tp)
            ChecklistItemFactory(template=template)
            run = ChecklistRunFactory(
                template=template, status="completed", completed_at=timezone.now(), completed_by=UserFactory()
            )
            ChecklistResultFactory(run=run, outcome="fail")

    grow(2)
    first = ChecklistTemplate.objects.first()
    urls = [
        reverse("delivery:overview"),
        reverse("delivery:touchpoint_list"),
        reverse("delivery:touchpoint_history", args=[tp.pk]),
        reverse("delivery:template_detail", args=[first.pk]),
        reverse("delivery:training"),
        reverse("delivery:protocol_list"),
    ]
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(30) as captured:
            assert manager_client.get(url).status_code == 200
        counts[url] = len(captured.captured_queries)
    grow(12)
    for _ in range(10):
        ChecklistRunFactory(template=first, period_start=timezone.localdate() - timedelta(days=_ + 1))
    for url in urls:
        with django_assert_max_num_queries(
            counts[url],
        ):
            manager_client.get(url)


def test_a_new_checklist_gets_a_unique_short_name_for_goals_to_refer_to(manager_client):
    ChecklistTemplateFactory(title="Old", slug="waiting-room-check")
    data = {"title": "Waiting-room check", "dimension": "place", "frequency": "daily", "due_time": "10:00",
            "responsible_role": Role.STAFF, "due_within_days": 14, "is_active": "on"}  # fmt: skip
    manager_client.post(reverse("delivery:template_create"), data)
    assert ChecklistTemplate.objects.get(title="Waiting-room check").slug == "waiting-room-check-2"
