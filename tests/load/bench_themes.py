"""Benchmark: how well the default themes find what patients talk about, and what they complain of.

    .venv/bin/python -m tests.load.bench_themes [--file tests/load/themes_eval.csv]

Runs the theme matcher, with the default keywords of the latest keyword migration, over the
labelled comments of ``themes_eval.csv`` (English and Spanish; see ``themes_eval_build``) and
prints, per theme, precision and recall of its mentions and of its negative mentions (the clause
about the theme is a complaint): the negative ones are what the dashboard quotes under "What
unhappy patients talk about". No database needed.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

EVAL = Path(__file__).with_name("themes_eval.csv")
KEYWORDS = "feedback.migrations.0013_default_theme_keywords_per_clause"


@dataclass
class Scores:
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    wrong: list[str] = field(default_factory=list)

    def add(self, predicted: bool, labelled: bool, comment: str) -> None:
        self.true_pos += predicted and labelled
        self.false_pos += predicted and not labelled
        self.false_neg += labelled and not predicted
        if predicted != labelled:
            self.wrong.append(("+" if predicted else "-") + " " + comment)

    @property
    def precision(self) -> float | None:
        found = self.true_pos + self.false_pos
        return self.true_pos / found if found else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else None


def default_themes() -> dict[str, str]:
    return importlib.import_module(KEYWORDS).THEMES


def evaluate(path: Path = EVAL) -> tuple[dict[str, Scores], dict[str, Scores]]:
    """(mentions, negative mentions) scores per theme over the labelled comments at ``path``."""
    from feedback.analysis import ThemeMatcher

    names = list(default_themes())
    matcher = ThemeMatcher.from_keywords(
        (index, [line.strip().lower() for line in keywords.splitlines() if line.strip()])
        for index, keywords in enumerate(default_themes().values())
    )
    mentions = {name: Scores() for name in names}
    negative = {name: Scores() for name in names}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labelled = set(filter(None, row["themes"].split(";")))
            complained = set(filter(None, row["negative"].split(";")))
            found = {names[m.theme_id]: m for m in matcher.mentions(row["comment"])}
            for name in names:
                mentions[name].add(name in found, name in labelled, row["comment"])
                negative[name].add(
                    name in found and found[name].is_negative, name in complained, row["comment"]
                )
    return mentions, negative


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=EVAL)
    parser.add_argument("--show-misses", action="store_true", help="print the comments each theme got wrong")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    mentions, negative = evaluate(args.file)
    with args.file.open(encoding="utf-8") as handle:
        total = sum(1 for _row in csv.DictReader(handle))
    # A title line, then "  label  value" lines: the form `make bench` collects into its table.
    print(f"Themes on {total} labelled comments ({args.file.name}): precision / recall")
    for name in mentions:
        m, n = mentions[name], negative[name]
        print(
            f"  {name:<24}  mentions {_pct(m.precision)} / {_pct(m.recall)}, "
            f"negative {_pct(n.precision)} / {_pct(n.recall)}"
        )
        if args.show_misses:
            for comment in (m.wrong + n.wrong)[:8]:
                print("      " + comment)
    everything = Scores(
        sum(s.true_pos for s in negative.values()),
        sum(s.false_pos for s in negative.values()),
        sum(s.false_neg for s in negative.values()),
    )
    print(f"  {'all negative mentions':<24}  {_pct(everything.precision)} / {_pct(everything.recall)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
