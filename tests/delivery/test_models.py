import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery.models import ChecklistResult, ChecklistRun, ChecklistTemplate
from tests.factories import (
    ChecklistItemFactory,
    ChecklistResultFactory,
    ChecklistRunFactory,
    ChecklistTemplateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_template_has_one_run_per_period_and_location():
    run = ChecklistRunFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistRunFactory(template=run.template, period_start=run.period_start, location=run.location)


def test_a_practice_wide_template_cannot_get_two_runs_for_one_period():
    """Location NULL must not slip through the unique index (NULLs are distinct in SQL)."""
    template = ChecklistTemplateFactory(location=None, touchpoint__location=None)
    run = ChecklistRunFactory(template=template, location=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistRunFactory(template=template, period_start=run.period_start, location=None)


def test_each_shift_and_each_person_get_their_own_run_for_the_same_day():
    template = ChecklistTemplateFactory()
    ChecklistRunFactory(template=template, shift="Morning")
    ChecklistRunFactory(template=template, shift="Afternoon")
    people = ChecklistTemplateFactory(dimension="people", per_person=True)
    ChecklistRunFactory(template=people, subject=UserFactory())
    ChecklistRunFactory(template=people, subject=UserFactory())
    assert ChecklistRun.objects.count() == 4


def test_an_item_has_one_result_per_run():
    result = ChecklistResultFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistResultFactory(run=result.run, item=result.item)
    assert ChecklistResult.objects.count() == 1


def test_a_completed_run_always_records_when():
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistRunFactory(status=ChecklistRun.Status.COMPLETED, completed_at=None)
    run = ChecklistRunFactory(status=ChecklistRun.Status.COMPLETED, completed_at=timezone.now())
    assert not run.is_open


def test_only_people_checklists_can_be_about_each_team_member():
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistTemplateFactory(dimension=ChecklistTemplate.Dimension.PLACE, per_person=True)


def test_items_are_listed_in_the_managers_order():
    template = ChecklistTemplateFactory()
    second = ChecklistItemFactory(template=template, order=2, text="Lights on")
    first = ChecklistItemFactory(template=template, order=1, text="Door unlocked")
    ChecklistItemFactory(template=template, order=3, is_active=False)
    assert list(template.items.active()) == [first, second]
    assert str(first) == "Door unlocked"
