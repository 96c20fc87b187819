"""Benchmark: check and import a 50,000-row visit list (CSV), as the background worker does.

Run against PostgreSQL (a throwaway database bench_<name> is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_invitations DEBUG=1 \\
        .venv/bin/python -m tests.load.bench_invitations_import [--rows 50000]

The file mixes email and mobile contacts, both date formats, Spanish speakers and visit ids.
It prints one table: the file size, the check (parse, normalise, look up suppressions, the
frequency cap and known visit ids), the import (all rows in one transaction), rows per second
and the queries per thousand rows.
"""

from __future__ import annotations

import argparse
import time

from tests.load import harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args(argv)

    with harness.scratch_django():
        return _run(args)


def visit_list(rows: int) -> bytes:
    from datetime import timedelta

    from django.utils import timezone

    lines = ["first name,email,mobile,visit,location,language,visit id"]
    base = timezone.localtime() - timedelta(hours=30)
    for n in range(rows):
        at = base + timedelta(seconds=n)
        when = at.strftime("%Y-%m-%d %H:%M") if n % 2 else at.strftime("%d/%m/%Y %H:%M")
        email, mobile = (f"patient{n}@example.org", "") if n % 3 else ("", f"07700 {n:06d}")
        language = "es" if n % 9 == 0 else "en"
        site = "Riverside Surgery" if n % 2 else "Hillcrest Clinic"
        lines.append(f"Patient{n},{email},{mobile},{when},{site},{language},PMS-{n:07d}")
    return ("\n".join(lines) + "\n").encode()


def _run(args: argparse.Namespace) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from feedback.invitations import imports as invitation_import
    from feedback.models import Invitation, InvitationImport, InvitationRules
    from tests.factories import LocationFactory, SurveyFactory, UserFactory

    InvitationRules.current()
    LocationFactory(name="Riverside Surgery")
    LocationFactory(name="Hillcrest Clinic")
    survey = SurveyFactory(languages=["en", "es"])
    manager = UserFactory(manager=True)
    content = visit_list(args.rows)

    started = time.perf_counter()
    job = invitation_import.import_start(survey=survey, filename="visits.csv", content=content, by=manager)
    stored = time.perf_counter() - started
    with CaptureQueriesContext(connection) as check_queries:
        started = time.perf_counter()
        status = invitation_import.import_validate(import_id=job.pk)
        checked = time.perf_counter() - started
    assert status == "validated", InvitationImport.objects.get(pk=job.pk).issues[:5]
    invitation_import.import_confirm(job=job, now=job.created_at)
    with CaptureQueriesContext(connection) as import_queries:
        started = time.perf_counter()
        assert invitation_import.import_run(import_id=job.pk) == "imported"
        imported = time.perf_counter() - started
    assert Invitation.objects.count() == args.rows

    rows = [
        ("database", connection.vendor),
        ("rows", f"{args.rows:,} ({len(content) / 1_048_576:.1f} MB)"),
        ("upload: read and store", f"{stored:.1f} s"),
        ("check (the report)", f"{checked:.1f} s"),
        ("import (one transaction)", f"{imported:.1f} s"),
        ("total", f"{stored + checked + imported:.1f} s"),
        ("rows per second, check + import", f"{args.rows / (checked + imported):,.0f}"),
        ("queries per 1,000 rows (check)", f"{1000 * len(check_queries) / args.rows:.1f}"),
        ("queries per 1,000 rows (import)", f"{1000 * len(import_queries) / args.rows:.1f}"),
    ]
    width = max(len(k) for k, _v in rows)
    print("bench_invitations_import")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
