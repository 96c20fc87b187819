"""``make bench``: run every ``tests/load/bench_*.py`` and print one table.

Each benchmark runs in its own interpreter against its own throwaway database (created
from ``DATABASE_URL``; use PostgreSQL for figures worth quoting) and prints a title line
followed by ``  label  value`` lines. This collects them into one table.

    make bench                       # all of them, at the sizes the issues name
    make bench BENCH="escalation"    # only those whose file name contains a word
    make bench BENCH="--smoke"       # all of them at toy sizes: do they still run? (CI, ~2 min)

The figures of a smoke run mean nothing; it exists so that a benchmark broken by a change to the
app (a new login step, a renamed module) fails CI instead of the next person who measures.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_ROW = re.compile(r"^\s{2,}(?P<label>\S.*?)\s{2,}(?P<value>\S.*)$")


def discover(words: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [n for n in names if not words or any(w in n for w in words)]


# Toy sizes for --smoke: every code path of each benchmark, in seconds.
SMOKE = {
    "bench_dashboard": "--sizes 2000 --requests 2 --warmup 1",
    "bench_delivery": "--sizes 100 --requests 2 --warmup 1",
    "bench_escalation": "--incidents 300 --due 20 --repeat-find 2",
    "bench_feedback_results": "--sizes 300 --requests 2",
    "bench_group": "--sites 6 --answers 20000 --summary-days 30 --requests 2 --warmup 1",
    "bench_http": "--users 5 --duration 4 --warmup 1 --workers 2 --refresh-every 1 --no-targets",
    "bench_invitations_import": "--rows 200",
    "bench_invitations_send": "--invitations 40 --workers 2",
    "bench_rollup_month": "--sites 4 --rows 2000 --repeat 2",
    "bench_site": "--scale 0.001 --requests 2 --warmup 1",  # every page once crawled, on a toy practice
    "bench_submit": "--requests 3 --warmup 1",
    "bench_themes": "",  # needs no database: the whole labelled set in a second
}


def run(name: str, args: list[str] | None = None) -> tuple[str, list[tuple[str, str]], float, str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", f"tests.load.{name}", *(args or [])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    rows = [(m["label"], m["value"]) for line in lines if (m := _ROW.match(line))]
    status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
    if result.returncode != 0:
        rows.append(("error", (result.stderr.strip().splitlines() or ["no output"])[-1]))
    return name, rows, elapsed, status


def main(argv: list[str]) -> int:
    smoke = "--smoke" in argv
    words = [word for word in argv if word != "--smoke"]
    names = discover(words)
    if not names:
        print(f"No benchmark matches {words!r} in {HERE}.")
        return 1
    missing = [name for name in names if smoke and name not in SMOKE]
    if missing:
        print(f"No smoke sizes for {', '.join(missing)}: add them to SMOKE in {__file__}.")
        return 1
    results = []
    for name in names:
        print(f"running {name}{' (smoke)' if smoke else ''} …", file=sys.stderr, flush=True)
        results.append(run(name, SMOKE[name].split() if smoke else None))
    label_width = max((len(label) for _, rows, _, _ in results for label, _ in rows), default=10)
    name_width = max(len(name) for name in names)
    print(f"\n{'benchmark':<{name_width}}  {'figure':<{label_width}}  value")
    print(f"{'-' * name_width}  {'-' * label_width}  {'-' * 40}")
    for name, rows, elapsed, status in results:
        for label, value in [*rows, ("(wall time, status)", f"{elapsed:.0f} s, {status}")]:
            print(f"{name:<{name_width}}  {label:<{label_width}}  {value}")
    return 0 if all(status == "ok" for *_, status in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
