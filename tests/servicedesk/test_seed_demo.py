import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from feedback.demo import GROUP_VOLUMES
from feedback.models import Response
from servicedesk.demo import DEMO_PASSWORD
from servicedesk.models import Location, Touchpoint, User
from servicedesk.roles import Role


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (Location.objects.count(), Touchpoint.objects.count(), User.objects.count())
    call_command("seed_demo")
    assert (Location.objects.count(), Touchpoint.objects.count(), User.objects.count()) == counts
    assert User.objects.get(username="manager").role == Role.MANAGER
    assert User.objects.get(username="reception").role == Role.STAFF
    assert User.objects.get(username="manager").check_password("servicedesk-demo")
    assert "servicedesk-demo" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_leaves_goals_measured_and_the_dashboard_counted_without_a_worker(settings):
    from dashboard.models import FeedbackDay
    from design.models import GoalMeasurement, ServiceGoal

    settings.DEBUG = True
    call_command("seed_demo")
    active_goals = ServiceGoal.objects.active().count()
    assert active_goals > 0
    assert GoalMeasurement.objects.values("goal").distinct().count() == active_goals
    assert FeedbackDay.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("local", ["2026-12-04T23:50", "2026-12-04T23:58", "2026-03-28T23:55"])
def test_seed_demo_works_in_the_last_minutes_before_midnight_and_writes_nothing_in_the_future(
    settings, time_machine, local
):
    from recovery.models import FollowUp, Incident

    now = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/London"))
    time_machine.move_to(now, tick=False)
    settings.DEBUG = True
    call_command("seed_demo")  # an action due "today" was refused when its step fell after midnight
    assert Incident.objects.exists()
    assert not FollowUp.objects.filter(at__gt=now).exists()


@pytest.mark.django_db
def test_seed_demo_refuses_in_production_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run when DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_runs_in_production_with_force(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--force")
    assert User.objects.filter(username="manager").exists()


@pytest.mark.django_db
def test_seed_demo_group_makes_a_group_of_sites_each_with_a_site_manager_and_answers(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--group", "12", stdout=io.StringIO())
    call_command("seed_demo", "--group", "12", stdout=io.StringIO())  # again: nothing doubles
    assert Location.objects.count() == 12
    site_managers = User.objects.with_role(Role.SITE_MANAGER).filter(username__startswith="site-")
    assert site_managers.count() == 10
    manager = site_managers.get(username="site-003")
    assert manager.check_password(DEMO_PASSWORD)
    assert manager.managed_site_ids == {manager.location_id}
    assert TOTPDevice.objects.filter(user=manager, confirmed=True).count() == 1
    answered = Response.objects.filter(location=manager.location)
    assert answered.count() == GROUP_VOLUMES[manager.location_id % len(GROUP_VOLUMES)]
    assert answered.values("touchpoint__name").distinct().get()["touchpoint__name"].startswith("Front desk")
