from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from servicedesk.metrics import Filters, Metric, MetricRegistry, Period, Unit
from servicedesk.metrics import registry as project_registry

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def answers_metric(*, period: Period, filters: Filters) -> float | None:
    data = {1: 80.0, 2: None}
    return data.get(filters.location_id, 42.0)


def make_metric(key: str = "test.score", compute=answers_metric) -> Metric:
    return Metric(key=key, label="Score", unit=Unit.PERCENT, higher_is_better=True, compute=compute)


def test_a_registered_metric_is_computed_for_a_period_and_filters():
    registry = MetricRegistry()
    registry.register(make_metric())
    period = Period.last_days(30, now=NOW)
    assert registry.value("test.score", period=period) == 42.0
    assert registry.value("test.score", period=period, filters=Filters(location_id=1)) == 80.0


def test_no_data_and_unknown_keys_are_none_not_errors():
    registry = MetricRegistry()
    registry.register(make_metric())
    period = Period.last_days(30, now=NOW)
    assert registry.value("test.score", period=period, filters=Filters(location_id=2)) is None
    assert registry.value("nobody.registered_this", period=period) is None
    assert "nobody.registered_this" not in registry


def test_registering_two_different_metrics_under_one_key_is_a_configuration_error():
    registry = MetricRegistry()
    registry.register(make_metric())
    registry.register(make_metric())  # the same metric again (ready() may run twice) is fine
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        registry.register(make_metric(compute=lambda *, period, filters: 1))


def test_keys_are_namespaced_by_app():
    with pytest.raises(ImproperlyConfigured, match=r"<app>\.<name>"):
        MetricRegistry().register(make_metric(key="score"))


def test_choices_list_label_and_unit_sorted_by_key():
    registry = MetricRegistry()
    registry.register(make_metric(key="z.last"))
    registry.register(make_metric(key="a.first"))
    assert registry.choices() == [("a.first", "Score (%)"), ("z.last", "Score (%)")]


def test_period_previous_is_the_same_length_immediately_before():
    period = Period.last_days(30, now=NOW)
    previous = period.previous()
    assert previous.end == period.start
    assert previous.length == timedelta(days=30)


def test_a_period_must_end_after_it_starts():
    with pytest.raises(ValueError, match="end after"):
        Period(start=NOW, end=NOW)


def test_filter_params_are_hashable_and_merge():
    filters = Filters(location_id=3).with_params(question="7").with_params(dimension="place")
    assert filters.param("question") == "7"
    assert filters.param("dimension") == "place"
    assert hash(filters) == hash(Filters(location_id=3, params=(("dimension", "place"), ("question", "7"))))


def test_project_registry_values_are_numbers_or_none(db):
    period = Period.last_days(30, now=NOW)
    for metric in project_registry:
        value = metric.value(period=period)
        assert value is None or isinstance(value, float), metric.key


def test_every_registered_metric_says_how_it_is_computed_in_words():
    """Goal pages show it beside the figure: a manager reads how, never a key."""
    apps = ("feedback.", "recovery.", "delivery.", "design.")  # tests register their own, too
    ours = [m for m in project_registry if m.key.startswith(apps)]
    assert len(ours) > 10
    assert [m.key for m in ours if not m.description] == []
    assert [m.key for m in ours if "." in m.label or "_" in m.label] == []
