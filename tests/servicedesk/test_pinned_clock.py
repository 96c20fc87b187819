"""The suite runs at a fixed instant, so a time-of-day bug fails every run rather than one a night."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.conftest import PINNED_INSTANTS, pinned_now


def test_every_test_starts_at_the_chosen_instant_and_the_clock_ticks_on():
    start = pinned_now()
    if start is None:  # SERVICEDESK_TEST_NOW=real: the wall clock, by request
        return
    assert timedelta(0) <= timezone.now() - start < timedelta(minutes=1)


def test_the_instants_cover_late_evening_just_past_midnight_and_a_clock_change():
    hours = {name: int(instant[11:13]) for name, instant in PINNED_INSTANTS.items()}
    assert hours["evening"] == 23
    assert hours["past-midnight"] == 0
    day = timezone.datetime.fromisoformat(PINNED_INSTANTS["clock-change"]).date()
    london = timezone.get_default_timezone()
    before = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()), london)
    after = before + timedelta(days=1)
    assert before.utcoffset() != after.utcoffset()
