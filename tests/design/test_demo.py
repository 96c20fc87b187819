from io import StringIO

import pytest
from django.core.management import call_command

from design.models import GoalChange, PatientNeedProfile, ServiceGoal


@pytest.mark.django_db
def test_seed_demo_gives_five_profiles_and_eight_goals_over_three_pillars_and_is_idempotent():
    call_command("seed_demo", "--force", stdout=StringIO())
    call_command("seed_demo", "--force", stdout=StringIO())
    assert PatientNeedProfile.objects.count() == 5
    assert ServiceGoal.objects.count() == 8
    assert set(ServiceGoal.objects.values_list("pillar", flat=True)) == {"design", "delivery", "recovery"}
    assert GoalChange.objects.count() == 8  # created once, never "edited" by a rerun
    assert all(p.needs.exists() for p in PatientNeedProfile.objects.all())
    assert ServiceGoal.objects.filter(
        metric_key="recovery.median_hours_to_first_response", comparator="lte"
    ).exists()


@pytest.mark.django_db
def test_every_demo_goal_can_be_saved_unchanged_in_the_goal_form():
    from design.forms import GoalForm

    call_command("seed_demo", "--force", stdout=StringIO())
    for goal in ServiceGoal.objects.all():
        unbound = GoalForm(instance=goal)
        data = {name: unbound[name].value() for name in unbound.fields}
        data = {k: ("" if v is None else v) for k, v in data.items()}
        form = GoalForm(data=data, instance=goal)
        assert form.is_valid(), (goal.title, form.errors)
