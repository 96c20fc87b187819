"""Benchmark: the minute sweep finds 10,000 due invitations and sends each once (locmem email).

Run against PostgreSQL (a throwaway database bench_<name> is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_invitations DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_invitations_send [--invitations 10000]

The sweep publishes into a list instead of Redis (the broker round trip is not what is being
measured); then ``--workers`` threads, standing in for worker processes, run the send task for
each id: hand it to the outbox (lock, re-check, render, write the outbox row), let the outbox
claim it and send it to Django's in-memory email backend, record it. It prints one table:
the sweep, the sends, messages per second, queries per message, and a second sweep with
nothing left to do.
"""

from __future__ import annotations

import argparse
import time

from tests.load import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="concurrent senders (worker processes)")
    args = parser.parse_args(argv)

    with harness.scratch_django():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import time as clock
    from datetime import timedelta

    from django.core import mail
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from feedback import invitations
    from feedback.invitations import delivery
    from feedback.models import Invitation, InvitationMessage, InvitationRules
    from servicedesk import outbox
    from tests.factories import LocationFactory, SurveyFactory

    rules = InvitationRules.current()
    rules.quiet_hours_start = rules.quiet_hours_end = clock(0, 0)  # measure sending, not the clock
    rules.save()
    survey, location = SurveyFactory(), LocationFactory()
    now = timezone.now()
    started = time.perf_counter()
    batch = 2000
    for start in range(0, args.invitations, batch):
        rows = []
        for n in range(start, min(start + batch, args.invitations)):
            contact = invitations.Contact(email=f"patient{n}@example.org")
            rows.append(
                Invitation(
                    survey=survey,
                    location=location,
                    first_name="Alex",
                    email=contact.email,
                    email_hash=contact.email_hash,
                    visit_at=now - timedelta(hours=3),
                    expires_at=now + timedelta(days=14),
                    source=Invitation.Source.CSV,
                )
            )
        Invitation.objects.bulk_create(rows)
        InvitationMessage.objects.bulk_create(
            [
                InvitationMessage(invitation=i, kind="first", number=0, channel="email", due_at=now)
                for i in rows
            ]
        )
    seeded = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    published: list[int] = []
    # Publishing goes into a list: the sweep's broker round trip is not what is measured here.
    delivery.publish = lambda task, *args, **kw: published.append(args[0]) or True
    # The hand-over sends at once (message_send); the outbox's own nudge would find nothing to do.
    outbox.enqueue = lambda task, *args: None
    mail.outbox = []
    with CaptureQueriesContext(connection) as sweep_queries:
        started = time.perf_counter()
        sweeps = 0
        while invitations.invitations_sweep().published:
            sweeps += 1
        swept = time.perf_counter() - started

    queries: list[int] = []

    def send(ids: list[int]) -> None:
        count = [0]

        def counting(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        try:
            with connections["default"].execute_wrapper(counting):
                for pk in ids:
                    invitations.message_send(message_id=pk)
            queries.append(count[0])
        finally:
            connections.close_all()

    chunks = [published[i :: args.workers] for i in range(args.workers)]
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(send, chunks))
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    idle = invitations.invitations_sweep()
    idle_elapsed = time.perf_counter() - started

    sent = InvitationMessage.objects.filter(number=0, status="sent").count()
    assert sent == args.invitations == len(mail.outbox), (sent, len(mail.outbox))
    assert idle.published == 0
    rows = [
        ("database", connection.vendor),
        ("due invitations", f"{args.invitations:,}"),
        ("seeding (bulk insert)", f"{seeded:.1f} s"),
        ("sweeps to publish all", f"{sweeps} ({swept:.1f} s, {len(sweep_queries)} queries)"),
        ("senders (threads)", str(args.workers)),
        ("sends, total", f"{elapsed:.1f} s"),
        ("sweep + send", f"{swept + elapsed:.1f} s"),
        ("messages per second", f"{args.invitations / (swept + elapsed):,.0f}"),
        ("queries per message", f"{sum(queries) / args.invitations:.1f}"),
        ("emails in the outbox", f"{len(mail.outbox):,} (each patient once)"),
        ("next sweep, nothing due", f"{1000 * idle_elapsed:.0f} ms"),
    ]
    width = max(len(k) for k, _v in rows)
    print("bench_invitations_send")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
