"""Benchmark: one escalation sweep over 100,000 open incidents of which 1,000 are due.

Run against PostgreSQL (a throwaway test database is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_recovery DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_escalation [--incidents 100000] [--due 1000]

Emails go to Django's in-memory backend (one manager, one email per batch listing its incidents),
so the figure is the database and service cost.
It prints one table: the time to find the due incidents, the full sweep (claim, timeline
row and notification per incident, each in its own transaction), a second sweep with
nothing left to do, the query counts, and the incident list page at that size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from tests.load import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--repeat-find", type=int, default=30, help="timed runs of the due-incident query")
    args = parser.parse_args(argv)

    with harness.scratch_django():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from recovery import services
    from recovery.demo import bulk_incidents
    from recovery.models import FollowUp, Incident
    from servicedesk.outbox import outbox_sweep
    from tests.factories import UserFactory

    services.sla_policies_ensure_defaults()
    manager = UserFactory(manager=True, username="bench-manager")
    now = timezone.now()
    started = time.perf_counter()
    bulk_incidents(args.incidents, now=now, open_share=1.0, due=args.due)
    seeded = time.perf_counter() - started
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")

    # 1. Finding the due incidents (what each sweep does first), timed repeatedly.
    finds = []
    for _ in range(args.repeat_find):
        t = time.perf_counter()
        due_ids = list(
            Incident.objects.due_for_escalation(now)
            .order_by("next_escalation_at")
            .values_list("pk", "severity")[: settings.RECOVERY_ESCALATION_BATCH]
        )
        finds.append(time.perf_counter() - t)
    assert len(due_ids) == args.due, len(due_ids)

    # 2. The sweep itself.
    mail.outbox = []
    with CaptureQueriesContext(connection) as sweep_queries:
        t = time.perf_counter()
        escalated = services.incidents_escalate_due(now=now, limit=settings.RECOVERY_ESCALATION_BATCH)
        sweep = time.perf_counter() - t
    # 3. Run again at once: nothing left to do, nothing sent twice.
    with CaptureQueriesContext(connection) as idle_queries:
        t = time.perf_counter()
        again = services.incidents_escalate_due(now=now, limit=settings.RECOVERY_ESCALATION_BATCH)
        idle = time.perf_counter() - t

    # Count now: captured queries are a window on a bounded log that later requests overwrite.
    queries, idle_queries_count = len(sweep_queries.captured_queries), len(idle_queries.captured_queries)
    # The sweep queued its emails in the outbox; deliver them as the worker would.
    outbox_sweep(now=now)
    assert escalated == args.due, escalated
    assert again == 0
    # One manager: one email per batch of the sweep, listing every incident once.
    assert sum(m.body.count("(escalation level 1)") for m in mail.outbox) == args.due
    assert FollowUp.objects.filter(kind=FollowUp.Kind.ESCALATION).count() == args.due
    open_count = Incident.objects.open().count()

    # 4. The incident list at this size (Django's test client, in-process, one thread).
    pages = {
        "list: open, newest first": "/recovery/incidents/",
        "list: overdue, most severe": "/recovery/incidents/?overdue=on&sort=severity",
    }
    page_rows = [(label, _time_page(url, manager, repeat=args.repeat_find)) for label, url in pages.items()]

    find_median = statistics.median(finds) * 1000
    find_p95 = sorted(finds)[max(int(len(finds) * 0.95) - 1, 0)] * 1000
    version = f" {connection.pg_version}" if connection.vendor == "postgresql" else ""
    rows = [
        ("database", f"{connection.vendor}{version}"),
        ("open incidents", f"{open_count:,}"),
        ("due for escalation", f"{args.due:,}"),
        ("seed (bulk_create)", f"{seeded:.1f} s"),
        (f"find due (median / p95 of {args.repeat_find})", f"{find_median:.1f} ms / {find_p95:.1f} ms"),
        (
            "sweep: escalated",
            f"{escalated:,} in {sweep:.2f} s ({sweep / max(escalated, 1) * 1000:.2f} ms each)",
        ),
        ("sweep: queries", f"{queries:,} ({queries / max(escalated, 1):.2f} per incident)"),
        ("emails to the one manager", f"{len(mail.outbox)} (one per batch, listing its incidents)"),
        ("second sweep (nothing due)", f"{idle * 1000:.1f} ms, {idle_queries_count} queries"),
        *page_rows,
    ]
    width = max(len(label) for label, _ in rows)
    print("Escalation sweep benchmark")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


def _time_page(url: str, user, *, repeat: int) -> str:
    """Median and p95 of ``repeat`` requests after three warm-ups, and the query count of one."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import verify_second_factor

    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)  # managers sign in with a second factor
    for _ in range(3):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - t)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    p95 = sorted(times)[max(int(len(times) * 0.95) - 1, 0)] * 1000
    return f"{statistics.median(times) * 1000:.0f} ms / {p95:.0f} ms (median / p95), {len(queries)} queries"


if __name__ == "__main__":
    sys.exit(main())
