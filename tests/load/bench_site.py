"""Benchmark: every page of the site, computed from scratch, on a practice after five years.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_site DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_site [--scale 1] [--requests 30] [--warmup 3] [--keepdb]
        [--growth] [--strict]

It seeds the five-year practice (tests/load/five_year.py: 100,000 incidents, 1,000,000 responses,
100,000 checklist runs, 50,000 invitations, five years of goal measurements and audit rows, times
``--scale``) in its own database, bench_<name> (kept with ``--keepdb``: a rerun skips the
seeding). Then, as the manager (with the second factor) and as a staff member, it collects every
page the navigation reaches (tests/servicedesk/crawl.py, one page per view and set of filters),
and every list with its common filters, and times each in-process (Django's test client, DEBUG
off) with the shared cache replaced by a dummy, so every request computes its page: ``--warmup``
requests, then ``--requests`` timed ones; median, p95 and the queries of one request.

It prints one table, slowest first, and flags the pages that miss the targets: p95 over 150 ms,
more than 25 queries, and with ``--growth`` (the same at 10 times the data, in a second database, run
in a child process) more than 1.3 times slower. Misses are reported; the exit status is 0 unless
``--strict``. Downloads (CSV, PDF exports) are not opened.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.load import harness

P95_TARGET_MS, QUERY_TARGET, GROWTH_TARGET = 150.0, 25, 1.3
# Not opened: a CSV of five years of responses is a download measured on its own, not a page.
DOWNLOADS = (".csv", ".pdf", "/export/")


@dataclass
class Timing:
    who: str
    url: str
    median: float = 0.0
    p95: float = 0.0
    queries: int = 0
    status: int = 200
    growth: float | None = None

    @property
    def label(self) -> str:
        return f"{self.who} {self.url}"

    def misses(self) -> list[str]:
        found = []
        if self.status >= 400:
            found.append(f"status {self.status}")
        if self.p95 > P95_TARGET_MS:
            found.append(f"p95 > {P95_TARGET_MS:.0f} ms")
        if self.queries > QUERY_TARGET:
            found.append(f"> {QUERY_TARGET} queries")
        if self.growth is not None and self.growth > GROWTH_TARGET:
            found.append(f"10x data: {self.growth:.1f}x slower")
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="times the five-year practice (0.001: a toy)"
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    parser.add_argument("--keepdb", action="store_true", help="keep the database; a rerun skips the seeding")
    parser.add_argument("--growth", action="store_true", help="also measure at 10x the scale and compare")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a page misses a target")
    parser.add_argument("--json", help=argparse.SUPPRESS)  # the growth run's child writes its timings here
    args = parser.parse_args(argv)

    growth = _growth_run(args) if args.growth else None
    with harness.scratch_django(keepdb=args.keepdb):
        timings, title = _run(args)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(t) for t in timings]))
    if growth is not None:
        larger = {(t["who"], t["url"]): t for t in growth}
        for timing in timings:
            other = larger.get((timing.who, timing.url))
            if other and timing.median:
                timing.growth = other["median"] / timing.median
    missed = _report(timings, title, growth=growth is not None)
    return 1 if args.strict and missed else 0


def _growth_run(args: argparse.Namespace) -> list[dict]:
    """The same benchmark at 10 times the data, in a database of its own, in a child process (this
    process's Django is bound to the first database)."""
    base = os.environ.get("DATABASE_URL", "")
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable, "-m", "tests.load.bench_site", "--scale", str(args.scale * 10),
            "--requests", str(args.requests), "--warmup", str(args.warmup), "--json", out.name,
        ] + (["--keepdb"] if args.keepdb else [])  # fmt: skip
        env = {**os.environ, "DATABASE_URL": harness.scratch_database_url(base, "x10")}
        print("measuring at 10x the data first …", file=sys.stderr, flush=True)
        subprocess.run(command, cwd=harness.ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text())


def _run(args: argparse.Namespace) -> tuple[list[Timing], str]:
    from django.db import connection
    from django.test import Client

    from delivery.models import ChecklistRun
    from servicedesk.models import User
    from tests.conftest import verify_second_factor
    from tests.load import five_year

    started = time.perf_counter()
    wanted = round(five_year.RUNS * args.scale)
    if not (args.keepdb and ChecklistRun.objects.count() >= wanted):
        five_year.seed(args.scale, out=lambda line: print(line, file=sys.stderr, flush=True))
    seeded = time.perf_counter() - started
    manager, staff = User.objects.get(username="manager"), User.objects.get(username="reception")
    clients = {}
    for who, user in (("manager", manager), ("staff", staff)):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        if user.is_manager:
            verify_second_factor(client, user)  # managers sign in with a second factor
        clients[who] = client
    pages = [(who, url) for who in clients for url in _pages(clients[who], who=who, manager_pk=manager.pk)]
    print(f"timing {len(pages)} pages …", file=sys.stderr, flush=True)
    timings = []
    with _computed_every_time():
        for who, url in pages:
            timings.append(_time(clients[who], who, url, warmup=args.warmup, requests=args.requests))
    title = (
        f"Whole site at scale {args.scale:g} ({five_year.describe()}; {connection.vendor}, DEBUG off, "
        f"no cache, {args.warmup} warm-up + {args.requests} timed requests a page; seeding {seeded:.0f} s)"
    )
    return timings, title


