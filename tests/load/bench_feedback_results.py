"""Time a survey's results page as its responses grow (DESIGN.md, "How we measure speed").

PostgreSQL, DEBUG off, Django's test client in-process on one thread; per size: a few warm-up
requests, then at least 30 timed ones; median, p95 and the query count of one request. The
results are measured twice: computed on every request (the cache replaced by a dummy: what the
first view after a new response costs) and as served from the cache (every other view). The
data is seed_demo's "After your visit" survey (11 questions, ~8 answers per response) topped
up with ``seed_demo --responses N``, all within the page's default 90-day window, so every
request aggregates every response.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_feedback \\
        .venv/bin/python -m tests.load.bench_feedback_results [--sizes 10000,100000] [--keepdb]

It works in its own throwaway database, bench_<name>, dropped afterwards unless
--keepdb (which makes a rerun skip the seeding).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time

from tests.load import harness

WARM_UP = 5


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="response counts to measure at, ascending")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per size (at least 30)")
    parser.add_argument("--keepdb", action="store_true", help="keep the benchmark database for a rerun")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    with harness.scratch_django(keepdb=args.keepdb):
        return _run(args, sizes)


def _run(args: argparse.Namespace, sizes: list[int]) -> int:
    from django.core.cache import cache as default_cache
    from django.core.cache.backends.dummy import DummyCache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from feedback.models import Answer, Survey
    from servicedesk import caching as figures  # where computed pages meet the cache
    from servicedesk.models import User
    from tests.conftest import verify_second_factor

    print(
        f"Feedback results page ({connection.vendor}, DEBUG off, test client, "
        f"{WARM_UP} warm-up + {args.requests} timed requests per size)"
    )
    for size in sizes:
        started = time.monotonic()
        call_command("seed_demo", "--force", "--responses", str(size), verbosity=0, stdout=io.StringIO())
        seeded = time.monotonic() - started
        survey = Survey.objects.get(slug="after-your-visit")
        responses = survey.responses.count()
        answers = Answer.objects.filter(response__survey=survey).count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
                cursor.execute("ANALYZE")
        client = Client()
        manager = User.objects.get(username="manager")
        client.force_login(manager)
        verify_second_factor(client, manager)  # managers sign in with a second factor
        results_url = f"/feedback/surveys/{survey.pk}/results/"
        pages = (
            ("results, computed", results_url, DummyCache("bench", {})),
            ("results, cached", results_url, default_cache),
            ("responses list", "/feedback/responses/", default_cache),
        )
        for label, url, results_cache in pages:
            figures.cache = results_cache
            median, p95, queries = _measure(client, url, args.requests, CaptureQueriesContext, connection)
            print(
                f"  {label} @ {responses:,} responses ({answers:,} answers)  "
                f"median {median:.0f} ms, p95 {p95:.0f} ms, {queries} queries"
            )
        figures.cache = default_cache
        print(f"  seeding up to {responses:,} responses  {seeded:.0f} s")
    return 0


def _measure(client, url: str, requests: int, capture, connection) -> tuple[float, float, int]:
    for _ in range(WARM_UP):
        assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(max(requests, 30)):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    with capture(connection) as queries:
        client.get(url)
    p95 = statistics.quantiles(timings, n=20)[18]
    return statistics.median(timings), p95, len(queries)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
