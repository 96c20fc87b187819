"""A practice after five years, for benchmarks: every table large at once (DESIGN.md, "How we
measure speed"), generated in PostgreSQL with INSERT … SELECT generate_series.

On top of ``seed_demo --force`` (the demo practice: its sites, manager and staff, surveys, themes,
checklists and goals), ``seed(scale=1.0)`` adds, spread over the last 1,825 days:

- 100,000 incidents, 0.2 % still open, with their timelines (opened, acknowledged, assigned,
  escalated when late, notes, patient contact, actions and their completion, resolved, closed,
  "Did we put it right?"), references numbered per year and ``similar_before_at`` filled in;
- 1,000,000 responses (about 2,000,000 answers: ``bench_dashboard``'s generator);
- 100,000 checklist runs with a result per item (more daily checklists than the demo's seven are
  needed for that many: "Consulting room N" checks are added);
- 50,000 invitations with their messages (first sends and reminders; old contacts purged);
- a measurement a day for every goal, and 100,000 audit rows.

``scale`` multiplies every count (10: the growth check; 0.001: a toy for CI), except the goal
measurements, one per goal and day whatever the volume (fewer days below scale 1). Then the
dashboard's summaries are recounted, the goals measured and the tables vacuumed and analysed.
Every value satisfies the models' constraints and choices; ids come from the tables' sequences.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from io import StringIO

DAYS = 1825
INCIDENTS, RESPONSES, RUNS, INVITATIONS, AUDIT_ROWS = 100_000, 1_000_000, 100_000, 50_000, 100_000
OPEN_EVERY = 500  # one incident in 500 is still open (200 of 100,000)
EXTRA_CHECKLIST = "Consulting room"


def seed(scale: float = 1.0, *, out: Callable[[str], None] = print) -> dict[str, float]:
    """Seed the five-year practice into the current (PostgreSQL) database; returns seconds per step."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from design.tasks import measure_goals
    from recovery.models import Incident
    from tests.load.bench_dashboard import _generate_responses

    assert connection.vendor == "postgresql", "the five-year seeder writes PostgreSQL SQL"
    timings: dict[str, float] = {}

    def step(name: str, work: Callable[[], object]) -> None:
        started = time.perf_counter()
        result = work()
        timings[name] = time.perf_counter() - started
        out(f"  {name}: {timings[name]:.1f} s{f' ({result})' if result is not None else ''}")

    count = lambda n: max(1, round(n * scale))  # noqa: E731
    now = timezone.now()
    step("seed_demo", lambda: call_command("seed_demo", "--force", verbosity=0, stdout=StringIO()))
    first_incident = _next_id(Incident)
    step("incidents", lambda: _incidents(count(INCIDENTS), first=first_incident, now=now))
    step("incident timelines", lambda: _timelines(first=first_incident, now=now))
    step("similar_before_at", _similar_before)
    step("responses", lambda: _responses(count(RESPONSES), _generate_responses))
    step("checklist runs", lambda: _runs(count(RUNS), now=now))
    step("invitations", lambda: _invitations(count(INVITATIONS), now=now))
    step("goal measurements", lambda: _measurements(min(DAYS, math.ceil(DAYS * scale)), now=now))
    step("audit log", lambda: _audit(count(AUDIT_ROWS), now=now))
    step("refresh_dashboard --all", lambda: call_command("refresh_dashboard", "--all", stdout=StringIO()))
    step("measure_goals", measure_goals)
    step("rows in the order time wrote them", lay_out_as_written)
    step("VACUUM ANALYZE", lambda: _sql("VACUUM (ANALYZE)"))
    return timings


# A practice writes its rows as things happen, so five years of incidents lie on disk in the order
# they were logged. Generated in SQL they are scattered (a row's moment comes from its number), and
# a month of them touches a page each: a worse layout than any real practice's, and not the one to
# measure. CLUSTER lays each growing table out by its moment, as the years would have.
AS_WRITTEN = {
    "recovery_incident": "incident_created_idx",
    "feedback_response": "response_submitted",
    "delivery_checklistrun": "run_due_status_idx",
    "feedback_invitation": "invitation_visit",
    "security_auditevent": "audit_at_idx",
}


def lay_out_as_written() -> None:
    for table, index in AS_WRITTEN.items():
        _sql(f"CLUSTER {table} USING {index}")


