"""What recovery shows on pages it does not own: the dashboard's "Putting things right" panel,
incidents by category, and its attention lists; the SLA policies on the opening-hours page; a
staff member's incidents and actions due on "My work".

Recovery may read feedback and delivery (it answers their signals), so the lists that join an
incident to the response or check that opened it are recovery's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from delivery.models import ChecklistResult, ChecklistRun
from feedback.contributions import responses_url
from feedback.models import Response
from recovery.models import Category, FollowUp, Incident, RecoveryPlan, SlaPolicy
from servicedesk import panels, registry
from servicedesk.clock import local_today
from servicedesk.models import User
from servicedesk.panels import (
    COUNT_UP_TO,
    AttentionItem,
    AttentionList,
    ComparisonRow,
    Figure,
    Scope,
    ago_label,
    attention_list,
    page_url,
    registry_figure,
    when_label,
)
from servicedesk.registry import Mention


def sla_policies_on_opening_hours() -> list[Mention]:
    """The group's policies, then sites' own, whose clocks count opening hours."""
    policies = (
        SlaPolicy.objects.filter(opening_hours_only=True)
        .select_related("location")
        .order_by(F("location__name").asc(nulls_first=True), "pk")
    )
    return [
        Mention(
            label=str(policy.get_severity_display()), url=reverse("recovery:sla_edit", args=[policy.severity])
        )
        if policy.location_id is None
        else Mention(
            label=f"{policy.get_severity_display()} ({policy.location})",
            url=reverse("recovery:sla_site_edit", args=[policy.location_id, policy.severity]),
        )
        for policy in policies
    ]


# --- The dashboard ------------------------------------------------------------------------------

RECOVERY_FIGURES = (
    # (metric key, what the tile opens: the incident list's filter)
    ("recovery.open_incidents", {}),
    ("recovery.overdue_incidents", {"overdue": "on"}),
    ("recovery.median_hours_to_first_response", {"status": "all"}),
    ("recovery.median_hours_to_resolve", {"status": "all"}),
    ("recovery.reopen_rate", {"status": "all"}),
    ("recovery.recurrence_rate", {"status": "all"}),
)


def incidents_url(scope: Scope, **query: object) -> str:
    """The recovery pillar's incident list, narrowed to the dashboard's place."""
    query = {**query, **scope.place_query()}
    return page_url("recovery:incident_list", query=query or None)


def recovery_figures(scope: Scope) -> list[Figure]:
    """Open and overdue incidents, times to respond and resolve, reopen and recurrence (the registry's)."""
    return [registry_figure(key, scope, url=incidents_url(scope, **query)) for key, query in RECOVERY_FIGURES]


def incidents_by_category(scope: Scope) -> list[ComparisonRow]:
    """Incidents logged per category, this period and the one before (one grouped query), most first."""
    incidents = Incident.objects.filter(
        created_at__gte=scope.previous.start, created_at__lt=scope.period.end, **scope.at_place()
    )
    rows = (
        incidents.values("category")
        .annotate(
            current=Count("pk", filter=Q(created_at__gte=scope.period.start)),
            previous=Count("pk", filter=Q(created_at__lt=scope.period.start)),
        )
        .order_by()
    )
    labels = dict(Category.choices)
    items = [
        ComparisonRow(
            key=row["category"],
            label=str(labels.get(row["category"], row["category"])),
            current=row["current"],
            previous=row["previous"],
            url=incidents_url(scope, status="all", category=row["category"]),
        )
        for row in rows
    ]
    return sorted(items, key=lambda row: (-row.current, -row.previous, row.label))


def _incident_attention(
    scope: Scope, incidents: QuerySet, *, detail: Callable[[Any], str], **listing: Any
) -> AttentionList:
    """An attention list of incidents at the dashboard's place, in the queryset's order."""
    return attention_list(
        incidents.filter(**scope.at_place()),
        lambda incident: AttentionItem(
            label=f"{incident.reference} {incident.title}",
            detail=detail(incident),
            url=page_url("recovery:incident_detail", incident.reference),
            is_critical=incident.severity == "critical",
        ),
        **listing,
    )


def attention_overdue_incidents(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Incidents past their respond-by or resolve-by time right now, the longest overdue first."""
    return _incident_attention(
        scope,
        Incident.objects.overdue(scope.now).with_running_deadline().order_by("deadline", "pk"),
        key="overdue_incidents",
        title=str(_("Overdue incidents")),
        url=incidents_url(scope, overdue="on", sort="due"),
        detail=lambda incident: (
            _("%(severity)s · overdue by %(late)s")
            % {"severity": incident.get_severity_display(), "late": timesince(incident.deadline, scope.now)}
            + ("" if incident.assignee_id else str(_(" · nobody owns it")))
        ),
        limit=limit,
    )


def attention_unassigned_incidents(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Open incidents nobody owns yet, the one that must be answered soonest first (overdue ones are
    in the overdue list already, marked as having no owner)."""

    unowned = Incident.objects.open().filter(assignee__isnull=True)
    return _incident_attention(
        scope,
        unowned.exclude(pk__in=Incident.objects.overdue(scope.now).values("pk")).order_by("respond_by", "pk"),
        key="unassigned_incidents",
        title=str(_("Incidents nobody owns yet")),
        url=incidents_url(scope, unassigned="on", sort="severity"),
        detail=lambda incident: (
            _("%(severity)s · logged %(when)s")
            % {"severity": incident.get_severity_display(), "when": ago_label(incident.created_at, scope.now)}
        ),
        limit=limit,
    )


def _failed_check_item(result: Any) -> AttentionItem:
    """A failed critical item, leading to the incident it opened (or its run, if none was opened)."""
    incident = getattr(result, "recovery_incident", None)
    run = result.run
    detail = [str(run.template), when_label(result.recorded_at)]
    detail += [str(run.location)] if run.location else []
    detail += [incident.reference] if incident else []
    return AttentionItem(
        label=result.item.text,
        detail=" · ".join(detail),
        url=(
            page_url("recovery:incident_detail", incident.reference)
            if incident
            else page_url("delivery:run_detail", result.run_id)
        ),
        is_critical=True,
    )


def attention_failed_checks(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Critical checklist items that failed in the last ``DASHBOARD_ATTENTION_DAYS``, newest first,
    each with the incident it opened."""

    since = scope.now - timedelta(days=settings.DASHBOARD_ATTENTION_DAYS)
    failures = (
        ChecklistResult.objects.filter(
            outcome=ChecklistResult.Outcome.FAIL,
            item__is_critical=True,
            recorded_at__gte=since,
            **scope.at_place(location="run__location", touchpoint="run__template__touchpoint"),
        )
        .select_related("item", "run__template", "run__location", "recovery_incident")
        .order_by("-recorded_at", "-pk")
    )
    return attention_list(
        failures,
        _failed_check_item,
        key="failed_checks",
        title=str(_("Failed critical checks")),
        url=page_url("delivery:overview"),
        limit=limit,
    )


def attention_unanswered_feedback(scope: Scope, *, limit: int = 5) -> AttentionList:
    """Negative patient feedback of the last few days that no incident is putting right."""
    since = scope.now - timedelta(days=settings.DASHBOARD_ATTENTION_DAYS)
    # NOT EXISTS, not an outer join: the planner then walks the latest-negative index backwards
    # and stops after a few rows, instead of sorting the whole week's negative feedback.
    put_right = Incident.objects.filter(source_response=OuterRef("pk"))
    responses = (
        Response.objects.negative()
        .in_period(since, scope.now)
        .exclude(channel=Response.Channel.STAFF)
        .filter(~Exists(put_right), **scope.at_place(need_profile="need_profile"))
        .select_related("survey", "touchpoint")
        .order_by("-submitted_at", "-pk")
    )
    # Two small queries instead of a window count: the first rows, and a count that stops at
    # COUNT_UP_TO (shown as "100+"), so a busy week of feedback costs no more than a quiet one.
    rows = list(responses[:limit])
    total = responses[:COUNT_UP_TO].count() if len(rows) == limit else len(rows)
    items = [
        AttentionItem(
            label=str(response.touchpoint or response.survey),
            detail=when_label(response.submitted_at),
            url=page_url("feedback:response_detail", response.pk),
        )
        for response in rows
    ]
    return AttentionList(
        key="unanswered_feedback",
        title=str(_("Negative feedback with no incident")),
        total=total,
        items=items,
        url=responses_url(
            Scope.last_days(settings.DASHBOARD_ATTENTION_DAYS, now=scope.now, location=scope.location,
                            touchpoint=scope.touchpoint),
            negative="on",
        ),
    )  # fmt: skip


def attention_drills(scope: Scope, *, limit: int = 5) -> AttentionList:
    """Continuity plans whose drill is overdue: a plan nobody rehearsed may not work on the day."""
    plans = RecoveryPlan.objects.drill_overdue(timezone.localdate(scope.now)).order_by("next_drill_on", "pk")
    return attention_list(
        plans,
        lambda plan: AttentionItem(
            label=plan.title,
            detail=_("drill was due %(date)s") % {"date": plan.next_drill_on.strftime("%d %b %Y")},
            url=page_url("recovery:plan_detail", plan.pk),
        ),
        key="overdue_drills",
        title=str(_("Drills overdue")),
        url=page_url("recovery:plan_list"),
        limit=limit,
    )


def actions_incidents_put_right(scope: Scope, *, limit: int) -> AttentionList:
    """Incidents resolved in the period at the dashboard's place, the most serious first, each with
    what was done about it (its resolution summary)."""
    period = scope.period
    resolved = (
        Incident.objects.filter(resolved_at__gte=period.start, resolved_at__lt=period.end, **scope.at_place())
        .with_severity_rank()
        .order_by("-severity_rank", "-resolved_at", "pk")
    )
    return attention_list(
        resolved,
        lambda incident: AttentionItem(
            label=f"{incident.reference} {incident.title}",
            detail=Truncator(incident.resolution_summary).chars(160)
            or str(_("No summary of what was done.")),
            url=page_url("recovery:incident_detail", incident.reference),
            is_critical=incident.severity == "critical",
        ),
        key="incidents_put_right",
        title=str(_("Incidents put right")),
        url=incidents_url(scope, status="resolved"),
        limit=limit,
    )


def my_incidents(user: User, now: datetime) -> dict[str, object]:
    """The open incidents assigned to this person, and their actions due by today."""
    return {
        "my_incidents": Incident.objects.for_my_work(user)[:20],
        "my_actions": FollowUp.objects.for_my_work(user, until=local_today(now))[:20],
    }


def incidents_opened_from(obj: object) -> list[Mention]:
    """The incident a negative response opened, or those a checklist run's failed checks opened."""
    if isinstance(obj, Response):
        incidents = Incident.objects.filter(source_response=obj)
    elif isinstance(obj, ChecklistRun):
        incidents = Incident.objects.filter(source_check__run=obj)
    else:
        return []
    return [
        Mention(
            label=_("Incident %(reference)s: %(title)s") % {"reference": i.reference, "title": i.title},
            url=reverse("recovery:incident_detail", args=[i.reference]),
        )
        for i in incidents.only("pk", "reference", "title").order_by("pk")
    ]


def register_all() -> None:
    registry.opening_hours_users.register("recovery.sla_policies", sla_policies_on_opening_hours)
    registry.follow_ons.register("recovery.incidents", incidents_opened_from)
    panel = panels.Panel(
        key="recovery",
        title=_("Putting things right"),
        figures=recovery_figures,
        link=incidents_url,
        link_label=_("All incidents"),
    )
    panels.panels.register(panel.key, panel, order=10)
    categories = panels.Comparison(
        key="incident_categories",
        title=_("Incidents by category"),
        rows=incidents_by_category,
        panel="recovery",
        first_column=_("Category"),
        empty=_("No incidents were logged in this period."),
    )
    panels.comparisons.register(categories.key, categories)
    # Their place among every pillar's lists on the dashboard (delivery's are 40 and 70).
    for order, key, items in [
        (10, "overdue_incidents", attention_overdue_incidents),
        (20, "unassigned_incidents", attention_unassigned_incidents),
        (30, "failed_checks", attention_failed_checks),
        (50, "unanswered_feedback", attention_unanswered_feedback),
        (60, "overdue_drills", attention_drills),
    ]:
        panels.attention.register(key, panels.Attention(key=key, items=items), order=order)
    panels.actions.register(
        "incidents_put_right",
        panels.Attention(key="incidents_put_right", items=actions_incidents_put_right),
        order=10,
    )
    work = panels.WorkList(key="incidents", template="recovery/_my_work.html", context=my_incidents)
    panels.my_work.register(work.key, work, order=30)  # after delivery's checklists and design's goals
