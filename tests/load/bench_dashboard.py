"""Benchmark: the manager dashboard's server time with a large body of feedback, at two sizes.

Run against PostgreSQL (a throwaway database, bench_<name>, is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_dashboard DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_dashboard [--sizes 100000,1000000] [--requests 30]

It seeds the demo practice (``seed_demo``), then for each size adds patient responses to
"After your visit" until there are N, spread over 90 days and the practice's places and
patient groups: an FFT answer and a 0-10 answer each, and for the unhappy ones a comment
tagged with a theme. On PostgreSQL they are generated in SQL (``--seed sql``, about a
minute for a million responses); ``--seed demo`` uses ``seed_demo --responses N`` instead
(realistic but slow on a busy machine). It recounts the dashboard's daily summaries and
records each goal's status (what the Celery sweeps do), then renders ``/dashboard/`` in-process through
Django's test client with DEBUG off: a few warm-up requests, then ``--requests`` timed ones:
the default view computed from scratch (the cache emptied before each request), the same with
the feedback sections cached (every view between two summary sweeps), and a touchpoint filter.
It prints the median and p95 server time, the queries of one request, and what the summary
sweep costs at that size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial

from tests.load import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="response counts, comma-separated")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per view and size")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", choices=["sql", "demo"], default="sql")
    parser.add_argument(
        "--incidents",
        type=int,
        default=0,
        help="also add this many incidents first (85 %% closed, over 90 days: seed_demo --incidents)",
    )
    parser.add_argument(
        "--incident-days", type=int, default=90, help="spread them over this many days (1825: five years)"
    )
    parser.add_argument("--incidents-open", type=float, default=0.15, help="the share of them still open")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]

    with harness.scratch_django():
        return _run(args, sizes)


def _sections(*, now) -> list[tuple[str, float]]:
    """Median time of each dashboard section (where a request's time goes), default scope."""
    from dashboard import feedback as feedback_section
    from recovery.contributions import RECOVERY_FIGURES
    from servicedesk import panels
    from servicedesk.panels import Scope

    scope = Scope.last_days(now=now)
    timings = []
    # What the pillars contribute (servicedesk.panels), each on its own, and the dashboard's own
    # feedback section, part by part.
    sections = {f"{section.key} section": section.compute for section in panels.sections}
    sections |= {
        name: getattr(feedback_section, name)
        for name in (
            "feedback_summary", "feedback_trend", "satisfaction_by_touchpoint",
            "satisfaction_by_need_profile", "negative_themes",
        )
    }  # fmt: skip
    sections |= {f"{panel.key} panel": panel.figures for panel in panels.panels}
    # The recovery panel's figures one by one (each for the period and the one before).
    sections |= {f"  {key}": partial(panels.registry_figure, key) for key, _query in RECOVERY_FIGURES}
    sections |= {comparison.key: comparison.rows for comparison in panels.comparisons}
    sections |= {f"attention: {item.key}": item.items for item in panels.attention}
    for name, section in sections.items():
        times = []
        for _ in range(7):
            started = time.perf_counter()
            section(scope)
            times.append(time.perf_counter() - started)
        timings.append((name, statistics.median(times) * 1000))
    return timings


def _count_queries(client, url: str) -> int:
    from django.db import connection

    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    return len(queries)


def _timed(
    client, url: str, params: dict, *, warmup: int, requests: int, cold: bool = False
) -> tuple[float, float]:
    """Median and p95 in ms; ``cold``: every request computes the page (the cache is emptied first)."""
    from servicedesk.caching import cache

    for _ in range(warmup):
        assert client.get(url, params).status_code == 200
    times = []
    for _ in range(requests):
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url, params)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    times.sort()
    p95 = times[max(int(len(times) * 0.95 + 0.5) - 1, 0)]
    return statistics.median(times) * 1000, p95 * 1000


