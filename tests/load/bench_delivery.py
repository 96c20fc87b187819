"""Benchmark: delivery's pages and sweeps stay flat as checklist history grows.

Run against PostgreSQL (a throwaway database is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_delivery DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_delivery [--sizes 10000 100000]

At each size (completed runs in history, one result each) it times, in-process with
Django's test client, My work, today's run page, a checklist's history page, a
touchpoint's history and the managers' overview (median and p95 of 30 after warm-up,
and the query count of one request), then the scheduling and missed-marking sweeps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import time as clock
from datetime import timedelta

from tests.load import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    with harness.scratch_django():
        return _run(args)


def _timed(client, url: str, *, warmup: int, requests: int) -> tuple[float, float, int]:
    from django.db import connection

    for _ in range(warmup):
        assert client.get(url).status_code == 200, url
    queries: list[str] = []
    with connection.execute_wrapper(
        lambda execute, sql, *args: (queries.append(sql), execute(sql, *args))[1]
    ):
        client.get(url)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append(time.perf_counter() - started)
    times.sort()
    p95 = times[max(int(len(times) * 0.95 + 0.5) - 1, 0)]
    return statistics.median(times) * 1000, p95 * 1000, len(queries)


def _grow_history(templates, *, runs: int, start_offset: int) -> None:
    """Completed runs on earlier days, spread over the templates, each with one passed result."""
    from django.utils import timezone

    from delivery.models import ChecklistResult, ChecklistRun
    from delivery.schedule import at_local

    today = timezone.localdate()
    per_template = runs // len(templates)
    batch = []
    for template in templates:
        for n in range(start_offset, start_offset + per_template):
            day = today - timedelta(days=n + 1)
            due = at_local(day, clock(10))
            batch.append(
                ChecklistRun(
                    template=template,
                    period_start=day,
                    location=template.location,
                    responsible_role=template.responsible_role,
                    due_at=due,
                    status="completed",
                    completed_at=due - timedelta(minutes=30),
                )
            )
    ChecklistRun.objects.bulk_create(batch, batch_size=5000)
    items = {t.pk: t.items.first() for t in templates}
    new_runs = ChecklistRun.objects.filter(results__isnull=True, status="completed").values_list(
        "pk", "template_id", "completed_at"
    )
    ChecklistResult.objects.bulk_create(
        (
            ChecklistResult(run_id=pk, item=items[template_id], outcome="pass", recorded_at=at)
            for pk, template_id, at in new_runs.iterator()
        ),
        batch_size=5000,
    )


def _run(args: argparse.Namespace) -> int:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from delivery import services
    from delivery.models import ChecklistRun
    from tests.conftest import verify_second_factor
    from tests.factories import (
        ChecklistItemFactory,
        ChecklistTemplateFactory,
        LocationFactory,
        TouchpointFactory,
        UserFactory,
    )

    site = LocationFactory(name="Riverside Surgery")
    desk = TouchpointFactory(name="Front desk — Riverside", location=site)
    templates = [
        ChecklistTemplateFactory(title=f"Check {n}", location=site, touchpoint=desk, due_time=clock(23, 59))
        for n in range(10)
    ]
    for template in templates:
        for order in range(6):
            ChecklistItemFactory(template=template, order=order, is_critical=order == 0)
    staff, manager = UserFactory(location=site), UserFactory(manager=True, location=site)
    services.runs_schedule(now=timezone.now())
    today_run = ChecklistRun.objects.filter(period_start=timezone.localdate()).first()

    staff_client, manager_client = Client(), Client()
    staff_client.force_login(staff)
    manager_client.force_login(manager)
    verify_second_factor(manager_client, manager)
    pages = [
        ("My work (staff)", staff_client, reverse("my_work")),
        ("run page (staff)", staff_client, reverse("delivery:run_detail", args=[today_run.pk])),
        ("checklist history", manager_client, reverse("delivery:template_detail", args=[templates[0].pk])),
        ("touchpoint history", manager_client, reverse("delivery:touchpoint_history", args=[desk.pk])),
        ("overview (30-day completion)", manager_client, reverse("delivery:overview")),
    ]
    rows = [("database", f"{connection.vendor} {getattr(connection, 'pg_version', '')}".strip())]
    grown = 0
    for size in args.sizes:
        started = time.perf_counter()
        _grow_history(templates, runs=size - grown, start_offset=grown // len(templates))
        seeded = time.perf_counter() - started
        grown = size
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        label = f"{ChecklistRun.objects.count():,} runs"
        rows.append((f"[{label}] seed (bulk_create)", f"{seeded:.1f} s"))
        for name, client, url in pages:
            median, p95, queries = _timed(client, url, warmup=args.warmup, requests=args.requests)
            rows.append(
                (
                    f"[{label}] {name}: median / p95, queries",
                    f"{median:.1f} / {p95:.1f} ms, {queries} queries",
                )
            )
        for name, sweep in (
            ("schedule sweep", services.runs_schedule),
            ("missed sweep", services.runs_mark_missed),
        ):
            started = time.perf_counter()
            sweep(now=timezone.now())
            rows.append((f"[{label}] {name}", f"{(time.perf_counter() - started) * 1000:.1f} ms"))
    width = max(len(label) for label, _ in rows)
    print("Delivery benchmark")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
