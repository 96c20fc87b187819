"""Text analytics run when a response is submitted: a sentiment score and theme tags.

Sentiment is VADER (vaderSentiment): a lexicon and rules tuned for short, informal text,
which is what patients write in a comment box. It needs no model download, no network and
no GPU, scores a comment in well under a millisecond, and gives the same score every time
(so a manager can be told *why* a comment was flagged). A transformer model would score
subtle or sarcastic comments better, but at hundreds of megabytes and ~100 times the CPU
per comment, on a practice's small server, the trade is not worth it for a signal that
only decides which comments a human reads first. VADER knows English only: we add a short
Spanish lexicon (the words patients actually use to praise or complain) and Spanish
negators, so Spanish comments get a usable, if coarser, score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from vaderSentiment import vaderSentiment as vader

from feedback.models import Response, Theme

# VADER valences run from -4 (most negative) to +4.
SPANISH_LEXICON = {
    "excelente": 3.2, "estupendo": 3.0, "estupenda": 3.0, "genial": 3.0, "perfecto": 2.8,
    "perfecta": 2.8, "maravilloso": 3.0, "maravillosa": 3.0, "encantado": 2.5, "encantada": 2.5,
    "bueno": 1.9, "buena": 1.9, "buenos": 1.9, "buenas": 1.9, "bien": 1.6, "mejor": 1.6,
    "amable": 2.2, "amables": 2.2, "atento": 1.9, "atenta": 1.9, "atentos": 1.9, "simpático": 2.0,
    "simpática": 2.0, "profesional": 1.8, "profesionales": 1.8, "rápido": 1.4, "rápida": 1.4,
    "limpio": 1.5, "limpia": 1.5, "gracias": 1.8, "agradecido": 2.2, "agradecida": 2.2,
    "contento": 2.2, "contenta": 2.2, "satisfecho": 2.0, "satisfecha": 2.0, "recomiendo": 1.8,
    "malo": -2.5, "mala": -2.5, "malos": -2.5, "malas": -2.5, "mal": -2.2, "peor": -2.5,
    "pésimo": -3.2, "pésima": -3.2, "fatal": -3.0, "horrible": -3.0, "terrible": -3.0,
    "desastre": -3.1, "vergüenza": -2.6, "grosero": -2.8, "grosera": -2.8, "groseros": -2.8,
    "maleducado": -2.6, "maleducada": -2.6, "borde": -2.2, "antipático": -2.3, "antipática": -2.3,
    "lento": -1.3, "lenta": -1.3, "sucio": -2.0, "sucia": -2.0, "sucios": -2.0, "imposible": -1.8,
    "enfadado": -2.3, "enfadada": -2.3, "molesto": -2.0, "molesta": -2.0, "decepcionado": -2.3,
    "decepcionada": -2.3, "insatisfecho": -2.0, "insatisfecha": -2.0, "queja": -1.8,
    "ignorado": -2.0, "ignorada": -2.0, "esperando": -0.8, "tarde": -0.6,
}  # fmt: skip
# Words that in a practice's feedback name a failure of service though a general lexicon reads
# them as neutral: "we waited an hour", "running late", "the line was engaged". Without them the
# clause that complains about waiting scores 0 and is never counted against waiting.
SERVICE_LEXICON = {
    "waited": -1.0, "late": -0.9, "delay": -1.0, "delayed": -1.2, "delays": -1.0, "engaged": -1.0,
    "cancelled": -1.2, "canceled": -1.2, "nobody": -0.8, "queue": -0.6, "queued": -0.8, "chase": -0.9,
    "chased": -0.9, "chasing": -0.9, "rushed": -1.0, "dismissive": -1.6, "jargon": -0.8, "cold": -0.6,
    "filthy": -2.2, "impossible": -1.5, "never": -0.6, "ages": -0.8,
    "esperé": -1.0, "esperamos": -1.0, "retraso": -1.2, "cancelaron": -1.2, "nadie": -0.8, "frío": -0.6,
    "sin": 0.0,  # Spanish "without" ("sin esperar nada": no wait at all), not the English "sin" (-2.6)
}  # fmt: skip
SPANISH_NEGATORS = ("no", "nunca", "jamás", "nadie", "tampoco", "ningún", "ninguna", "ninguno")


@cache
def _analyzer() -> vader.SentimentIntensityAnalyzer:
    """VADER with the Spanish words, built once, on the first comment scored (not at import)."""
    analyzer = vader.SentimentIntensityAnalyzer()
    analyzer.lexicon.update(SPANISH_LEXICON)
    analyzer.lexicon.update(SERVICE_LEXICON)
    # VADER reads its negators from a module-level list, not from the analyzer.
    vader.NEGATE.extend([word for word in SPANISH_NEGATORS if word not in vader.NEGATE])
    return analyzer


def sentiment(text: str) -> float | None:
    """VADER's compound score, from -1 (very negative) to +1; None for blank text."""
    text = text.strip()
    if not text:
        return None
    return round(_analyzer().polarity_scores(text)["compound"], 4)