def _run(args: argparse.Namespace, sizes: list[int]) -> int:
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from dashboard.summaries import feedback_days_refresh, feedback_days_stale
    from design.tasks import measure_goals
    from feedback.models import Answer, Response
    from recovery.models import Incident
    from servicedesk.models import Touchpoint, User
    from tests.conftest import verify_second_factor

    url = reverse("dashboard")
    rows: list[tuple[str, str]] = [
        ("database", f"{connection.vendor} {getattr(connection, 'pg_version', '')}".strip())
    ]
    call_command("seed_demo", "--force", verbosity=0, stdout=StringIO())
    if args.incidents:
        call_command(
            "seed_demo",
            "--force",
            f"--incidents={args.incidents}",
            f"--incident-days={args.incident_days}",
            f"--incidents-open={args.incidents_open}",
            verbosity=0,
            stdout=StringIO(),
        )
    for size in sizes:
        started = time.perf_counter()
        if args.seed == "sql" and connection.vendor == "postgresql":
            _generate_responses(size)
        else:
            call_command("seed_demo", "--force", "--responses", str(size), verbosity=0, stdout=StringIO())
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        call_command("refresh_dashboard", "--all", stdout=StringIO())
        rebuilt = time.perf_counter() - started
        measure_goals()  # the design pillar's hourly sweep: each goal's status, as the dashboard reads it
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
        now = timezone.now()
        started = time.perf_counter()
        stale = feedback_days_stale(now=now)
        check = time.perf_counter() - started
        started = time.perf_counter()
        feedback_days_refresh(days=stale, now=now)
        sweep = time.perf_counter() - started

        client = Client()
        manager = User.objects.get(username="manager")
        client.force_login(manager)
        verify_second_factor(client, manager)  # managers sign in with a second factor
        touchpoint = Touchpoint.objects.get(name="Front desk — Riverside")
        queries = _count_queries(client, url)
        computed = _timed(client, url, {}, warmup=args.warmup, requests=args.requests, cold=True)
        default = _timed(client, url, {}, warmup=args.warmup, requests=args.requests)
        filtered = _timed(
            client, url, {"touchpoint": touchpoint.pk}, warmup=args.warmup, requests=args.requests
        )
        responses, answers = Response.objects.count(), Answer.objects.count()
        label = f"{responses:,} responses / {answers:,} answers / {Incident.objects.count():,} incidents"
        rows += [
            (f"[{label}] seed + summaries --all", f"{seeded:.0f} s + {rebuilt:.1f} s"),
            (
                f"[{label}] summary sweep: check + {len(stale)} days",
                f"{check * 1e3:.0f} + {sweep * 1e3:.0f} ms",
            ),
            (
                f"[{label}] /dashboard/ computed: median / p95 of {args.requests}",
                f"{computed[0]:.0f} / {computed[1]:.0f} ms",
            ),
            (
                f"[{label}] /dashboard/ feedback cached: median / p95",
                f"{default[0]:.0f} / {default[1]:.0f} ms",
            ),
            (f"[{label}] ?touchpoint= median / p95", f"{filtered[0]:.0f} ms / {filtered[1]:.0f} ms"),
            (f"[{label}] queries per request", f"{queries}"),
        ]
        rows += [(f"[{label}]   {name}", f"{ms:.1f} ms") for name, ms in _sections(now=timezone.now())]
    width = max(len(label) for label, _ in rows)
    print("Manager dashboard benchmark")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


