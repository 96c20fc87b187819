"""What design shows on pages it does not own (``servicedesk.panels``): the manager dashboard's
goals against their targets, and the goals a staff member has still to acknowledge on "My work"."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from design.attainment import GoalAttainment, goal_attainment, goal_export_rows
from design.models import GoalChange, ServiceGoal
from servicedesk import panels
from servicedesk.models import User
from servicedesk.panels import AttentionItem, AttentionList, Scope, attention_list, page_url


def my_goals_to_acknowledge(user: User, now: datetime) -> dict[str, object]:
    """Active goals whose current version this person has not acknowledged yet."""
    return {"goals_to_acknowledge": ServiceGoal.objects.to_acknowledge_by(user).order_by("title")}


def actions_goals_changed(scope: Scope, *, limit: int) -> AttentionList:
    """Goals set, changed, retired or brought back in the period, newest first, with what changed."""
    period = scope.period
    changes = GoalChange.objects.filter(at__gte=period.start, at__lt=period.end).select_related("goal")
    return attention_list(
        changes.order_by("-at", "-pk"),
        lambda change: AttentionItem(
            label=f"{change.goal.title}: {change.get_kind_display().lower()}",
            detail=change.described(),
            url=page_url("design:goal_detail", change.goal_id),
        ),
        key="goals_changed",
        title=str(_("Service goals set or changed")),
        url=page_url("design:goal_list"),
        limit=limit,
    )


def register_all() -> None:
    section = panels.Section(
        key="goals",
        compute=goal_attainment,
        empty=lambda: GoalAttainment(rows=[]),
        export=goal_export_rows,
    )
    panels.sections.register(section.key, section, order=10)  # "are we meeting our goals?" comes first
    panels.actions.register(
        "goals_changed", panels.Attention(key="goals_changed", items=actions_goals_changed), order=30
    )
    work = panels.WorkList(
        key="goals", template="design/_my_work_goals.html", context=my_goals_to_acknowledge
    )
    panels.my_work.register(work.key, work, order=20)  # after today's checklists, before incidents
