"""The feedback pillar's figures, each defined once as a pure function over counts.

Every page, goal, export, digest and report that shows FFT % positive or negative, NPS or a
response rate gathers its counts its own (cheap) way — answers, daily summaries, invitations —
and hands them to these functions. Each returns an unrounded ``Decimal`` (rounded for display by
``servicedesk.figures.round_figure``) or None when there are fewer answers than the small-number
threshold, so "too few to show" means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from feedback.models import Answer
from servicedesk.figures import share_pct, too_few


@dataclass(frozen=True)
class FftCounts:
    """How many FFT answers fell in each group; ``total`` includes "neither" and "don't know"
    (NHS England's method: don't know is in the denominator)."""

    total: int = 0
    positive: int = 0
    negative: int = 0

    @classmethod
    def from_choices(cls, counts: Mapping[str, int]) -> FftCounts:
        """From answers counted per choice ({"very_good": 12, "poor": 1, …})."""
        return cls(
            total=sum(counts.values()),
            positive=sum(counts.get(choice, 0) for choice in Answer.FFT_POSITIVE),
            negative=sum(counts.get(choice, 0) for choice in Answer.FFT_NEGATIVE),
        )


@dataclass(frozen=True)
class NpsCounts:
    promoters: int = 0  # 9-10
    passives: int = 0  # 7-8
    detractors: int = 0  # 0-6

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @classmethod
    def from_scores(cls, counts: Mapping[int, int]) -> NpsCounts:
        """From 0-10 answers counted per score ({10: 5, 9: 1, 3: 2})."""
        return cls(
            promoters=sum(n for score, n in counts.items() if score >= 9),
            passives=sum(n for score, n in counts.items() if 7 <= score <= 8),
            detractors=sum(n for score, n in counts.items() if score <= 6),
        )


def fft_positive_pct(counts: FftCounts) -> Decimal | None:
    """(very good + good) ÷ all FFT answers, as a %."""
    return None if too_few(counts.total) else share_pct(counts.positive, counts.total)


def fft_negative_pct(counts: FftCounts) -> Decimal | None:
    """(poor + very poor) ÷ all FFT answers, as a %."""
    return None if too_few(counts.total) else share_pct(counts.negative, counts.total)


def nps(counts: NpsCounts) -> Decimal | None:
    """% promoters - % detractors, from -100 to +100."""
    if too_few(counts.total):
        return None
    return Decimal(100) * (counts.promoters - counts.detractors) / counts.total


def response_rate_pct(*, answered: int, invited: int) -> Decimal | None:
    """Invitations answered ÷ invitations that reached a patient, as a %."""
    return None if too_few(invited) else share_pct(answered, invited)
