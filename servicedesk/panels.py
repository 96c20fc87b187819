"""What a pillar shows on the manager dashboard and on "My work", and the vocabulary it shows it in.

The dashboard app sits above every pillar and composes; it does not read a pillar's tables.
Each pillar registers, in ``AppConfig.ready()``:

- **figure panels** (``panels``): a row of figures for the period and the one before, with the
  page they open ("Putting things right" is recovery's, "Doing it every day" delivery's);
- **comparisons** (``comparisons``): counts per category, this period against the one before;
- **attention lists** (``attention``): what needs a manager today, each item a link;
- **sections** (``sections``): a section of its own beyond a row of figures (design's "Are we
  meeting our goals?"), which the page, the digest, the monthly report and the CSV show.

For staff, each pillar also registers its part of "My work" (``my_work``): today's checklists,
goals to acknowledge, incidents and actions to put right.

The dashboard's contributions all take a ``Scope`` (the period, the one before, and the place
filter) and return plain values (``Figure``, ``ComparisonRow``, ``AttentionList``) that the
dashboard's templates render.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import models
from django.db.models import Count, QuerySet, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from servicedesk import metrics
from servicedesk.clock import local_midnight
from servicedesk.figures import round_figure
from servicedesk.metrics import Filters, Period, Unit
from servicedesk.models import Location, Touchpoint, User
from servicedesk.registry import Registry

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Scope:
    """What a dashboard panel looks at: the local days ``first_day``…``last_day``, compared with the same
    number of days just before, optionally narrowed to one location, touchpoint or need profile."""

    now: datetime
    first_day: date
    last_day: date
    location: Location | None = None
    touchpoint: Touchpoint | None = None
    need_profile: models.Model | None = None  # design's PatientNeedProfile (the core names no pillar)

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("A dashboard period must end on or after its first day.")

    @classmethod
    def last_days(
        cls, days: int = DEFAULT_DAYS, *, now: datetime, until: date | None = None, **filters: object
    ) -> Scope:
        last_day = until or timezone.localdate(now)
        return cls(now=now, first_day=last_day - timedelta(days=days - 1), last_day=last_day, **filters)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def previous_first_day(self) -> date:
        return self.first_day - timedelta(days=self.days)

    @property
    def previous_last_day(self) -> date:
        return self.first_day - timedelta(days=1)

    @property
    def period(self) -> Period:
        """The period as a half-open time range; it ends now when the last day is today."""
        return Period.local_days(self.first_day, self.last_day, now=self.now)

    @property
    def previous(self) -> Period:
        return Period.local_days(self.previous_first_day, self.previous_last_day, now=self.now)

    @staticmethod
    def end_of(day: date) -> datetime:
        return local_midnight(day + timedelta(days=1))

    @property
    def has_ended(self) -> bool:
        """True for a period whose last day is over (last month's report), not one that runs to today."""
        return self.last_day < timezone.localdate(self.now)

    @property
    def is_filtered(self) -> bool:
        return any((self.location, self.touchpoint, self.need_profile))

    @property
    def filters(self) -> Filters:
        return Filters(
            location_id=self.location.pk if self.location else None,
            touchpoint_id=self.touchpoint.pk if self.touchpoint else None,
            need_profile_id=self.need_profile.pk if self.need_profile else None,
        )

    def at_place(
        self, *, location: str = "location", touchpoint: str = "touchpoint", need_profile: str = ""
    ) -> dict[str, int]:
        """Lookups narrowing a queryset to the filtered location, touchpoint and (where the model
        knows it, by the path given) patient group: ``Filters.at_place`` for this scope."""
        return self.filters.at_place(location=location, touchpoint=touchpoint, need_profile=need_profile)

    def place_query(self) -> dict[str, int]:
        """The filtered location and touchpoint as another pillar's list takes them in its query string."""
        return {name.removesuffix("_id"): pk for name, pk in self.at_place().items()}

    def query(self, **extra: object) -> dict[str, object]:
        """The dashboard's own query string for this scope (links that keep the filter)."""
        params: dict[str, object] = {"days": self.days}
        if self.last_day != timezone.localdate(self.now):
            params["until"] = self.last_day.isoformat()
        for name in ("location", "touchpoint", "need_profile"):
            if obj := getattr(self, name):
                params[name] = obj.pk
        return {**params, **extra}


# --- Figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number on the dashboard, with the same number for the previous period."""

    label: str
    value: float | None
    previous: float | None = None
    unit: str = Unit.COUNT
    higher_is_better: bool = True
    too_few: bool = False  # fewer responses than the small-number threshold: not shown
    note: str = ""
    url: str = ""  # the list behind the figure

    def __post_init__(self) -> None:
        # A tile holds the figure as shown, rounded by the one rule, so it equals the goal's value
        # and the CSV's, and "9.1 h, was 9.1 h" is no change.
        for name in ("value", "previous"):
            rounded = round_figure(getattr(self, name), self.unit)
            object.__setattr__(self, name, None if rounded is None else float(rounded))

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None or self.too_few:
            return None
        return self.value - self.previous

    @property
    def direction(self) -> str:
        """better, worse or same (in the figure's own direction), or "" when there is nothing to compare."""
        change = self.change
        if change is None:
            return ""
        if abs(change) < 1e-9:
            return "same"
        return "better" if (change > 0) == self.higher_is_better else "worse"


def registry_figure(
    key: str, scope: Scope, *, label: str | None = None, url: str = "", **params: str
) -> Figure:
    """A registered metric for the period and the one before, honouring only the filters it supports.

    A metric that is not registered (its app not installed yet) or that fails shows as no data:
    one pillar's bug must not take the managers' landing page down.
    """
    metric = metrics.registry.get(key)
    if metric is None:
        return Figure(label=str(label or key), value=None, note=str(_("Not measured yet.")), url=url)
    filters = scope.filters
    unsupported = [
        name for name in ("location_id", "touchpoint_id", "need_profile_id")
        if getattr(filters, name) is not None and name not in metric.filterable_by
    ]  # fmt: skip
    filters = Filters(
        **{name: getattr(filters, name) for name in metric.filterable_by if hasattr(filters, name)},
    ).with_params(**params)
    try:
        values = metric.values(periods=[scope.period, scope.previous], filters=filters)
    except Exception:  # logged loudly; shown as no data
        logger.exception("metric %s failed on the dashboard", key)
        values = [None, None]
    note = ""
    if unsupported:
        names = {
            "location_id": _("location"),
            "touchpoint_id": _("touchpoint"),
            "need_profile_id": _("need profile"),
        }
        note = str(_("Not split by %(what)s.")) % {"what": ", ".join(str(names[n]) for n in unsupported)}
    return Figure(
        label=str(label or metric.label),
        value=values[0],
        previous=values[1],
        unit=metric.unit,
        higher_is_better=metric.higher_is_better,
        note=note,
        url=url,
    )


# --- Needs attention today ----------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionItem:
    label: str
    detail: str = ""
    url: str = ""
    is_critical: bool = False


# Attention lists over tables that grow (feedback) count up to this many, then say "100+".
COUNT_UP_TO = 100


@dataclass(frozen=True)
class AttentionList:
    key: str
    title: str
    total: int
    items: list[AttentionItem]
    url: str = ""

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items))

    @property
    def total_label(self) -> str:
        return f"{COUNT_UP_TO}+" if self.total >= COUNT_UP_TO else str(self.total)