def _pages(client, *, who: str, manager_pk: int) -> list[str]:
    """Every HTML page the navigation reaches for ``who``, one per view and set of query keys,
    then the lists with their common filters."""
    from django.urls import resolve

    from tests.servicedesk.crawl import crawl

    html: list[str] = []
    crawl(
        client,
        ["/", "/my-work/"],
        check=lambda path, page: html.append(path) or [],
        skip=lambda path: urlsplit(path).path.endswith(DOWNLOADS),
    )
    kept: dict[tuple, str] = {}
    for path in html:
        parts = urlsplit(path)
        keys = tuple(sorted({key for key, _, _ in (p.partition("=") for p in parts.query.split("&") if p)}))
        kept.setdefault((resolve(parts.path).view_name, keys), path)
    pages = list(kept.values())
    for path in _filtered_lists(who=who, manager_pk=manager_pk):
        if path not in pages:
            pages.append(path)
    return pages


def _filtered_lists(*, who: str, manager_pk: int) -> list[str]:
    """The lists with the filters people use most: by status, severity, site, survey, source…"""
    from django.urls import reverse
    from django.utils import timezone

    from delivery.models import ChecklistTemplate
    from feedback.models import Survey, Theme
    from servicedesk.models import Location, Touchpoint

    today = timezone.localdate()
    site = Location.objects.order_by("pk").first()
    desk = Touchpoint.objects.filter(location=site).order_by("pk").first()
    checklist = ChecklistTemplate.objects.filter(frequency="daily").order_by("pk").first()
    survey = Survey.objects.get(slug="after-your-visit")
    five_years = {"date_from": (today.replace(year=today.year - 5)).isoformat(), "date_to": today.isoformat()}

    def url(name: str, args: tuple = (), **query) -> str:
        return reverse(name, args=args) + (f"?{urlencode(query)}" if query else "")

    incidents = [
        url("recovery:incident_list"),
        url("recovery:incident_list", status="all"),
        url("recovery:incident_list", status="closed"),
        url("recovery:incident_list", status="new"),
        url("recovery:incident_list", status="all", severity="high"),
        url("recovery:incident_list", status="all", location=site.pk),
        url("recovery:incident_list", status="all", touchpoint=desk.pk),
        url("recovery:incident_list", status="all", category="waiting"),
        url("recovery:incident_list", overdue="on"),
        url("recovery:incident_list", mine="on"),
        url("recovery:incident_list", status="all", q="waited"),
        url("recovery:incident_list", status="all", page=200),
        url("my_work"),
    ]
    if who == "staff":
        return incidents
    return [
        *incidents,
        url("delivery:template_detail", (checklist.pk,)),
        url("delivery:template_detail", (checklist.pk,), page=20),
        url("delivery:touchpoint_history", (desk.pk,)),
        url("feedback:response_list"),
        url("feedback:response_list", survey=survey.pk),
        url("feedback:response_list", negative="on"),
        url("feedback:response_list", sentiment="negative"),
        url("feedback:response_list", theme=Theme.objects.order_by("pk").first().pk),
        url("feedback:response_list", location=site.pk),
        url("feedback:response_list", **five_years),
        url("feedback:response_list", page=500),
        url("feedback:survey_results", (survey.pk,)),
        url("feedback:survey_results", (survey.pk,), location=site.pk),
        url("feedback:survey_results", (survey.pk,), **five_years),
        url("invitations:invitation_list"),
        url("invitations:invitation_list", status="completed"),
        url("invitations:invitation_list", status="expired"),
        url("invitations:invitation_list", location=site.pk),
        url("invitations:invitation_list", source="csv"),
        url("invitations:invitation_list", page="last"),
        url("security:audit_log"),
        url("security:audit_log", kind="recovery.incident"),
        url("security:audit_log", actor=manager_pk),
        url("security:audit_log", since=today.replace(year=today.year - 1).isoformat()),
        url("dashboard", touchpoint=desk.pk),
        url("delivery:overview"),
    ]


class _computed_every_time:
    """The shared cache of computed pages replaced by a dummy: each request computes its page (what
    the first view after a change costs). Sessions are in the database, so sign-in stays."""

    def __enter__(self) -> None:
        from django.core.cache.backends.dummy import DummyCache

        from servicedesk import caching

        self.saved = caching.cache
        caching.cache = DummyCache("bench", {})

    def __exit__(self, *exc: object) -> None:
        from servicedesk import caching

        caching.cache = self.saved


def _time(client, who: str, url: str, *, warmup: int, requests: int) -> Timing:
    from django.db import connection

    timing = Timing(who=who, url=url)
    for _ in range(warmup):
        timing.status = client.get(url).status_code
    queries: list[str] = []
    with connection.execute_wrapper(
        lambda execute, sql, *rest: (queries.append(sql), execute(sql, *rest))[1]
    ):
        timing.status = client.get(url).status_code
    timing.queries = len(queries)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        timing.status = response.status_code if response.status_code != 200 else timing.status
    times.sort()
    timing.median = statistics.median(times) if times else 0.0
    timing.p95 = times[max(int(len(times) * 0.95 + 0.5) - 1, 0)] if times else 0.0
    return timing


def _report(timings: list[Timing], title: str, *, growth: bool) -> int:
    timings = sorted(timings, key=lambda t: t.p95, reverse=True)
    width = max(len(t.label) for t in timings)
    print(title)
    print(f"  {'page':<{width}}  median / p95 ms, queries{', 10x data' if growth else ''}, misses")
    missed = 0
    for t in timings:
        value = f"{t.median:.0f} / {t.p95:.0f} ms, {t.queries} queries"
        if t.growth is not None:
            value += f", {t.growth:.2f}x"
        misses = t.misses()
        missed += bool(misses)
        print(f"  {t.label:<{width}}  {value}{'  MISS: ' + '; '.join(misses) if misses else ''}")
    targets = f"p95 <= {P95_TARGET_MS:.0f} ms, <= {QUERY_TARGET} queries" + (
        f", 10x data <= {GROWTH_TARGET}x" if growth else ""
    )
    print(f"  pages missing a target ({targets})  {missed} of {len(timings)}")
    return missed


if __name__ == "__main__":
    sys.exit(main())
