"""A group of sites: the group's goal adopted at each site, kept in step, with a site's own target."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from design.adoption import goal_adopt, goal_adopt_everywhere, goal_set_site_target
from design.models import GoalChange, ServiceGoal
from design.services import goal_reactivate, goal_retire, goal_update
from servicedesk.security.models import AuditEvent
from tests.factories import LocationFactory, ServiceGoalFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group_goal(manager):
    return ServiceGoalFactory(
        title="FFT positive", owner=manager, target=Decimal("90"), tolerance=Decimal("2"), location=None
    )


def test_adopting_copies_the_definition_and_measures_it_at_the_site(group_goal, manager):
    site = LocationFactory(name="Ashford")
    now = timezone.now()

    goal = goal_adopt(group_goal=group_goal, location=site, by=manager, now=now)

    assert goal.group_goal == group_goal
    assert goal.location == site
    assert (goal.title, goal.metric_key, goal.period, goal.review_on) == (
        group_goal.title,
        group_goal.metric_key,
        group_goal.period,
        group_goal.review_on,
    )
    assert (goal.target, goal.tolerance, goal.target_overridden, goal.version) == (
        Decimal("90"),
        Decimal("2"),
        False,
        1,
    )
    assert goal.measurements.count() == 1
    assert goal.changes.get().kind == GoalChange.Kind.CREATED
    assert AuditEvent.objects.filter(target_type="design.servicegoal", target_id=str(goal.pk)).exists()


def test_adopting_twice_gives_one_goal(group_goal, manager):
    site = LocationFactory()
    first = goal_adopt(group_goal=group_goal, location=site, by=manager, now=timezone.now())
    again = goal_adopt(group_goal=group_goal, location=site, by=manager, now=timezone.now())
    assert first.pk == again.pk
    assert group_goal.site_goals.count() == 1


def test_adopting_with_a_target_makes_it_the_sites_own(group_goal, manager):
    goal = goal_adopt(
        group_goal=group_goal,
        location=LocationFactory(),
        by=manager,
        now=timezone.now(),
        target=Decimal("80"),
    )
    assert (goal.target, goal.target_overridden) == (Decimal("80"), True)


def test_a_retired_or_site_goal_cannot_be_adopted(group_goal, manager):
    site = LocationFactory()
    with pytest.raises(ValidationError, match="Only a goal of the whole group"):
        goal_adopt(
            group_goal=ServiceGoalFactory(location=site), location=site, by=manager, now=timezone.now()
        )
    goal_retire(goal=group_goal, by=manager, now=timezone.now())
    with pytest.raises(ValidationError, match="retired"):
        goal_adopt(group_goal=group_goal, location=site, by=manager, now=timezone.now())
    assert not ServiceGoal.objects.filter(group_goal__isnull=False).exists()


def _count_adopt_everywhere(group_goal, manager) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        adopted = goal_adopt_everywhere(group_goal=group_goal, by=manager, now=timezone.now())
    return adopted, len(queries.captured_queries)


def test_adopting_everywhere_adds_every_active_site_not_adopted_yet_in_a_few_queries(
    group_goal, manager, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    already = LocationFactory(name="Ashford")
    LocationFactory(name="Closed", is_active=False)
    LocationFactory(name="Brook")
    LocationFactory(name="Dale")
    goal_adopt(group_goal=group_goal, location=already, by=manager, now=timezone.now(), target=Decimal("85"))

    adopted, few_sites = _count_adopt_everywhere(group_goal, manager)
    assert adopted == 2
    assert set(group_goal.site_goals.values_list("location__name", flat=True)) == {"Ashford", "Brook", "Dale"}
    assert group_goal.site_goals.get(location=already).target == Decimal("85")  # kept
    assert GoalChange.objects.filter(goal__group_goal=group_goal, kind="created").count() == 3

    second = ServiceGoalFactory(location=None, owner=manager)
    adopted, three_sites = _count_adopt_everywhere(second, manager)
    assert adopted == 3  # Ashford, Brook and Dale

    third = ServiceGoalFactory(location=None, owner=manager)
    LocationFactory.create_batch(9)
    adopted, twelve_sites = _count_adopt_everywhere(third, manager)
    assert adopted == 12  # and the nine new sites
    assert few_sites == three_sites == twelve_sites  # one bulk path, whatever the number of sites
    assert GoalChange.objects.filter(goal__group_goal=third, kind="created").count() == 12
    assert goal_adopt_everywhere(group_goal=third, by=manager, now=timezone.now()) == 0


def test_a_site_that_retired_its_copy_is_not_readopted_everywhere(group_goal, manager):
    site = LocationFactory()
    copy = goal_adopt(group_goal=group_goal, location=site, by=manager, now=timezone.now())
    goal_retire(goal=copy, by=manager, now=timezone.now())
    assert goal_adopt_everywhere(group_goal=group_goal, by=manager, now=timezone.now()) == 0
    copy.refresh_from_db()
    assert not copy.is_active
    # the site adopting it again itself brings its copy back
    assert goal_adopt(group_goal=group_goal, location=site, by=manager, now=timezone.now()).is_active


def test_a_change_of_definition_reaches_every_site_and_keeps_a_sites_own_target(group_goal, manager):
    touchpoint = TouchpointFactory()
    following = goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    own = goal_adopt(
        group_goal=group_goal,
        location=LocationFactory(),
        by=manager,
        now=timezone.now(),
        target=Decimal("80"),
        tolerance=Decimal("1"),
    )

    goal_update(
        goal=group_goal,
        by=manager,
        now=timezone.now(),
        fields={"title": "FFT positive, every site", "target": Decimal("95"), "touchpoint": touchpoint},
    )

    following.refresh_from_db()
    own.refresh_from_db()
    assert (following.title, following.touchpoint, following.target, following.version) == (
        "FFT positive, every site",
        touchpoint,
        Decimal("95"),
        2,
    )
    assert (own.title, own.touchpoint, own.target, own.tolerance, own.version) == (
        "FFT positive, every site",
        touchpoint,
        Decimal("80"),
        Decimal("1"),
        2,
    )
    change = own.changes.filter(kind=GoalChange.Kind.EDITED).get()
    assert set(change.changes) == {"title", "touchpoint"}  # its own target did not change
    assert change.version == 2
    assert AuditEvent.objects.filter(target_id=str(own.pk), action="changed").exists()


def _adopted_at(group_goal, manager, sites: int, *, own_targets: int = 1) -> list[ServiceGoal]:
    """``group_goal`` adopted at ``sites`` new sites, the first ``own_targets`` with a target of 80."""
    copies = [
        goal_adopt(group_goal=group_goal, location=site, by=manager, now=timezone.now())
        for site in LocationFactory.create_batch(sites)
    ]
    for copy in copies[:own_targets]:
        goal_set_site_target(goal=copy, by=manager, now=timezone.now(), fields={"target": Decimal("80")})
    return copies


def _count_group_change(group_goal, manager, fields) -> int:
    with CaptureQueriesContext(connection) as queries:
        goal_update(goal=group_goal, by=manager, now=timezone.now(), fields=fields)
    return len(queries.captured_queries)


def test_a_change_of_the_group_goal_costs_the_same_queries_at_3_and_12_sites(manager, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    touchpoint = TouchpointFactory()
    change = {"title": "FFT positive, every site", "target": Decimal("95"), "touchpoint": touchpoint}
    few = ServiceGoalFactory(location=None, owner=manager, target=Decimal("90"))
    _adopted_at(few, manager, 3)
    many = ServiceGoalFactory(location=None, owner=manager, target=Decimal("90"))
    copies = _adopted_at(many, manager, 12)

    assert _count_group_change(few, manager, change) == _count_group_change(many, manager, change)

    own, following = copies[0], copies[1:]
    own.refresh_from_db()
    assert (own.title, own.touchpoint, own.target, own.target_overridden) == (
        "FFT positive, every site",
        touchpoint,
        Decimal("80"),
        True,
    )
    assert own.version == 3  # 2: the site's own target; 3: the group's new touchpoint
    following_now = ServiceGoal.objects.filter(pk__in=[c.pk for c in following])
    assert {(g.title, g.touchpoint_id, g.target, g.version) for g in following_now} == {
        ("FFT positive, every site", touchpoint.pk, Decimal("95"), 2)
    }
    assert {g.updated_at for g in following_now} == {timezone.now()}


def test_each_sites_copy_keeps_its_own_history_row_and_audit_event_when_the_group_changes(
    group_goal, manager, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    own, following = _adopted_at(group_goal, manager, 2)
    goal_update(
        goal=group_goal, by=manager, now=timezone.now(), fields={"title": "FFT", "target": Decimal("95")}
    )

    history = following.changes.get(kind=GoalChange.Kind.EDITED)
    assert (history.version, history.changes, history.by, history.at) == (
        2,
        {"title": ["FFT positive", "FFT"], "target": ["90.00", "95"]},
        manager,
        timezone.now(),
    )
    event = AuditEvent.objects.get(
        target_type="design.servicegoal", target_id=str(following.pk), action="changed"
    )
    assert (event.actor, event.at, event.target_label) == (manager, timezone.now(), "the service goal “FFT”")
    assert event.data == {"title": ["FFT positive", "FFT"], "target": ["90.00", "95"], "version": ["1", "2"]}
    # the site's own target stayed: only the new title is its change, no new version
    own_history = own.changes.filter(kind=GoalChange.Kind.EDITED).latest("pk")
    assert own_history.changes == {"title": ["FFT positive", "FFT"]}
    own_event = AuditEvent.objects.filter(target_id=str(own.pk), action="changed").latest("pk")
    assert own_event.data == {"title": ["FFT positive", "FFT"]}


def test_a_new_group_target_leaves_copies_with_their_own_target_untouched(group_goal, manager, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    own, following = _adopted_at(group_goal, manager, 2)
    own.refresh_from_db()
    own_before = (own.version, own.updated_at, own.changes.count())
    time_machine.shift(60)

    goal_update(goal=group_goal, by=manager, now=timezone.now(), fields={"tolerance": Decimal("3")})

    own.refresh_from_db()
    following.refresh_from_db()
    assert (own.version, own.updated_at, own.changes.count()) == own_before
    assert own.tolerance == Decimal("2")  # the group's margin when the site set its own target
    assert (following.tolerance, following.version, following.updated_at) == (Decimal("3"), 1, timezone.now())
    assert not AuditEvent.objects.filter(target_id=str(own.pk), at=timezone.now()).exists()


def test_a_wording_change_reaches_the_sites_without_a_new_version(group_goal, manager):
    copy = goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    goal_update(goal=group_goal, by=manager, now=timezone.now(), fields={"purpose": "Clearer why."})
    copy.refresh_from_db()
    assert (copy.purpose, copy.version) == ("Clearer why.", 1)


def test_an_adopted_goal_changes_only_its_owner_target_and_margin(group_goal, manager):
    copy = goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    with pytest.raises(ValidationError, match="adopted from the group"):
        goal_update(goal=copy, by=manager, now=timezone.now(), fields={"title": "Our own words"})
    with pytest.raises(TypeError):
        goal_set_site_target(goal=copy, by=manager, now=timezone.now(), fields={"period": "quarter_to_date"})
    copy.refresh_from_db()
    assert copy.title == "FFT positive"


def test_setting_the_groups_target_again_follows_the_group(group_goal, manager):
    copy = goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    goal_set_site_target(goal=copy, by=manager, now=timezone.now(), fields={"target": Decimal("85")})
    assert (copy.target, copy.target_overridden, copy.version) == (Decimal("85"), True, 2)
    goal_set_site_target(goal=copy, by=manager, now=timezone.now(), fields={"target": Decimal("90")})
    assert copy.target_overridden is False
    goal_update(goal=group_goal, by=manager, now=timezone.now(), fields={"target": Decimal("92")})
    copy.refresh_from_db()
    assert copy.target == Decimal("92")


def test_a_group_goal_sites_adopted_cannot_move_to_one_site(group_goal, manager):
    site = LocationFactory()
    goal_adopt(group_goal=group_goal, location=site, by=manager, now=timezone.now())
    with pytest.raises(ValidationError, match="stays the group's"):
        goal_update(goal=group_goal, by=manager, now=timezone.now(), fields={"location": site})


def test_retiring_the_group_goal_retires_the_sites_and_reactivating_it_does_not(group_goal, manager):
    copies = [
        goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
        for _ in range(2)
    ]
    goal_retire(goal=group_goal, by=manager, now=timezone.now())
    assert not group_goal.site_goals.active().exists()
    assert GoalChange.objects.filter(goal__in=copies, kind=GoalChange.Kind.RETIRED).count() == 2

    with pytest.raises(ValidationError, match="reactivates it first"):
        goal_reactivate(goal=copies[0], by=manager, now=timezone.now())

    goal_reactivate(goal=group_goal, by=manager, now=timezone.now())
    assert not group_goal.site_goals.active().exists()  # each site decides again
    assert goal_reactivate(goal=copies[0], by=manager, now=timezone.now())


def _count_group_retire(group_goal, manager) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert goal_retire(goal=group_goal, by=manager, now=timezone.now())
    return len(queries.captured_queries)


def test_retiring_the_group_goal_costs_the_same_queries_at_3_and_12_sites(manager, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    few = ServiceGoalFactory(location=None, owner=manager)
    _adopted_at(few, manager, 3)
    many = ServiceGoalFactory(location=None, owner=manager)
    _adopted_at(many, manager, 12)

    assert _count_group_retire(few, manager) == _count_group_retire(many, manager)

    assert not ServiceGoal.objects.filter(group_goal__in=[few, many]).active().exists()
    retirements = GoalChange.objects.filter(goal__group_goal=many, kind=GoalChange.Kind.RETIRED)
    assert retirements.count() == 12


def test_each_sites_copy_keeps_its_own_history_row_and_audit_event_when_the_group_goal_retires(
    group_goal, manager, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    own, following = _adopted_at(group_goal, manager, 2)  # the first with its own target: version 2
    opted_out = goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    goal_retire(goal=opted_out, by=manager, now=timezone.now())
    opted_out_at = timezone.now()
    time_machine.shift(60)

    goal_retire(goal=group_goal, by=manager, now=timezone.now())

    for copy, version in ((own, 2), (following, 1)):
        copy.refresh_from_db()
        assert (copy.status, copy.retired_at, copy.updated_at, copy.version) == (
            ServiceGoal.Status.RETIRED,
            timezone.now(),
            timezone.now(),
            version,
        )
        history = copy.changes.get(kind=GoalChange.Kind.RETIRED)
        assert (history.version, history.changes, history.by, history.at) == (
            version,
            {},
            manager,
            timezone.now(),
        )
        event = AuditEvent.objects.get(
            target_type="design.servicegoal", target_id=str(copy.pk), at=timezone.now()
        )
        assert (event.action, event.actor, event.target_label, event.data) == (
            "changed",
            manager,
            "the service goal “FFT positive”",
            {"status": ["pursued", "retired"]},
        )
    # A copy its site retired before keeps that retirement, and gets no second history row.
    opted_out.refresh_from_db()
    assert opted_out.retired_at == opted_out_at
    assert opted_out.changes.filter(kind=GoalChange.Kind.RETIRED).count() == 1
    assert not AuditEvent.objects.filter(target_id=str(opted_out.pk), at=timezone.now()).exists()


def test_an_adopted_goal_keeps_the_group_goal(group_goal, manager):
    from django.db.models import ProtectedError

    goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    with pytest.raises(ProtectedError):
        group_goal.delete()


def test_review_date_follows_the_group(group_goal, manager):
    copy = goal_adopt(group_goal=group_goal, location=LocationFactory(), by=manager, now=timezone.now())
    later = timezone.localdate() + timedelta(days=200)
    goal_update(goal=group_goal, by=manager, now=timezone.now(), fields={"review_on": later})
    copy.refresh_from_db()
    assert copy.review_on == later
