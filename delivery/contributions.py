"""What delivery shows on pages it does not own (``servicedesk.panels``): the manager dashboard's
"Doing it every day" panel, missed checks and protocols past their review; today's checklists on
a staff member's "My work"."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delivery.metrics import completion_pct, runs_due
from delivery.models import ChecklistItem, ChecklistRun, Dimension, Protocol, ProtocolVersion
from servicedesk import panels
from servicedesk.clock import local_midnight, local_today
from servicedesk.metrics import Period, Unit
from servicedesk.models import User
from servicedesk.panels import (
    AttentionItem,
    AttentionList,
    Figure,
    Scope,
    attention_list,
    page_url,
    registry_figure,
    when_label,
)


def overview_url(scope: Scope) -> str:
    return page_url("delivery:overview")


def _completion(completed: int, missed: int) -> float | None:
    return completion_pct(completed=completed, missed=missed)


def delivery_figures(scope: Scope) -> list[Figure]:
    """Checklist completion overall and by dimension, missed runs, failed critical checks, training.

    Completion by dimension for both periods is one grouped query over the runs due in them,
    with the delivery pillar's definition (``delivery.checklist_completion_pct``: completed ÷
    completed + missed over ``runs_due``, periodic runs only; runs still open do not count yet).
    A test keeps the two in step. The other figures come from the registry.
    """
    # Delivery's own selection (periodic runs due in the window, at this place), over both periods.
    runs = runs_due(Period(start=scope.previous.start, end=scope.period.end), scope.filters)
    now_q, before_q = Q(due_at__gte=scope.period.start), Q(due_at__lt=scope.period.start)
    completed, missed = Q(status=ChecklistRun.Status.COMPLETED), Q(status=ChecklistRun.Status.MISSED)
    rows = {
        row["template__dimension"]: row
        for row in runs.values("template__dimension")
        .annotate(
            completed_now=Count("pk", filter=now_q & completed),
            missed_now=Count("pk", filter=now_q & missed),
            completed_before=Count("pk", filter=before_q & completed),
            missed_before=Count("pk", filter=before_q & missed),
        )
        .order_by()
    }

    def totals(dimensions: list[str], suffix: str) -> tuple[int, int]:
        return (
            sum(rows[d][f"completed_{suffix}"] for d in dimensions if d in rows),
            sum(rows[d][f"missed_{suffix}"] for d in dimensions if d in rows),
        )

    url = page_url("delivery:overview")
    figures = []
    for label, dimensions in [
        (str(_("Checklists completed on time")), Dimension.values),
        *[
            (str(_("%(dimension)s checklists completed")) % {"dimension": lbl}, [v])
            for v, lbl in Dimension.choices
        ],
    ]:
        figures.append(
            Figure(
                label=label,
                value=_completion(*totals(dimensions, "now")),
                previous=_completion(*totals(dimensions, "before")),
                unit=Unit.PERCENT,
                url=url,
            )
        )
    figures.append(
        Figure(
            label=str(_("Missed checklists")),
            value=totals(Dimension.values, "now")[1],
            previous=totals(Dimension.values, "before")[1],
            higher_is_better=False,
            url=url,
        )
    )
    figures += [
        registry_figure("delivery.failed_critical_items", scope, url=url),
        registry_figure("delivery.training_compliance_pct", scope, url=page_url("delivery:training")),
    ]
    return figures


def attention_missed_checks(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Checklist runs missed in the last ``DASHBOARD_ATTENTION_DAYS``, those with critical items first."""
    since = scope.now - timedelta(days=settings.DASHBOARD_ATTENTION_DAYS)
    critical = ChecklistItem.objects.filter(template=OuterRef("template"), is_critical=True, is_active=True)
    runs = (
        ChecklistRun.objects.filter(
            status=ChecklistRun.Status.MISSED,
            due_at__gte=since,
            due_at__lt=scope.now,
            subject__isnull=True,
            **scope.at_place(touchpoint="template__touchpoint"),
        )
        .select_related("template", "location")
        .annotate(has_critical=Exists(critical))
        .order_by("-has_critical", "-due_at", "pk")
    )
    return attention_list(
        runs,
        lambda run: AttentionItem(
            label=str(run.template),
            detail=_("due %(when)s%(where)s")
            % {"when": when_label(run.due_at), "where": f" · {run.location}" if run.location else ""},
            url=page_url("delivery:run_detail", run.pk),
            is_critical=run.has_critical,
        ),
        key="missed_checks",
        title=str(_("Missed checks")),
        url=page_url("delivery:overview"),
        limit=limit,
    )


