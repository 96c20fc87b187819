import pytest
from django.utils import timezone

from delivery import demo as delivery_demo
from delivery.models import ChecklistResult, ChecklistRun, ChecklistTemplate, Protocol, ProtocolVersion
from servicedesk import demo as core_demo


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (ChecklistTemplate, ChecklistRun, ChecklistResult, Protocol, ProtocolVersion)
    }


@pytest.mark.django_db
def test_the_demo_seeds_three_months_of_checklists_and_is_idempotent():
    lines: list[str] = []
    core_demo.seed(options={}, out=lines.append)
    delivery_demo.seed(options={}, out=lines.append)
    first = counts()
    delivery_demo.seed(options={}, out=lines.append)
    assert counts() == first

    assert {t.dimension for t in ChecklistTemplate.objects.all()} == {"process", "people", "place"}
    assert 10 <= first["ChecklistTemplate"] <= 14
    assert first["ChecklistRun"] > 700  # 90 days of runs
    runs = ChecklistRun.objects.filter(subject__isnull=True)
    completed = runs.filter(status="completed").count() / runs.exclude(status="due").count()
    assert 0.85 < completed < 0.99  # realistic: mostly done, sometimes missed
    failures = ChecklistResult.objects.filter(outcome="fail").count()
    assert 0 < failures < first["ChecklistResult"] * 0.05  # a few
    assert ChecklistRun.objects.filter(subject__isnull=False).exists()  # training status
    assert Protocol.objects.overdue_review(timezone.localdate()).exists()
    for slug in ("morning-premises", "phone-line", "portal-messages", "email-inbox", "waiting-room"):
        assert ChecklistTemplate.objects.filter(slug=slug, items__isnull=False).exists()
