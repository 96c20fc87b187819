"""Time rewriting one month of the results roll-up (``feedback.rollup.month_store``) at a group's size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_rollup_month DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_rollup_month [--sites 200] [--rows 86000] [--repeat 5] [--keepdb]

Every sweep that rebuilds a day rewrites its month's ``AnswerMonth`` rows from the month's
``AnswerDay`` rows (issue 19: at 200 sites ~86,000 day rows a month). This seeds the day rows
straight in SQL (PostgreSQL), as the roll-up would have written them for a group: an "After your
visit" survey (FFT, 0-10, a multiple choice and a comment), ``--sites`` sites each with two
touchpoints and answers without one, answers with no site too, every day of last month; each
(day, place, answer given) is kept at random (seeded) so the month holds about ``--rows`` day rows.
Then, the month table vacuumed as autovacuum keeps it, it times ``month_store`` ``--repeat`` times,
each in its own transaction as the sweep runs it, commit included (median and slowest, and its
queries), and, to judge the rest of ``rollup_store``, one day's ``AnswerDay`` rows deleted and
written back with ``bulk_create`` as ``rollup_store`` does.

It works in its own throwaway database, bench_<name>, dropped afterwards unless --keepdb.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta

from tests.load import harness

ANSWERS_GIVEN = (  # question kind, choice, value, raw multiple-choice keys
    [("fft", choice, value, "") for choice, value in
     (("very_good", 5), ("good", 4), ("neither", 3), ("poor", 2), ("very_poor", 1), ("dont_know", None))]
    + [("nps", "", value, "") for value in range(11)]
    + [("multi_choice", "", None, keys) for keys in ("|always|", "|sometimes|", "|always|never|", "")]
    + [("text", "", None, "")]
)  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200, help="sites in the group")
    parser.add_argument("--rows", type=int, default=86_000, help="AnswerDay rows in the month (about)")
    parser.add_argument("--repeat", type=int, default=5, help="timed month_store runs")
    parser.add_argument("--keepdb", action="store_true", help="keep the database; a rerun skips the seeding")
    args = parser.parse_args(argv)
    with harness.scratch_django(keepdb=args.keepdb):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from feedback.models import AnswerDay, AnswerMonth
    from feedback.rollup import month_store

    if connection.vendor != "postgresql":
        print("bench_rollup_month seeds with PostgreSQL's generate_series: set DATABASE_URL to postgres://…")
        return 1
    month = (timezone.localdate(timezone.now()).replace(day=1) - timedelta(days=1)).replace(day=1)
    in_month = AnswerDay.objects.filter(day__gte=month, day__lt=(month + timedelta(days=32)).replace(day=1))
    if not (args.keepdb and in_month.exists()):
        _seed(month, sites=args.sites, rows=args.rows)
    day_rows = in_month.count()
    with connection.cursor() as cursor:  # what autovacuum does between sweeps; a rerun starts alike
        cursor.execute(f"VACUUM ANALYZE {AnswerMonth._meta.db_table}")
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        with transaction.atomic():
            month_store(month)
        timings.append(time.perf_counter() - started)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        month_store(month)
    month_rows = AnswerMonth.objects.filter(day=month).count()
    one_day = month + timedelta(days=14)
    rows = list(AnswerDay.objects.filter(day=one_day))
    for row in rows:
        row.pk = None
    started = time.perf_counter()
    with transaction.atomic():  # what rollup_store does with a day's answer rows
        AnswerDay.objects.filter(day=one_day).delete()
        inserting = time.perf_counter()
        AnswerDay.objects.bulk_create(rows, batch_size=2000)
        inserted = time.perf_counter() - inserting
    day_write = time.perf_counter() - started
    print(
        f"Rewriting a month of the results roll-up ({connection.vendor}, {args.sites} sites, {month:%B %Y})"
    )
    print(f"  month_store, {day_rows:,} day rows into {month_rows:,} month rows  "
          f"median {statistics.median(timings) * 1000:.0f} ms, slowest {max(timings) * 1000:.0f} ms, "
          f"{len(queries)} queries")  # fmt: skip
    print(f"  one day's AnswerDay rows rewritten ({len(rows):,} rows)  {day_write * 1000:.0f} ms")
    print(f"  of which their bulk_create  {inserted * 1000:.0f} ms")
    return 0


def _seed(month: date, *, sites: int, rows: int) -> None:
    """The month's day rows in one INSERT … SELECT: every (day, place, answer given), each kept with
    the probability that makes about ``rows`` of them (``setseed``: the same rows every run)."""
    from django.db import connection

    from feedback.models import AnswerDay, Survey
    from servicedesk.models import Location, Touchpoint
    from tests.factories import QuestionFactory, SurveyFactory

    survey = Survey.objects.filter(slug="after-your-visit").first() or SurveyFactory(slug="after-your-visit")
    questions = {
        kind: QuestionFactory(survey=survey, kind=kind).pk for kind in {k for k, *_ in ANSWERS_GIVEN}
    }
    group = Location.objects.bulk_create(
        Location(name=f"Site {n}", address="1 High Street") for n in range(sites)
    )
    touchpoints = Touchpoint.objects.bulk_create(
        Touchpoint(name=f"{site.name} {kind}", channel=Touchpoint.Channel.IN_PERSON, location=site)
        for site in group
        for kind in ("reception", "kiosk")
    )
    # A site's two touchpoints and its answers given at none; answers with no site at all.
    places = (
        [(t.location_id, t.pk) for t in touchpoints] + [(site.pk, None) for site in group] + [(None, None)]
    )
    days = ((month + timedelta(days=32)).replace(day=1) - month).days
    keep = min(1.0, rows / (days * len(places) * len(ANSWERS_GIVEN)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.19)")
        # The table and column names come from the model's metadata; every value is a parameter.
        cursor.execute(
            f"""
            INSERT INTO {AnswerDay._meta.db_table}
                (day, survey_id, location_id, touchpoint_id, question_id, choice, value, choices, answers)
            SELECT %(month)s::date + d, %(survey)s, p.location_id, p.touchpoint_id, a.question_id, a.choice,
                a.value, a.choices, 1 + floor(random() * 30)::int
            FROM generate_series(0, %(days)s - 1) AS d
            CROSS JOIN unnest(%(locations)s::bigint[], %(touchpoints)s::bigint[])
                AS p (location_id, touchpoint_id)
            CROSS JOIN
                unnest(%(questions)s::bigint[], %(choices)s::text[], %(values)s::int[], %(keys)s::text[])
                AS a (question_id, choice, value, choices)
            WHERE random() < %(keep)s
            """,  # noqa: S608
            {
                "month": month,
                "survey": survey.pk,
                "days": days,
                "locations": [location for location, _ in places],
                "touchpoints": [touchpoint for _, touchpoint in places],
                "questions": [questions[kind] for kind, *_ in ANSWERS_GIVEN],
                "choices": [choice for _, choice, _, _ in ANSWERS_GIVEN],
                "values": [value for _, _, value, _ in ANSWERS_GIVEN],
                "keys": [keys for *_, keys in ANSWERS_GIVEN],
                "keep": keep,
            },
        )
        cursor.execute(f"ANALYZE {AnswerDay._meta.db_table}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