def attention_list(
    queryset: QuerySet, item: Callable[[Any], AttentionItem], *, key: str, title: str, url: str, limit: int
) -> AttentionList:
    """The first ``limit`` rows as items, and the total, in one query (a window count rides on each row)."""
    rows = list(queryset.annotate(total_rows=Window(Count("pk")))[:limit])
    total = rows[0].total_rows if rows else 0
    return AttentionList(key=key, title=title, total=total, items=[item(row) for row in rows], url=url)


def when_label(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%a %d %b %H:%M")


def ago_label(when: datetime, now: datetime) -> str:
    """How long ago, for people: "just now" in the first minute (timesince says "0 minutes")."""
    if now - when < timedelta(minutes=1):
        return str(_("just now"))
    return str(_("%(time)s ago") % {"time": timesince(when, now)})


def page_url(name: str, *args: object, query: dict | None = None) -> str:
    """The URL of a page, with a query string (a list's filter) when given."""
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


# --- Comparisons and panels ----------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One category's count this period and in the period before (incidents by category, …)."""

    key: str
    label: str
    current: int
    previous: int
    url: str = ""


@dataclass(frozen=True)
class Panel:
    """A pillar's section of figures: ``figures(scope)``, and the page that lists what they count."""

    key: str  # its name in the page's context and the CSV: "recovery", "delivery"
    title: str  # its heading: "Putting things right"
    figures: Callable[[Scope], list[Figure]]
    link: Callable[[Scope], str]
    link_label: str = ""  # "All incidents"


@dataclass(frozen=True)
class Comparison:
    """Counts per category, this period against the one before, shown under a panel of its pillar."""

    key: str  # its name in the page's context: "incident_categories"
    title: str  # its heading, and (in lower case) its CSV section: "Incidents by category"
    rows: Callable[[Scope], list[ComparisonRow]]
    panel: str  # the key of the panel it is shown under
    first_column: str = ""  # "Category"
    empty: str = ""  # what an empty period says: "No incidents were logged in this period."


@dataclass(frozen=True)
class Attention:
    key: str
    items: Callable[..., AttentionList]  # items(scope, limit=…): the first few and the total


def no_rows(value: Any) -> list[list[object]]:
    return []


@dataclass(frozen=True)
class Section:
    """A pillar's own section of the dashboard (design: its goals against their targets).

    ``compute(scope)`` returns what the section shows; the dashboard's templates render it under
    ``key`` on the page, in the digest and in the monthly report. ``empty()`` is what they show
    when the pillar's code fails. ``export(value)`` gives the section's lines of the dashboard's
    CSV (section, figure, this period, previous period, unit, note).
    """

    key: str  # its name in the page's context: "goals"
    compute: Callable[[Scope], Any]
    empty: Callable[[], Any]
    export: Callable[[Any], list[list[object]]] = no_rows


@dataclass(frozen=True)
class WorkList:
    """A pillar's part of a staff member's "My work" page: the template that shows it, and the
    variables that template needs for this person at ``now`` (lazy querysets, so the page still
    reads each list in one query as the template renders it)."""

    key: str
    template: str  # "delivery/_my_work.html"
    context: Callable[[User, datetime], dict[str, object]]


panels: Registry[Panel] = Registry("dashboard figure panels")
comparisons: Registry[Comparison] = Registry("dashboard comparisons")
attention: Registry[Attention] = Registry("dashboard attention lists")
# What the practice did in a period (incidents put right, procedures revised, goals changed): the
# monthly report's "Actions taken", each list contributed by the pillar that owns what it lists.
actions: Registry[Attention] = Registry("actions taken in a period")
sections: Registry[Section] = Registry("dashboard sections")
my_work: Registry[WorkList] = Registry("My work lists")