def _sql(statement: str, params: dict | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _next_id(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def _reset_sequence(model) -> None:
    table = model._meta.db_table
    _sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608


def _common(now) -> dict:
    """What every statement reads: now, the practice's time zone, today, and the demo's ids."""
    from django.conf import settings
    from django.utils import timezone

    from servicedesk.models import Touchpoint, User
    from servicedesk.roles import Role

    touchpoints = list(Touchpoint.objects.order_by("pk").values_list("pk", "location_id"))
    team = list(User.objects.team().values_list("pk", flat=True))
    return {
        "now": now,
        "tz": settings.TIME_ZONE,
        "today": timezone.localdate(now),
        "touchpoints": [pk for pk, _ in touchpoints],
        "tp_locations": [location or 0 for _, location in touchpoints],  # 0: a practice-wide touchpoint
        "team": team,
        "managers": list(User.objects.with_role(Role.MANAGER).values_list("pk", flat=True)) or team,
        "seconds": DAYS * 86400,
    }


def _incidents(count: int, *, first: int, now) -> str:
    """Incidents logged over five years by staff, most closed within their SLA, some late."""
    from recovery.models import Incident, IncidentCounter, SlaPolicy
    from recovery.vocabulary import Category, Severity

    params = _common(now) | {"first": first, "count": count, "open_every": OPEN_EVERY}
    policies = {p.severity: p for p in SlaPolicy.objects.filter(location__isnull=True)}  # the group's
    # Severity by i % 20: 6 low, 9 medium, 4 high, 1 critical.
    severities = [Severity.LOW] * 6 + [Severity.MEDIUM] * 9 + [Severity.HIGH] * 4 + [Severity.CRITICAL]
    params |= {
        "categories": list(Category.values),
        "severities": [str(s) for s in severities],
        "respond": [policies[s].respond_within for s in severities],
        "resolve": [policies[s].resolve_within for s in severities],
        "counters": {c.year: c.last_number for c in IncidentCounter.objects.all()},
    }
    counters = params.pop("counters")
    params["counter_years"] = list(counters) or [0]
    params["counter_numbers"] = list(counters.values()) or [0]
    statuses = "ARRAY['new', 'acknowledged', 'in_progress', 'paused']"
    _sql(
        f"""
        WITH base AS (
            SELECT i, (i %% 20) + 1 AS s,
                CASE WHEN i %% %(open_every)s = 0
                     THEN %(now)s::timestamptz - make_interval(secs => (i * 7919) %% (14 * 86400))
                     ELSE %(now)s::timestamptz - make_interval(secs => 86400 + (i * 7919) %% %(seconds)s)
                END AS created,
                CASE WHEN i %% %(open_every)s = 0 THEN ({statuses})[1 + (i / %(open_every)s) %% 4]
                     WHEN i %% 10 = 9 THEN 'resolved' ELSE 'closed' END AS status,
                1 + (i / 3) %% cardinality(%(touchpoints)s::bigint[]) AS tp,
                i %% 3 = 0 AS consented
            FROM generate_series(%(first)s::bigint, %(first)s::bigint + %(count)s - 1) AS i
        ), clocks AS (
            SELECT base.*, (%(respond)s::interval[])[s] AS respond, (%(resolve)s::interval[])[s] AS resolve,
                -- i %% 13 from 10 up: acknowledged late (after the respond-by deadline).
                LEAST(created + (%(respond)s::interval[])[s] * ((i %% 13) / 10.0),
                      %(now)s::timestamptz - interval '10 minutes') AS ack,
                (%(team)s::bigint[])[1 + (i / 7) %% cardinality(%(team)s::bigint[])] AS worker
            FROM base
        ), done AS (
            SELECT clocks.*,
                CASE WHEN status IN ('resolved', 'closed') THEN
                    LEAST(ack + resolve * ((i %% 11) / 12.0) + interval '1 hour',
                          %(now)s::timestamptz - interval '5 minutes') END AS resolved,
                extract(year FROM created AT TIME ZONE %(tz)s)::int AS year
            FROM clocks
        ), numbered AS (
            SELECT done.*, row_number() OVER (PARTITION BY year ORDER BY created, i)
                + COALESCE((%(counter_numbers)s::int[])[array_position(%(counter_years)s::int[], year)], 0)
                AS n
            FROM done
        )
        INSERT INTO {Incident._meta.db_table} (
            id, created_at, updated_at, reference, title, description, category, severity, source,
            patient_consented, patient_name, patient_phone, patient_email, status, respond_by, resolve_by,
            acknowledged_at, resolved_at, closed_at, paused_at, paused_for, escalation_level,
            next_escalation_at, reopen_count, resolution_summary, root_cause, patient_contacted_at,
            loop_token_hash, loop_sent_at, loop_answered_at, patient_recovered, assignee_id, location_id,
            reporter_id, touchpoint_id)
        SELECT i, created, COALESCE(resolved + interval '2 days', ack, created), 'INC-' || year || '-' ||
                CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END,
            'Patient waited past their appointment without being told why',
            'Patient waited 50 minutes past their appointment without being told why.',
            (%(categories)s::text[])[1 + (i / 7) %% cardinality(%(categories)s::text[])],
            (%(severities)s::text[])[s], CASE WHEN i %% 7 = 3 THEN 'feedback' ELSE 'staff' END,
            consented, CASE WHEN consented THEN 'Ada' ELSE '' END, '',
            CASE WHEN consented THEN 'patient' || i || '@example.org' ELSE '' END,
            status, created + respond, created + resolve,
            CASE WHEN status <> 'new' THEN ack END, resolved,
            CASE WHEN status = 'closed' THEN LEAST(resolved + interval '2 days', %(now)s::timestamptz) END,
            CASE WHEN status = 'paused' THEN ack + interval '1 hour' END, interval '0',
            CASE WHEN i %% 13 >= 10 AND status <> 'new' THEN 1 ELSE 0 END,
            CASE WHEN status = 'new' THEN created + respond
                 WHEN status IN ('acknowledged', 'in_progress') THEN created + resolve END,
            0,
            CASE WHEN resolved IS NOT NULL THEN 'Apologised to the patient and put it right.' ELSE '' END,
            CASE WHEN resolved IS NOT NULL THEN 'Clinic overran and nobody updated the waiting room.'
                 ELSE '' END,
            CASE WHEN consented AND status <> 'new' THEN ack + interval '1 hour' END,
            CASE WHEN consented AND resolved IS NOT NULL THEN md5('five-year-loop-' || i) END,
            CASE WHEN consented AND resolved IS NOT NULL THEN resolved + interval '1 day' END,
            CASE WHEN consented AND resolved IS NOT NULL AND i %% 5 <> 0
                 THEN resolved + interval '30 hours' END,
            CASE WHEN consented AND resolved IS NOT NULL AND i %% 5 <> 0 THEN i %% 4 <> 0 END,
            CASE WHEN status <> 'new' THEN worker END,
            NULLIF((%(tp_locations)s::bigint[])[tp], 0),
            (%(team)s::bigint[])[1 + i %% cardinality(%(team)s::bigint[])],
            (%(touchpoints)s::bigint[])[tp]
        FROM numbered
        """,  # noqa: S608
        params,
    )
    _reset_sequence(Incident)
    # Each year's counter continues after the highest number handed out.
    _sql(
        f"""
        INSERT INTO {IncidentCounter._meta.db_table} (year, last_number)
        SELECT split_part(reference, '-', 2)::int, max(split_part(reference, '-', 3)::int)
        FROM {Incident._meta.db_table} GROUP BY 1
        ON CONFLICT (year) DO UPDATE SET last_number = EXCLUDED.last_number
        """  # noqa: S608
    )
    return f"{Incident.objects.count():,} incidents, {Incident.objects.open().count():,} open"


# One timeline row kind: (kind, at, author, body, changes, extra columns, which incidents).
_TIMELINE = [
    ("opened", "created_at", "reporter_id", "'Logged by staff.'",
     "jsonb_build_object('status', jsonb_build_array(NULL, 'new'), "
     "'severity', jsonb_build_array(NULL, severity))",
     "TRUE"),
    ("status", "acknowledged_at", "assignee_id", "'Acknowledged.'",
     """'{"status": ["new", "acknowledged"]}'::jsonb""", "acknowledged_at IS NOT NULL"),
    ("assignment", "acknowledged_at", "assignee_id", "'Assigned.'",
     "jsonb_build_object('assignee', jsonb_build_array(NULL, assignee_id))", "assignee_id IS NOT NULL"),
    ("escalation", "respond_by", "NULL::bigint",
     "'Escalated to level 1: not acknowledged in time. Notified Managers.'",
     """'{"escalation_level": [0, 1]}'::jsonb""", "escalation_level = 1"),
    ("note", "acknowledged_at + interval '20 minutes'", "assignee_id",
     "'Checked the rota and spoke to the colleague involved.'", "'{}'::jsonb",
     "status IN ('in_progress', 'paused', 'resolved', 'closed')"),
    ("contact", "patient_contacted_at", "assignee_id", "'Listened, apologised, explained what we are doing.'",
     "'{}'::jsonb", "patient_contacted_at IS NOT NULL"),
    ("action", "acknowledged_at + interval '25 minutes'", "assignee_id",
     "'Call the patient back with the outcome'",
     "'{}'::jsonb", "status IN ('in_progress', 'resolved', 'closed')"),
    ("action_done", "resolved_at - interval '30 minutes'", "assignee_id",
     "'Call the patient back with the outcome'",
     "'{}'::jsonb", "resolved_at IS NOT NULL"),
    ("status", "paused_at", "assignee_id", "'Waiting on the patient.'",
     """'{"status": ["in_progress", "paused"]}'::jsonb""", "paused_at IS NOT NULL"),
    ("status", "resolved_at", "assignee_id", "'Resolved.'",
     """'{"status": ["in_progress", "resolved"]}'::jsonb""", "resolved_at IS NOT NULL"),
    ("status", "closed_at", "assignee_id", "'Closed.'",
     """'{"status": ["resolved", "closed"]}'::jsonb""", "closed_at IS NOT NULL"),
    ("loop", "loop_sent_at", "assignee_id", """'Asked the patient "Did we put it right?" by email.'""",
     "'{}'::jsonb", "loop_sent_at IS NOT NULL"),
]  # fmt: skip


def _timelines(*, first: int, now) -> str:
    """Every generated incident's timeline, read back from the incident's own moments."""
    from recovery.models import FollowUp, Incident

    selects = [
        f"""SELECT {at} AS at, '{kind}' AS kind, {author} AS author, {body} AS body, {changes} AS changes,
            id AS incident, severity, status, acknowledged_at, resolved_at, assignee_id, i
        FROM (SELECT *, id AS i FROM {Incident._meta.db_table} WHERE id >= %(first)s AND {where}) AS x"""  # noqa: S608
        for kind, at, author, body, changes, where in _TIMELINE
    ]
    _sql(
        f"""
        INSERT INTO {FollowUp._meta.db_table} (
            created_at, updated_at, at, kind, body, changes, contact_channel, contact_outcome, due_on,
            done_at, escalation_level, author_id, owner_id, incident_id)
        SELECT at, at, at, kind, body, changes,
            CASE WHEN kind = 'contact' THEN 'phone' ELSE '' END,
            CASE WHEN kind = 'contact' THEN (ARRAY['apologised', 'explained', 'left_message'])[1 + i %% 3]
                 ELSE '' END,
            CASE WHEN kind = 'action' THEN
                 CASE WHEN resolved_at IS NULL THEN %(today)s::date + (i %% 3)::int
                      ELSE (acknowledged_at AT TIME ZONE %(tz)s)::date + 2 END END,
            CASE WHEN kind = 'action' THEN resolved_at - interval '30 minutes' END,
            CASE WHEN kind = 'escalation' THEN 1 END,
            author, CASE WHEN kind = 'action' THEN assignee_id END, incident
        FROM ({" UNION ALL ".join(selects)}) AS timeline
        """,  # noqa: S608
        _common(now) | {"first": first},
    )
    return f"{FollowUp.objects.count():,} timeline rows"


def _similar_before() -> int:
    from recovery.models import Incident

    return Incident.objects.filter(similar_before_at__isnull=True).fill_similar_before()


def _responses(count: int, generate) -> str:
    from feedback.models import Answer, Response, Survey

    survey = Survey.objects.get(slug="after-your-visit")
    generate(survey.responses.count() + count, days=DAYS)
    return f"{Response.objects.count():,} responses, {Answer.objects.count():,} answers"


def _checklists_for(count: int) -> list[int]:
    """The daily checklists that share ``count`` runs over five years: the demo's, and as many
    "Consulting room N" checks (one a day, at one of the sites) as it takes."""
    from delivery.models import ChecklistItem, ChecklistTemplate
    from servicedesk.models import Location
    from servicedesk.roles import Role

    daily = ChecklistTemplate.objects.filter(frequency="daily", per_person=False, is_active=True)
    needed = math.ceil(count / DAYS) - daily.count()
    locations = list(Location.objects.order_by("pk"))
    for n in range(daily.filter(title__startswith=EXTRA_CHECKLIST).count() + 1, needed + 1):
        location = locations[n % len(locations)]
        template = ChecklistTemplate.objects.create(
            title=f"{EXTRA_CHECKLIST} {n} — {location.name}",
            slug=f"consulting-room-{n}",
            dimension=ChecklistTemplate.Dimension.PLACE,
            location=location,
            frequency="daily",
            responsible_role=Role.STAFF.value,
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(template=template, order=order, text=text, is_critical=order == 0)
            for order, text in enumerate(
                [
                    "Sharps bin below the fill line",
                    "Couch roll and wipes stocked",
                    "Room clean",
                    "Blinds work",
                ]
            )
        )
    return list(daily.order_by("pk").values_list("pk", flat=True))


def _runs(count: int, *, now) -> str:
    """Completed (94 %) and missed runs of the daily checklists, the oldest first, one result per item."""
    from delivery.models import ChecklistResult, ChecklistRun, ChecklistTemplate

    templates = _checklists_for(count)
    days = min(DAYS, math.ceil(count / len(templates)))
    params = _common(now) | {
        "templates": templates,
        "days": days,
        "count": count,
        "first": _next_id(ChecklistRun),
    }
    staff = "(%(team)s::bigint[])[1 + (k + d) %% cardinality(%(team)s::bigint[])]"
    _sql(
        f"""
        WITH slots AS (
            SELECT row_number() OVER (ORDER BY d DESC, t.id) AS k, t.id AS template, d,
                %(today)s::date - d AS day, t.location_id, t.responsible_role,
                ((%(today)s::date - d) + t.due_time) AT TIME ZONE %(tz)s AS due
            FROM unnest(%(templates)s::bigint[]) AS tid
            JOIN {ChecklistTemplate._meta.db_table} t ON t.id = tid
            CROSS JOIN generate_series({DAYS} - %(days)s + 1, {DAYS}) AS d
        )
        INSERT INTO {ChecklistRun._meta.db_table} (
            created_at, updated_at, period_start, shift, responsible_role, due_at, status, started_at,
            completed_at, completed_by_id, location_id, template_id)
        SELECT due - interval '1 day', due, day, '', responsible_role, due,
            CASE WHEN k %% 50 < 47 THEN 'completed' ELSE 'missed' END,
            CASE WHEN k %% 50 < 47 THEN due - interval '40 minutes' + make_interval(mins => (k %% 9)::int*10)
                 END,
            CASE WHEN k %% 50 < 47 THEN due - interval '30 minutes' + make_interval(mins => (k %% 9)::int*10)
                 END,
            CASE WHEN k %% 50 < 47 THEN {staff} END, location_id, template
        FROM slots WHERE k <= %(count)s
        ON CONFLICT DO NOTHING
        """,  # noqa: S608
        params,
    )
    _sql(
        f"""
        INSERT INTO {ChecklistResult._meta.db_table} (
            run_id, item_id, outcome, note, recorded_by_id, recorded_at, failure_reported_at)
        SELECT r.id, item.id, o.outcome, CASE WHEN o.outcome = 'fail' THEN 'Not right: reported.' ELSE '' END,
            r.completed_by_id, r.completed_at - make_interval(mins => 4 - item."order"),
            CASE WHEN o.outcome = 'fail' AND item.is_critical THEN r.completed_at END
        FROM {ChecklistRun._meta.db_table} r
        JOIN delivery_checklistitem item ON item.template_id = r.template_id AND item.is_active
        CROSS JOIN LATERAL (SELECT CASE WHEN (r.id * 31 + item.id) %% 100 < 2 THEN 'fail'
                                        WHEN (r.id * 31 + item.id) %% 100 < 4 THEN 'na'
                                        ELSE 'pass' END AS outcome) AS o
        WHERE r.id >= %(first)s AND r.status = 'completed'
        """,  # noqa: S608
        params,
    )
    return f"{ChecklistRun.objects.count():,} runs, {ChecklistResult.objects.count():,} results"


def _invitations(count: int, *, now) -> str:
    """Invitations after visits over five years: most answered or expired, old contacts purged."""
    from feedback.models import Invitation, InvitationMessage, Survey

    params = _common(now) | {
        "first": _next_id(Invitation),
        "count": count,
        "survey": Survey.objects.get(slug="after-your-visit").pk,
    }
    _sql(
        f"""
        WITH base AS (
            SELECT i, %(now)s::timestamptz - make_interval(secs => (i * 7919) %% %(seconds)s) AS visit,
                1 + (i / 3) %% cardinality(%(touchpoints)s::bigint[]) AS tp
            FROM generate_series(%(first)s::bigint, %(first)s::bigint + %(count)s - 1) AS i
        ), states AS (
            SELECT base.*, visit + interval '2 hours' AS sent,
                CASE WHEN visit > %(now)s::timestamptz - interval '2 hours' THEN 'pending'
                     WHEN i %% 20 = 0 THEN 'failed' WHEN i %% 33 = 0 THEN 'opted_out'
                     WHEN i %% 5 < 2 THEN 'completed'
                     WHEN visit > %(now)s::timestamptz - interval '14 days' THEN
                          CASE WHEN i %% 2 = 0 THEN 'reminded' ELSE 'sent' END
                     ELSE 'expired' END AS status,
                visit < %(now)s::timestamptz - interval '90 days' AS purged
            FROM base
        )
        INSERT INTO {Invitation._meta.db_table} (
            id, created_at, updated_at, email, phone, first_name, visit_at, language, selector, status,
            expires_at, completed_at, location_id, touchpoint_id, survey_id, clinician, email_hash,
            external_id, last_reminded_at, opted_out_at, phone_hash, purged_at, reminder_count, sent_at,
            source)
        SELECT i, visit, CASE WHEN purged THEN visit + interval '90 days' ELSE sent END,
            CASE WHEN purged THEN '' ELSE 'patient' || i || '@example.org' END,
            CASE WHEN purged THEN '' ELSE '07700 9' || lpad((i %% 100000)::text, 5, '0') END,
            CASE WHEN purged THEN '' ELSE 'Ada' END,
            visit, CASE WHEN i %% 10 = 0 THEN 'es' ELSE 'en' END,
            substr(md5('five-year-invitation-' || i), 1, 22),
            status, sent + interval '14 days',
            CASE WHEN status = 'completed' THEN sent + interval '5 hours' END,
            NULLIF((%(tp_locations)s::bigint[])[tp], 0), (%(touchpoints)s::bigint[])[tp], %(survey)s,
            'Dr Okafor', CASE WHEN purged THEN '' ELSE md5('email' || i) END, '',
            CASE WHEN status IN ('reminded', 'expired') THEN sent + interval '3 days' END,
            CASE WHEN status = 'opted_out' THEN sent + interval '1 hour' END,
            CASE WHEN purged THEN '' ELSE md5('phone' || i) END,
            CASE WHEN purged THEN visit + interval '90 days' END,
            CASE WHEN status IN ('reminded', 'expired') THEN 1 ELSE 0 END,
            CASE WHEN status <> 'pending' THEN sent END,
            CASE WHEN i %% 3 = 0 THEN 'api' ELSE 'csv' END
        FROM states
        """,  # noqa: S608
        params,
    )
    _reset_sequence(Invitation)
    _sql(
        f"""
        INSERT INTO {InvitationMessage._meta.db_table} (
            created_at, updated_at, kind, number, channel, status, due_at, attempts, sent_at, provider_id,
            last_error, invitation_id)
        SELECT created_at, COALESCE(sent_at, created_at), 'first', 0,
            CASE WHEN id %% 4 = 0 THEN 'email' ELSE 'sms' END,
            CASE status WHEN 'pending' THEN 'queued' WHEN 'failed' THEN 'failed' ELSE 'sent' END,
            visit_at + interval '2 hours', CASE WHEN status = 'pending' THEN 0 ELSE 1 END,
            CASE WHEN status NOT IN ('pending', 'failed') THEN sent_at END,
            CASE WHEN status NOT IN ('pending', 'failed') THEN 'five-year-' || id ELSE '' END,
            CASE WHEN status = 'failed' THEN 'The number is not a mobile number.' ELSE '' END, id
        FROM {Invitation._meta.db_table} WHERE id >= %(first)s
        UNION ALL
        SELECT last_reminded_at, last_reminded_at, 'reminder', 1,
            CASE WHEN id %% 4 = 0 THEN 'email' ELSE 'sms' END, 'sent', last_reminded_at, 1, last_reminded_at,
            'five-year-r-' || id, '', id
        FROM {Invitation._meta.db_table} WHERE id >= %(first)s AND reminder_count = 1
        """,  # noqa: S608
        params,
    )
    return f"{Invitation.objects.count():,} invitations, {InvitationMessage.objects.count():,} messages"


def _measurements(days: int, *, now) -> str:
    """A measurement a day for every goal, before today's (``measure_goals`` records today's)."""
    from design.models import GoalMeasurement, ServiceGoal

    _sql(
        f"""
        INSERT INTO {GoalMeasurement._meta.db_table} (
            goal_id, measured_on, measured_at, goal_version, period_start, period_end, value,
            previous_value, comparator, target, status)
        SELECT g.id, %(today)s::date - d, m.at, g.version, m.at - interval '30 days', m.at, v.value,
            v.value - 1, g.comparator, g.target,
            CASE WHEN (g.comparator = 'gte') = (v.value >= g.target) OR v.value = g.target THEN 'met'
                 WHEN d %% 5 = 0 THEN 'at_risk' ELSE 'missed' END
        FROM {ServiceGoal._meta.db_table} g
        CROSS JOIN generate_series(1, %(days)s) AS d
        CROSS JOIN LATERAL (SELECT ((%(today)s::date - d) + time '06:00') AT TIME ZONE %(tz)s AS at) AS m
        CROSS JOIN LATERAL (SELECT (g.target * (0.9 + ((d * 7 + g.id) %% 21) / 100.0))::float AS value) AS v
        ON CONFLICT DO NOTHING
        """,  # noqa: S608
        _common(now) | {"days": days},
    )
    return f"{GoalMeasurement.objects.count():,} measurements"


# (action, target type, label, count): what a practice's audit log fills with over the years.
_AUDIT = [
    ("viewed", "recovery.incident", "the patient contact of an incident", None),
    ("viewed", "feedback.response", "the contact details of a response", None),
    ("exported", "feedback.response", "responses", 250),
    ("changed", "design.servicegoal", "the service goal “Patients rate the front desk positively”", None),
    ("changed", "delivery.checklisttemplate", "the checklist “Morning premises check”", None),
    ("viewed", "feedback.invitation", "the contact of an invitation", None),
    ("erased", "feedback.invitation", "a patient's contact details", 3),
    ("created", "servicedesk.touchpoint", "the touchpoint “Patient portal”", None),
]


def _audit(count: int, *, now) -> str:
    from servicedesk.security.models import AuditEvent

    actions, types, labels, counts = (list(column) for column in zip(*_AUDIT, strict=True))
    _sql(
        f"""
        INSERT INTO {AuditEvent._meta.db_table} (
            at, actor_id, actor_label, action, outcome, target_type, target_id, target_label, count, data)
        SELECT %(now)s::timestamptz - make_interval(secs => (i * 7919) %% %(seconds)s),
            u.id, u.username, (%(actions)s::text[])[k],
            CASE WHEN i %% 97 = 0 THEN 'denied' ELSE 'success' END,
            (%(types)s::text[])[k], (i %% 100000)::text, (%(labels)s::text[])[k], (%(counts)s::int[])[k],
            '{{}}'
        FROM generate_series(1, %(count)s) AS i
        CROSS JOIN LATERAL (SELECT 1 + (i %% %(kinds)s) AS k) AS kind
        JOIN servicedesk_user u
            ON u.id = (%(managers)s::bigint[])[1 + i %% cardinality(%(managers)s::bigint[])]
        """,  # noqa: S608
        _common(now)
        | {
            "count": count,
            "actions": actions,
            "types": types,
            "labels": labels,
            "counts": counts,
            "kinds": len(_AUDIT),
        },
    )
    return f"{AuditEvent.objects.count():,} audit rows"


def describe() -> str:
    """The data's size, for a benchmark's title."""
    from delivery.models import ChecklistRun
    from feedback.models import Answer, Invitation, Response
    from recovery.models import Incident

    return (
        f"{Incident.objects.count():,} incidents, {Response.objects.count():,} responses / "
        f"{Answer.objects.count():,} answers, {ChecklistRun.objects.count():,} checklist runs, "
        f"{Invitation.objects.count():,} invitations"
    )