def _generate_responses(wanted: int, *, days: int = 90) -> None:
    """Top "After your visit" up to ``wanted`` responses with INSERT … SELECT (PostgreSQL).

    Response i gets an FFT answer (about 3 in 4 positive, 1 in 10 poor or very poor), a 0-10
    answer, a place and a patient group from the demo's, and a time in the last ``days`` days
    (tests/load/five_year.py spreads them over five years);
    unhappy ones also get a comment tagged with one of the themes.
    """
    from django.db import connection

    from design.models import PatientNeedProfile
    from feedback.models import Answer, Response, Survey, Theme
    from servicedesk.models import Location, Touchpoint

    survey = Survey.objects.get(slug="after-your-visit")
    missing = wanted - survey.responses.count()
    if missing <= 0:
        return
    questions = {
        q.kind: q.pk for q in survey.questions.filter(kind__in=["fft", "nps", "text"]).order_by("-position")
    }
    ids = {
        "locations": list(Location.objects.values_list("pk", flat=True)),
        "touchpoints": list(Touchpoint.objects.values_list("pk", flat=True)),
        "profiles": list(PatientNeedProfile.objects.values_list("pk", flat=True)),
        "themes": list(Theme.objects.values_list("pk", flat=True)),
    }
    first_id = (Response.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    # FFT by id % 20: 0-9 very good, 10-14 good, 15-16 neither, 17 poor, 18 very poor, 19 don't know.
    fft = (
        "CASE WHEN {n} %% 20 < 10 THEN 'very_good' WHEN {n} %% 20 < 15 THEN 'good' "
        "WHEN {n} %% 20 < 17 THEN 'neither' WHEN {n} %% 20 = 17 THEN 'poor' "
        "WHEN {n} %% 20 = 18 THEN 'very_poor' ELSE 'dont_know' END"
    )
    negative = "({n} %% 20 IN (17, 18))"
    with connection.cursor() as cursor:
        # Table names come from the models' metadata; every value is a query parameter.
        cursor.execute(
            f"""
            INSERT INTO {Response._meta.db_table}
                (id, survey_id, channel, language, location_id, touchpoint_id, need_profile_id, submitted_at,
                 consent_to_contact, contact_name, contact_phone, contact_email, sentiment, is_negative,
                 negative_reasons)
            SELECT i, %(survey)s, 'link', 'en',
                (%(locations)s::bigint[])[1 + i %% cardinality(%(locations)s::bigint[])],
                (%(touchpoints)s::bigint[])[1 + (i / 3) %% cardinality(%(touchpoints)s::bigint[])],
                CASE WHEN i %% 4 = 0 THEN NULL
                     ELSE (%(profiles)s::bigint[])[1 + (i / 7) %% cardinality(%(profiles)s::bigint[])] END,
                now() - make_interval(secs => ((i * 7919) %% %(seconds)s)),
                false, '', '', '', CASE WHEN {negative.format(n="i")} THEN -0.6 ELSE NULL END,
                {negative.format(n="i")}, '[]'::jsonb
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
            """,  # noqa: S608
            {
                "survey": survey.pk,
                "first": first_id,
                "last": first_id + missing - 1,
                "seconds": days * 86400,
                **ids,
            },
        )
        answers = Answer._meta.db_table
        cursor.execute(
            f"""
            INSERT INTO {answers}
                (response_id, question_id, value, choice, choices, text, sentiment, submitted_at)
            SELECT x.*, r.submitted_at FROM (
            SELECT i, %(fft)s,
                CASE {fft.format(n="i")} WHEN 'very_good' THEN 5 WHEN 'good' THEN 4 WHEN 'neither' THEN 3
                     WHEN 'poor' THEN 2 WHEN 'very_poor' THEN 1 END,
                {fft.format(n="i")}, '', '', NULL::double precision
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
            UNION ALL
            SELECT i, %(nps)s, (i * 7) %% 11, '', '', '', NULL::double precision
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
            UNION ALL
            SELECT i, %(text)s, NULL::integer, '', '', 'Waited forty minutes and nobody told me why.', -0.6
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i WHERE {negative.format(n="i")}
            ) AS x (response_id, question_id, value, choice, choices, text, sentiment)
            JOIN {Response._meta.db_table} r ON r.id = x.response_id
            """,  # noqa: S608
            {"fft": questions["fft"], "nps": questions["nps"], "text": questions["text"],
             "first": first_id, "last": first_id + missing - 1},
        )  # fmt: skip
        cursor.execute(
            f"""
            INSERT INTO {Response.themes.through._meta.db_table} (response_id, theme_id)
            SELECT i, (%(themes)s::bigint[])[1 + (i / 20) %% cardinality(%(themes)s::bigint[])]
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i WHERE {negative.format(n="i")}
            """,  # noqa: S608
            {"themes": ids["themes"], "first": first_id, "last": first_id + missing - 1},
        )
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{Response._meta.db_table}', 'id'), %s)",
            [first_id + missing],
        )


if __name__ == "__main__":
    sys.exit(main())
