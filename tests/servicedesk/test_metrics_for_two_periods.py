"""Every figure computed for several periods at once (``Metric.compute_each``: the dashboard's period
and the one before) equals the figure computed for each period alone, on the demo practice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from servicedesk.metrics import Filters, Period, registry
from servicedesk.models import Location, Touchpoint

pytestmark = pytest.mark.django_db


def test_each_period_together_is_each_period_alone(settings):
    call_command("seed_demo", "--force", verbosity=0)
    now = timezone.now()
    month = Period(start=now - timedelta(days=30), end=now)
    before = Period(start=month.start - timedelta(days=30), end=month.start)
    batched = [metric for metric in registry if metric.compute_each is not None]
    assert {m.key.split(".")[0] for m in batched} == {"recovery", "delivery"}
    place = [
        Filters(),
        Filters(location_id=Location.objects.first().pk),
        Filters(touchpoint_id=Touchpoint.objects.first().pk),
    ]
    shown = 0
    for metric in batched:
        for filters in place:
            alone = [metric.value(period=p, filters=filters) for p in (month, before)]
            assert metric.values(periods=[month, before], filters=filters) == alone, (metric.key, filters)
            shown += sum(value is not None for value in alone)
    assert shown  # the demo practice gives these figures something to measure
