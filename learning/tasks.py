"""Learning's periodic work: find recurring incidents the receiver did not (a back-dated import, a
changed rule, a missed signal). Safe to run twice: a key has at most one live pattern."""

from __future__ import annotations

from django.utils import timezone

from learning.services import patterns_detect
from servicedesk.sweeps import sweep


@sweep
def detect_patterns() -> int:
    """Sweep: record every category-at-a-touchpoint and theme past the manager's rule."""
    return patterns_detect(now=timezone.now())
