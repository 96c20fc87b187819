"""Time a survey's results page as its responses grow (DESIGN.md, "How we measure speed").

PostgreSQL, DEBUG off, Django's test client in-process on one thread; per size: a few warm-up
requests, then at least 30 timed ones; median, p95 and the query count of one request. The
results are measured twice: computed on every request (the cache replaced by a dummy: what the
first view after a new response costs) and as served from the cache (every other view). The
data is seed_demo's "After your visit" survey (11 questions, ~8 answers per response) topped
up with ``seed_demo --responses N`` up to ``DEMO_RESPONSES``, then, on PostgreSQL, with copies
of those responses (answers, theme mentions and all) made in SQL at other moments of the last
90 days (``--seed sql``, a few minutes for a million; ``--seed demo`` seeds all with seed_demo),
all within the page's default 90-day window. Before timing, the daily roll-up is built as the
sweep builds it (``refresh_dashboard --all``), so the window is read from the roll-up except
the last minutes; the time that takes, and one sweep's, is printed too.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_rollup DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_feedback_results [--sizes 10000,100000,1000000] [--keepdb]

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
# Responses seed_demo makes (realistic answers and comments); the rest are copies of them.
DEMO_RESPONSES = 20_000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="response counts to measure at, ascending")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per size (at least 30)")
    parser.add_argument("--keepdb", action="store_true", help="keep the benchmark database for a rerun")
    parser.add_argument("--seed", choices=["sql", "demo"], default="sql")
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
    from django.utils import timezone

    from dashboard.summaries import feedback_days_refresh, feedback_days_stale
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
        by_sql = args.seed == "sql" and connection.vendor == "postgresql"
        demo = min(size, DEMO_RESPONSES) if by_sql else size
        call_command("seed_demo", "--force", "--responses", str(demo), verbosity=0, stdout=io.StringIO())
        if by_sql:
            _copy_responses(size)
        seeded = time.monotonic() - started
        started = time.monotonic()
        call_command("refresh_dashboard", "--all", stdout=io.StringIO())  # the roll-up, as the sweep makes it
        rolled_up = time.monotonic() - started
        survey = Survey.objects.get(slug="after-your-visit")
        responses = survey.responses.count()
        answers = Answer.objects.filter(response__survey=survey).count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
                cursor.execute("VACUUM ANALYZE")
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
        now = timezone.now()
        started = time.monotonic()
        swept = feedback_days_refresh(days=feedback_days_stale(now=now), now=now)
        sweep = time.monotonic() - started
        print(f"  seeding up to {responses:,} responses  {seeded:.0f} s")
        print(f"  roll-up of every day (refresh_dashboard --all)  {rolled_up:.1f} s")
        print(f"  one summary sweep ({swept} days, roll-up included)  {sweep * 1000:.0f} ms")
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


def _copy_responses(wanted: int) -> None:
    """Top "After your visit" up to ``wanted`` responses by copying its seeded ones in SQL
    (PostgreSQL): each copy keeps the original's place, answers and theme mentions, at another
    moment of the last 90 days, and is linked to no invitation."""
    from django.db import connection

    from feedback.models import Answer, Response, Survey, ThemeMention

    survey = Survey.objects.get(slug="after-your-visit")
    missing = wanted - survey.responses.count()
    if missing <= 0:
        return
    first = (Response.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rounds = missing // survey.responses.count() + 1

    def columns(model, **replaced: str) -> tuple[str, str]:
        names = [f.column for f in model._meta.concrete_fields if f.column != "id"]
        quoted = [connection.ops.quote_name(n) for n in names]  # ThemeMention has a column "end"
        values = [replaced.get(n, f"o.{q}") for n, q in zip(names, quoted, strict=True)]
        return ", ".join(quoted), ", ".join(values)

    response_cols, response_values = columns(
        Response,
        invitation_id="NULL",
        submitted_at="now() - make_interval(secs => (m.new_id * 7919) %% 7776000)",
    )
    answer_cols, answer_values = columns(Answer, response_id="m.new_id", submitted_at="r.submitted_at")
    mention_cols, mention_values = columns(ThemeMention, response_id="m.new_id", answer_id="n.id")
    through = Response.themes.through._meta.db_table
    responses, answers, mentions = (m._meta.db_table for m in (Response, Answer, ThemeMention))
    statements = [
        f"""CREATE TEMP TABLE bench_copies AS
            SELECT r.id AS old_id, %(first)s + row_number() OVER (ORDER BY g, r.id) - 1 AS new_id
            FROM {responses} r CROSS JOIN generate_series(1, %(rounds)s) AS g WHERE r.survey_id = %(survey)s
            ORDER BY g, r.id LIMIT %(missing)s""",  # noqa: S608
        f"""INSERT INTO {responses} (id, {response_cols}) SELECT m.new_id, {response_values}
            FROM bench_copies m JOIN {responses} o ON o.id = m.old_id""",  # noqa: S608
        f"""INSERT INTO {answers} ({answer_cols}) SELECT {answer_values}
            FROM bench_copies m JOIN {answers} o ON o.response_id = m.old_id
            JOIN {responses} r ON r.id = m.new_id""",  # noqa: S608
        f"""INSERT INTO {mentions} ({mention_cols}) SELECT {mention_values}
            FROM bench_copies m JOIN {mentions} o ON o.response_id = m.old_id
            JOIN {answers} a ON a.id = o.answer_id
            JOIN {answers} n ON n.response_id = m.new_id AND n.question_id = a.question_id""",  # noqa: S608
        f"""INSERT INTO {through} (response_id, theme_id) SELECT m.new_id, o.theme_id
            FROM bench_copies m JOIN {through} o ON o.response_id = m.old_id""",  # noqa: S608
        f"SELECT setval(pg_get_serial_sequence('{responses}', 'id'), %(last)s)",
        "DROP TABLE bench_copies",
    ]
    values = {
        "first": first,
        "rounds": rounds,
        "survey": survey.pk,
        "missing": missing,
        "last": first + missing - 1,
    }
    with connection.cursor() as cursor:
        for statement in statements:  # names from the models' metadata; values are parameters
            cursor.execute(statement, values)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