def attention_protocols(scope: Scope, *, limit: int = 8) -> AttentionList:
    """Protocols past their review date (a process nobody has checked is still right)."""
    protocols = Protocol.objects.overdue_review(timezone.localdate(scope.now)).filter(
        **scope.at_place(location="")  # a protocol belongs to a touchpoint, not a location
    )
    return attention_list(
        protocols.order_by("review_by", "pk"),
        lambda protocol: AttentionItem(
            label=protocol.title,
            detail=_("review was due %(date)s") % {"date": protocol.review_by.strftime("%d %b %Y")},
            url=page_url("delivery:protocol_detail", protocol.pk),
        ),
        key="protocol_reviews",
        title=str(_("Protocol reviews overdue")),
        url=page_url("delivery:protocol_list"),
        limit=limit,
    )


def my_checklists(user: User, now: datetime) -> dict[str, object]:
    """Today's checklist runs for this person (theirs, their role's, their location's)."""
    today = local_today(now)
    return {
        "checklist_runs": ChecklistRun.objects.for_my_work(
            user, today=today, day_starts=local_midnight(today)
        )
    }


def actions_protocols_revised(scope: Scope, *, limit: int) -> AttentionList:
    """Procedures given a new version in the period (first versions are writing, not changing),
    newest first, each with what changed. Protocols are the practice's, so a place filter keeps
    those of its touchpoint and the practice-wide ones."""
    period = scope.period
    revised = ProtocolVersion.objects.filter(
        created_at__gte=period.start, created_at__lt=period.end, number__gt=1
    ).select_related("protocol")
    if scope.touchpoint is not None:
        revised = revised.filter(Q(protocol__touchpoint=scope.touchpoint) | Q(protocol__touchpoint=None))
    return attention_list(
        revised.order_by("-created_at", "-pk"),
        lambda version: AttentionItem(
            label=str(
                _("%(title)s, version %(number)s")
                % {"title": version.protocol.title, "number": version.number}
            ),
            detail=version.change_note or str(_("No note of what changed.")),
            url=page_url("delivery:protocol_version", version.protocol_id, version.number),
        ),
        key="protocols_revised",
        title=str(_("Procedures revised")),
        url=page_url("delivery:protocol_list"),
        limit=limit,
    )


def register_all() -> None:
    panel = panels.Panel(
        key="delivery",
        title=_("Doing it every day"),
        figures=delivery_figures,
        link=overview_url,
        link_label=_("Checklists"),
    )
    panels.panels.register(panel.key, panel, order=20)
    # Their place among every pillar's lists on the dashboard (recovery's are 10-30, 50 and 60).
    for order, key, items in [
        (40, "missed_checks", attention_missed_checks),
        (70, "protocol_reviews", attention_protocols),
    ]:
        panels.attention.register(key, panels.Attention(key=key, items=items), order=order)
    panels.actions.register(
        "protocols_revised",
        panels.Attention(key="protocols_revised", items=actions_protocols_revised),
        order=20,
    )
    work = panels.WorkList(key="checklists", template="delivery/_my_work.html", context=my_checklists)
    panels.my_work.register(work.key, work, order=10)  # first: today's checklists
