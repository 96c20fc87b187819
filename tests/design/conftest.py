import pytest

from servicedesk.metrics import Metric, Unit
from tests.design.registry import registered


@pytest.fixture
def answer_rate():
    """A registered percentage metric whose value the test sets (None: no data)."""
    state = {"value": 87.5, "calls": []}

    def compute(*, period, filters):
        state["calls"].append((period, filters))
        return state["value"]

    metric = Metric(
        key="testing.calls_answered_pct",
        label="Calls answered within 3 rings",
        unit=Unit.PERCENT,
        higher_is_better=True,
        compute=compute,
        description="Share of calls picked up by the third ring.",
        filterable_by=frozenset({"location_id", "touchpoint_id"}),
    )
    with registered(metric):
        yield state


@pytest.fixture
def response_hours():
    """A registered hours metric where lower is better."""
    with registered(
        Metric(
            key="testing.hours_to_respond",
            label="Hours to first response",
            unit=Unit.HOURS,
            higher_is_better=False,
            compute=lambda *, period, filters: 3.0,
        )
    ) as metric:
        yield metric


@pytest.fixture
def complaint_count():
    with registered(
        Metric(
            key="testing.complaints",
            label="Complaints",
            unit=Unit.COUNT,
            higher_is_better=False,
            compute=lambda *, period, filters: 2,
        )
    ) as metric:
        yield metric
