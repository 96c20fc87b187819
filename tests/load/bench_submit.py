"""Benchmark: what one patient's kiosk submission costs the server, in-process (issue 16, item 6).

The waiting-room kiosk form of the demo practice ("/k/waiting-room-kiosk/"), posted through
Django's test client with DEBUG off on one thread, as DESIGN.md's "How we measure speed" asks:
a few warm-up posts, then ``--requests`` timed ones, alternating a tap-only answer (most kiosk
answers) and one with a comment (sentiment and themes on the request path). It prints median and
p95 per kind and the queries of one post; ``--profile`` adds the functions the time goes to.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_submit DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_submit [--requests 300] [--profile]

Each post comes from its own address, so the rate limits are counted (their cost is part of a
submission) without refusing the run; the minimum fill time is lifted (a patient takes longer).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import pstats
import statistics
import sys
import time

from tests.load import harness

KIOSK = "/k/waiting-room-kiosk/"
COMMENT = "The receptionist was lovely but I waited forty minutes and nobody told me why."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed posts of each kind")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="also print the top functions by time")
    args = parser.parse_args(argv)
    with harness.scratch_django():
        return _run(args)


def _payloads() -> dict[str, dict]:
    """The kiosk form's fields, answered: every closed question's first option, and a comment."""
    from feedback.models import Question, Survey

    survey = Survey.objects.get(slug=KIOSK.strip("/").split("/")[-1])
    taps = {}
    text = None
    for question in survey.questions.live():
        if question.kind == Question.Kind.TEXT:
            text = f"q{question.pk}"
        elif question.kind == Question.Kind.FFT:
            taps[f"q{question.pk}"] = "good"
        elif question.kind in (Question.Kind.NPS, Question.Kind.RATING):
            taps[f"q{question.pk}"] = "4"
        elif question.kind == Question.Kind.YES_NO:
            taps[f"q{question.pk}"] = "yes"
        elif question.choices:
            taps[f"q{question.pk}"] = question.choices[0]["value"]
    payloads = {"taps only": taps}
    if text:
        payloads["with a comment"] = {**taps, text: COMMENT}
    return payloads


def _run(args: argparse.Namespace) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from feedback.forms import started_stamp
    from feedback.models import Response

    call_command("seed_demo", "--force", verbosity=0, stdout=io.StringIO())
    payloads = _payloads()
    client = Client()
    addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))
    rows: list[tuple[str, str]] = [("database", connection.vendor)]
    with override_settings(FEEDBACK_MIN_FILL_SECONDS=0):
        before = Response.objects.count()
        for kind, data in payloads.items():
            for _ in range(args.warmup):
                data["started"] = started_stamp()  # each form is accepted once
                assert client.post(KIOSK, data, REMOTE_ADDR=next(addresses)).status_code == 302
            queries: list[str] = []

            def record(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            data["started"] = started_stamp()
            with connection.execute_wrapper(record):
                assert client.post(KIOSK, data, REMOTE_ADDR=next(addresses)).status_code == 302
            if args.profile:
                print(f"{kind}:", *queries, sep="\n  ", file=sys.stderr)
            times = []
            profile = cProfile.Profile() if args.profile else None
            for _ in range(args.requests):
                data["started"] = started_stamp()  # outside the timing: a real form arrives with its own
                started = time.perf_counter()
                if profile:
                    profile.enable()
                response = client.post(KIOSK, data, REMOTE_ADDR=next(addresses))
                if profile:
                    profile.disable()
                times.append(time.perf_counter() - started)
                assert response.status_code == 302, response.status_code
            times.sort()
            p95 = times[max(int(len(times) * 0.95 + 0.5) - 1, 0)]
            rows += [
                (
                    f"kiosk submit, {kind}: median / p95",
                    f"{statistics.median(times) * 1e3:.2f} / {p95 * 1e3:.2f} ms",
                ),
                (f"kiosk submit, {kind}: queries", f"{len(queries)}"),
            ]
            if profile:
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
                print(out.getvalue(), file=sys.stderr)
        stored = Response.objects.count() - before
        expected = (args.warmup + 1 + args.requests) * len(payloads)
        rows.append(("responses stored", f"{stored} of {expected}"))
    print("Patient kiosk submission, in-process (test client, DEBUG off, one thread)")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0 if stored == expected else 1


if __name__ == "__main__":
    sys.exit(main())
