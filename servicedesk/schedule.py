"""When each periodic sweep runs (Celery beat) and which queue each task waits in.

Settings import both: ``CELERY_BEAT_SCHEDULE = beat_schedule(...)``, ``CELERY_TASK_ROUTES`` and
``CELERY_TASK_QUEUES``. Only task names live here (strings), so the core imports no app.

Queues by kind, so that work nobody waits for never delays work somebody does:

- ``messages``: anything a person is waiting to receive — outbox sends, invitations and their
  reminders, welcome emails, assignment notices, the reminder sweeps that queue them, and the
  practice mailbox (its reader talks to a mail server, which may be slow, like a send).
- ``sweeps``: short periodic sweeps that change state on time — incident escalation, checklist
  runs created and marked missed, invitations expired and published. Each claims a bounded batch
  (hundreds of rows at most) a run, so escalation waits at most for a few short sweeps: no
  import and no report is ever in this queue. A separate escalations queue would buy little
  (the other sweeps are as short and as urgent: a missed run, an expired invitation) and cost
  one more worker to run and watch.
- ``imports``: bulk work a manager started and expects to take a while — visit-list checks and
  imports (50,000 rows), resizing pictures, the hourly purge of contact details (thousands of
  rows in one transaction) and the answers' monthly partitions (made ahead, dropped when expired).
- ``reports``: figures recomputed and sent in bulk — dashboard summaries, the weekly digest, goal
  measurements, recurring-incident patterns.

A worker started without ``-Q`` consumes every queue (``make run``, ``bin/dev-server``, the fault
scripts): one process does it all on a small site. docker-compose.yml runs one worker per queue.
"""

from __future__ import annotations

from kombu import Queue

MESSAGES = "messages"
SWEEPS = "sweeps"
IMPORTS = "imports"
REPORTS = "reports"
QUEUES = (MESSAGES, SWEEPS, IMPORTS, REPORTS)

# Every task, by its registered name, in exactly one queue (tests/servicedesk/test_queues.py checks
# that every registered task is here, so a new task cannot land in a queue by accident).
TASK_QUEUE = {
    # messages
    "servicedesk.tasks.deliver_message": MESSAGES,
    "servicedesk.tasks.sweep_outbox": MESSAGES,
    "servicedesk.tasks.send_welcome_email": MESSAGES,
    "servicedesk.tasks.send_due_welcome_emails": MESSAGES,
    "servicedesk.inbox.tasks.read_inbox": MESSAGES,
    "feedback.tasks.send_invitation_message": MESSAGES,
    "recovery.tasks.send_assignment_notice": MESSAGES,
    "recovery.tasks.send_recovery_reminders": MESSAGES,
    "delivery.tasks.send_run_reminders": MESSAGES,
    "design.tasks.send_goal_review_reminders": MESSAGES,
    # sweeps
    "recovery.tasks.escalate_overdue_incidents": SWEEPS,
    "delivery.tasks.schedule_runs": SWEEPS,
    "delivery.tasks.mark_missed_runs": SWEEPS,
    "feedback.tasks.invitations_sweep": SWEEPS,
    # imports
    "feedback.tasks.check_invitation_import": IMPORTS,
    "feedback.tasks.run_invitation_import": IMPORTS,
    "feedback.tasks.invitations_purge": IMPORTS,
    "feedback.tasks.feedback_partitions_sweep": IMPORTS,  # moves rows that landed in DEFAULT
    "servicedesk.tasks.audit_partitions_sweep": IMPORTS,
    "servicedesk.attachments.tasks.process_attachment": IMPORTS,
    "servicedesk.attachments.tasks.process_pending_attachments": IMPORTS,
    # reports
    "servicedesk.tasks.refresh_feedback_summaries": REPORTS,
    "servicedesk.tasks.send_weekly_digests": REPORTS,
    "design.tasks.measure_goals": REPORTS,
    "learning.tasks.detect_patterns": REPORTS,
}

# Celery's own housekeeping tasks and anything unrouted: the queue where waiting harms nobody.
DEFAULT_QUEUE = REPORTS


def task_queues() -> tuple[Queue, ...]:
    return tuple(Queue(name, routing_key=name) for name in QUEUES)


def task_routes() -> dict[str, dict[str, str]]:
    return {task: {"queue": queue} for task, queue in TASK_QUEUE.items()}


MINUTE = 60.0


def beat_schedule(*, escalation_minutes: int) -> dict[str, dict]:
    """Every periodic job is a sweep that derives what is due from the database: running one twice,
    or late, or on two machines at once, sends nothing twice. This is the only schedule."""
    return {
        "outbox-sweep": {"task": "servicedesk.tasks.sweep_outbox", "schedule": MINUTE},
        "inbox-read": {"task": "servicedesk.inbox.tasks.read_inbox", "schedule": 2 * MINUTE},
        # Pictures the queue never delivered for resizing (broker down, worker lost).
        "attachments-process-pending": {"task": "servicedesk.attachments.tasks.process_pending_attachments",
                                        "schedule": 5 * MINUTE},
        "send-welcome-emails": {"task": "servicedesk.tasks.send_due_welcome_emails", "schedule": MINUTE},
        "dashboard-refresh-feedback-summaries": {"task": "servicedesk.tasks.refresh_feedback_summaries",
                                                 "schedule": 5 * MINUTE},
        "dashboard-weekly-digest": {"task": "servicedesk.tasks.send_weekly_digests", "schedule": 15 * MINUTE},
        # Delivery: today's checklist runs (idempotent, so every 15 minutes also catches new templates),
        # runs past their deadline marked missed, and reminders of runs soon due.
        "delivery-schedule-runs": {"task": "delivery.tasks.schedule_runs", "schedule": 15 * MINUTE},
        "delivery-mark-missed-runs": {"task": "delivery.tasks.mark_missed_runs", "schedule": MINUTE},
        "delivery-send-run-reminders": {"task": "delivery.tasks.send_run_reminders", "schedule": MINUTE},
        "design-measure-goals": {"task": "design.tasks.measure_goals", "schedule": 15 * MINUTE},
        "design-goal-review-reminders": {"task": "design.tasks.send_goal_review_reminders",
                                         "schedule": 3600.0},
        # Learning: incidents recurring past the manager's rule (also checked as each incident is logged).
        "learning-detect-patterns": {"task": "learning.tasks.detect_patterns", "schedule": 30 * MINUTE},
        "recovery-escalate-overdue-incidents": {
            "task": "recovery.tasks.escalate_overdue_incidents",
            "schedule": MINUTE * escalation_minutes,
        },
        "recovery-send-reminders": {"task": "recovery.tasks.send_recovery_reminders", "schedule": 5 * MINUTE},
        # Survey invitations: expire, send what is due (first messages, reminders, retries), resume imports.
        "feedback-invitations-sweep": {"task": "feedback.tasks.invitations_sweep", "schedule": MINUTE},
        # Delete patients' contact details once the retention period after an invitation has passed.
        "feedback-invitations-purge": {"task": "feedback.tasks.invitations_purge", "schedule": 60 * MINUTE},
        # Responses' and answers' coming months partitioned ahead; months past
        # FEEDBACK_RETENTION_MONTHS dropped whole.
        "feedback-partitions": {"task": "feedback.tasks.feedback_partitions_sweep", "schedule": 60 * MINUTE},
        # The audit log's coming months partitioned ahead; months past AUDIT_RETENTION_MONTHS dropped.
        "audit-partitions": {"task": "servicedesk.tasks.audit_partitions_sweep", "schedule": 60 * MINUTE},
    }  # fmt: skip
