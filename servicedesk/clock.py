"""The practice's calendar: local days and their midnights, in the practice's time zone.

"Now" is ``timezone.now()``, passed down as ``now=``; "today" is the practice's local date of
that instant, never ``date.today()`` (the server's zone) and never UTC's date.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone


def local_midnight(day: date) -> datetime:
    """The start of a local day, correct across clock changes (a day can be 23 or 25 hours long)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def local_today(now: datetime) -> date:
    """The practice's date at ``now``, whatever the server's own zone (23:30 UTC is tomorrow in summer)."""
    return timezone.localdate(now)
