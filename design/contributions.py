"""What design shows on pages it does not own (``servicedesk.panels``): the manager dashboard's
goals against their targets, and the goals a staff member has still to acknowledge on "My work"."""

from __future__ import annotations

from datetime import datetime

from design.attainment import GoalAttainment, goal_attainment, goal_export_rows
from design.models import ServiceGoal
from servicedesk import panels
from servicedesk.models import User


def my_goals_to_acknowledge(user: User, now: datetime) -> dict[str, object]:
    """Active goals whose current version this person has not acknowledged yet."""
    return {"goals_to_acknowledge": ServiceGoal.objects.to_acknowledge_by(user).order_by("title")}


def register_all() -> None:
    section = panels.Section(
        key="goals",
        compute=goal_attainment,
        empty=lambda: GoalAttainment(rows=[]),
        export=goal_export_rows,
    )
    panels.sections.register(section.key, section, order=10)  # "are we meeting our goals?" comes first
    work = panels.WorkList(
        key="goals", template="design/_my_work_goals.html", context=my_goals_to_acknowledge
    )
    panels.my_work.register(work.key, work, order=20)  # after today's checklists, before incidents
