"""What learning shows on pages it does not own (``servicedesk.panels``, ``servicedesk.registry``):

- the dashboard's and the weekly digest's attention list of open patterns, each with the incidents
  behind it (two queries however many patterns and incidents);
- the monthly report's "Actions taken": changes made in the month, and changes whose after window
  ended in the month, with their effect;
- on a goal's, a checklist item's or a protocol's page (``{% follow_ons %}``), the changes linked
  to it with their effect.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from learning.measures import change_effect, measure_days
from learning.models import Change, Pattern
from recovery.models import Incident
from servicedesk import panels, registry
from servicedesk.panels import AttentionItem, AttentionList, Scope, attention_list, page_url
from servicedesk.registry import Mention

SHOWN_INCIDENTS = 5  # references listed under each open pattern; its page lists them all


def _incidents_detail(pattern: Pattern) -> str:
    incidents = list(pattern.incidents.all())
    references = ", ".join(incident.reference for incident in incidents[:SHOWN_INCIDENTS])
    more = f" and {len(incidents) - SHOWN_INCIDENTS} more" if len(incidents) > SHOWN_INCIDENTS else ""
    return f"{len(incidents)} incidents: {references}{more}"


def attention_open_patterns(scope: Scope, *, limit: int = 5) -> AttentionList:
    """Open patterns, the most recently recurring first, with the incidents behind each."""
    patterns = (
        Pattern.objects.open()
        .select_related("touchpoint", "theme")
        .prefetch_related(
            Prefetch(
                "incidents",
                queryset=Incident.objects.only("pk", "reference", "created_at").order_by("created_at"),
            )
        )
        .order_by("-last_incident_at", "-pk")
    )
    return attention_list(
        patterns,
        lambda pattern: AttentionItem(
            label=pattern.label,
            detail=_incidents_detail(pattern),
            url=page_url("learning:pattern_detail", pattern.pk),
        ),
        key="open_patterns",
        title=str(_("Recurring incidents")),
        url=page_url("learning:pattern_list"),
        limit=limit,
    )


def _change_item(change: Change, scope: Scope, days: int) -> AttentionItem:
    effect = change_effect(change, now=scope.now, days=days)
    return AttentionItem(
        label=f"{change.pattern}: {change.get_kind_display().lower()}",
        detail=f"{change.description} — {effect.summary()}",
        url=page_url("learning:pattern_detail", change.pattern_id),
    )


def actions_changes_made(scope: Scope, *, limit: int) -> AttentionList:
    """Changes made in the period to answer a pattern, newest first."""
    changes = Change.objects.filter(made_on__gte=scope.first_day, made_on__lte=scope.last_day)
    days = cache(measure_days)  # read once, and only when there is a change to measure
    return attention_list(
        changes.select_related("pattern__touchpoint", "pattern__theme").order_by("-made_on", "-pk"),
        lambda change: _change_item(change, scope, days()),
        key="changes_made",
        title=str(_("Changes made to stop incidents recurring")),
        url=page_url("learning:pattern_list"),
        limit=limit,
    )


def actions_changes_measured(scope: Scope, *, limit: int) -> AttentionList:
    """Changes whose after window ended in the period: now their effect can be told."""
    days = measure_days()
    changes = Change.objects.filter(
        made_on__gte=scope.first_day - timedelta(days=days),
        made_on__lte=scope.last_day - timedelta(days=days),
    )
    return attention_list(
        changes.select_related("pattern__touchpoint", "pattern__theme").order_by("-made_on", "-pk"),
        lambda change: _change_item(change, scope, days),
        key="changes_measured",
        title=str(_("Changes now measured")),
        url=page_url("learning:pattern_list"),
        limit=limit,
    )


# What a change can link to, by the field that links it.
LINKED_FIELDS = {
    "design.servicegoal": "goal",
    "delivery.checklistitem": "checklist_item",
    "delivery.protocol": "protocol",
    "delivery.checklisttemplate": "training",
}


def changes_linked_to(obj: object) -> list[Mention]:
    """The changes that made or revised ``obj`` (a goal, a checklist item, a protocol, a training
    checklist), each with its effect: "Change answering …: 4 → 1 incidents per 30 days"."""
    meta = getattr(obj, "_meta", None)
    field = LINKED_FIELDS.get(meta.label_lower) if meta is not None else None
    if field is None:
        return []
    now = timezone.now()
    days = cache(measure_days)
    changes = Change.objects.filter(**{field: obj}).select_related("pattern__touchpoint", "pattern__theme")
    return [
        Mention(
            label=str(_("Change answering “%(pattern)s” (%(made)s): %(effect)s"))
            % {
                "pattern": change.pattern,
                "made": f"{change.made_on:%d %b %Y}",
                "effect": change_effect(change, now=now, days=days()).summary(),
            },
            url=page_url("learning:pattern_detail", change.pattern_id),
        )
        for change in changes[:10]
    ]


def register_all() -> None:
    # After recovery's incident lists (10-30), before feedback without an incident (50).
    panels.attention.register(
        "open_patterns", panels.Attention(key="open_patterns", items=attention_open_patterns), order=45
    )
    panels.actions.register(
        "changes_made", panels.Attention(key="changes_made", items=actions_changes_made), order=40
    )
    panels.actions.register(
        "changes_measured", panels.Attention(key="changes_measured", items=actions_changes_measured), order=45
    )
    registry.follow_ons.register("learning.changes", changes_linked_to)