@dataclass(frozen=True)
class ThemeMatcher:
    """Themes whose keywords or phrases appear in a text. Build one per submit (one query)."""

    # (theme pk, what mentions it, what looks like it but does not: "-waiting room" for Wait time)
    patterns: tuple[tuple[int, re.Pattern[str], re.Pattern[str] | None], ...]

    @classmethod
    def from_keywords(cls, themes: Iterable[tuple[int, list[str]]]) -> ThemeMatcher:
        """From (pk, keyword lines) pairs; a line starting with "-" is a phrase that does not count."""
        found = []
        for pk, lines in themes:
            pattern = keyword_pattern([line for line in lines if not line.startswith("-")])
            if pattern is not None:
                excluded = keyword_pattern([line[1:].strip() for line in lines if line.startswith("-")])
                found.append((pk, pattern, excluded))
        return cls(tuple(found))

    @classmethod
    def from_themes(cls, themes: Iterable[Theme]) -> ThemeMatcher:
        return cls.from_keywords((t.pk, t.keyword_list()) for t in themes)

    def _themes_in(self, text: str) -> list[int]:
        return [
            pk
            for pk, pattern, excluded in self.patterns
            if pattern.search(excluded.sub(" ", text) if excluded else text)
        ]

    @classmethod
    def active(cls) -> ThemeMatcher:
        return cls.from_themes(Theme.objects.active())

    def match(self, text: str) -> set[int]:
        """Primary keys of the themes the text mentions."""
        return set(self._themes_in(text))

    def mentions(self, text: str) -> list[Mention]:
        """Each theme the text mentions, with the clause that mentions it and that clause's own
        sentiment: "friendly staff but we waited an hour" is a positive mention of staff and a
        negative one of waiting. A theme mentioned in several clauses keeps its most negative one."""
        found: dict[int, Mention] = {}
        for start, end in clauses(text):
            clause = text[start:end]
            themes = self._themes_in(clause)
            if not themes:
                continue
            score = sentiment(clause)
            for pk in themes:
                mention = Mention(theme_id=pk, start=start, end=end, sentiment=score)
                if pk not in found or mention.rank < found[pk].rank:
                    found[pk] = mention
        return list(found.values())


# Where one thought ends and the next begins: sentence ends, and the words that turn a comment
# around ("friendly staff, but…", "amables, pero…").
CLAUSE_BREAK = re.compile(
    r"[.!?;:\n]+|\s*,?\s+(?:but|and|however|although|though|except|apart from|whereas|also|"
    r"pero|y|aunque|sin embargo|excepto|menos|además)\s+",
    re.IGNORECASE,
)


def clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty clause of ``text``, trimmed."""
    spans, start = [], 0
    for match in [*CLAUSE_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[start:end]
        if piece.strip():
            left = start + len(piece) - len(piece.lstrip())
            spans.append((left, left + len(piece.strip())))
        if match:
            start = match.end()
    return spans


def is_negative(score: float | None) -> bool:
    """A clause or comment is negative at or below the one line ``Response.NEGATIVE_TO``."""
    return score is not None and score <= Response.NEGATIVE_TO


@dataclass(frozen=True)
class Mention:
    theme_id: int
    start: int
    end: int
    sentiment: float | None

    @property
    def is_negative(self) -> bool:
        return is_negative(self.sentiment)

    @property
    def rank(self) -> float:
        return self.sentiment if self.sentiment is not None else 0.0


def keyword_pattern(keywords: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for a theme's keywords and phrases.

    Each matches whole words ("bill" does not find "billion"); a trailing ``*`` matches any
    ending ("wait*" finds "waiting" and "waited"). A phrase's words must appear in order,
    separated by any whitespace. Built once per process for each list of keywords: every
    comment a patient sends is matched against every theme.
    """
    return _keyword_pattern(tuple(keywords))


@lru_cache(maxsize=512)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives = []
    for keyword in keywords:
        stem = keyword.endswith("*")
        words = keyword.rstrip("*").split()
        if not words:
            continue
        body = r"\s+".join(re.escape(word) for word in words)
        alternatives.append(body + (r"\w*" if stem else "") + r"(?!\w)")
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + ")", re.IGNORECASE)
