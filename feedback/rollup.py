"""A survey's results rolled up per local day, so the results page costs the same at 10,000 and at
1,000,000 responses, and shows exactly what counting every answer would.

Writing (counted by the pillar that owns the tables; stored when the dashboard's summaries are):

1. ``rollup_count(days=…, now=…)`` counts whole local days in three grouped queries, however many
   days: responses (totals, sentiment of comments), answers (per question and answer given) and
   theme mentions (distinct responses, a manager's removals left out), per survey and place. A day
   still under way is counted up to ``SETTLE`` before ``now`` (``RollupDay.counted_until``): a
   response whose transaction is still open then is seen by the next rebuild.
2. ``rollup_store(day=…, counted=…, now=…)`` replaces one day (its rows and its ``RollupDay``
   marker) in one transaction. The marker's unique day stops two concurrent rebuilds of a day
   from doubling it: the second fails and rolls back.
3. ``rollup_days_stale(since=…, until=…)`` finds the days whose responses per day (every channel,
   the staff pulse too) no longer match the roll-up: a back-dated import, demo data, an erasure.

The dashboard calls these from ``dashboard.summaries.feedback_days_refresh``, for the days it
recounts and inside the same per-day transaction, so one sweep (``refresh_feedback_summaries``,
every few minutes: today, yesterday and every stale day), one command (``refresh_dashboard``,
``--all`` for every day) and one receiver (a manager's theme correction recounts that day) keep
both true. Feedback never imports the dashboard (``make lint``); the dashboard asks for both.
There is no backfill migration: the first sweep after the upgrade rolls up every day within
``DASHBOARD_SUMMARY_CHECK_DAYS`` that has responses (``refresh_dashboard --all`` for older ones),
and until then the page counts those days live.

Reading (``feedback.results.compute_results``):

4. ``coverage(scope)``: the markers of the days in the page's window, and ``live_spans`` the rest
   of the window as time ranges: days never rolled up, and the minutes of a day after its
   ``counted_until``. The page sums ``rolled_up_counts`` (three queries on the roll-up) and the
   original live queries restricted to those ranges (a few minutes of responses), all read in one
   snapshot (``one_snapshot``) so a rebuild in between can count nothing twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from feedback.contributions import responses_per_day
from feedback.models import (
    Answer,
    AnswerDay,
    AnswerMonth,
    Question,
    Response,
    ResultsDay,
    RollupDay,
    ThemeDay,
    ThemeMention,
)
from feedback.models.responses import submitted_between
from servicedesk.clock import local_midnight

if TYPE_CHECKING:
    from feedback.results import ResponseFilter

# A day under way is rolled up to this long before the rebuild: longer than any request that
# stores a response takes to commit, so no response is missed by both the roll-up and the page.
SETTLE = timedelta(minutes=5)

# What the results page sums from the responses of a period (live or rolled up).
SUMMARY_COUNTS = {
    "total": Count("pk"),
    "negative": Count("pk", filter=Q(is_negative=True)),
    "positive_text": Count("pk", filter=Q(sentiment__gte=Response.POSITIVE_FROM)),
    "negative_text": Count("pk", filter=Q(sentiment__lte=Response.NEGATIVE_TO)),
    "any_text": Count("pk", filter=Q(sentiment__isnull=False)),
}
# The same counts, by their names on ``ResultsDay``.
STORED_SUMMARY = {"total": "responses", **{name: name for name in list(SUMMARY_COUNTS)[1:]}}

Span = tuple[datetime | None, datetime | None]


# --- Writing ---------------------------------------------------------------------------------------


@dataclass
class Counted:
    """Some days counted, ready to store: per day, how far it was counted and its rows."""

    counted_until: dict[date, datetime]
    rows: dict[date, list[ResultsDay | AnswerDay | ThemeDay]]


def _within_days(
    queryset: QuerySet, prefix: str, days: list[date], until: datetime, *, also: str | None = None
) -> QuerySet:
    """Rows submitted in ``days`` (up to ``until``), by the moment at ``prefix``, with their ``day``;
    bounded by the moment at ``also`` too (an answer's response's: PostgreSQL then reads only the
    days' months of both tables)."""
    start = local_midnight(days[0])
    end = min(local_midnight(days[-1] + timedelta(days=1)), until)
    dated = submitted_between(start, end, prefix=prefix)
    if also is not None:
        dated &= submitted_between(start, end, prefix=also)
    return queryset.filter(dated).annotate(
        day=TruncDate(f"{prefix}submitted_at", tzinfo=timezone.get_current_timezone())
    )


def rollup_count(*, days: Iterable[date], now: datetime) -> Counted:
    """Count ``days`` (local) in three grouped queries: responses, answers and theme mentions."""
    days = sorted(set(days))
    until = now - SETTLE
    counted = Counted(
        counted_until={
            day: max(local_midnight(day), min(local_midnight(day + timedelta(days=1)), until)) for day in days
        },
        rows=defaultdict(list),
    )
    if not days:
        return counted
    wanted = set(days)
    responses = (
        _within_days(Response.objects.all(), "", days, until)
        .values("day", "survey_id", "location_id", "touchpoint_id")
        .annotate(**SUMMARY_COUNTS)
        .order_by()
    )
    for row in responses:
        if row["day"] in wanted:
            counts = {STORED_SUMMARY[name]: row.pop(name) for name in SUMMARY_COUNTS}
            counted.rows[row["day"]].append(ResultsDay(**row, **counts))
    via_response = {
        "survey_id": F("response__survey_id"),
        "location_id": F("response__location_id"),
        "touchpoint_id": F("response__touchpoint_id"),
    }
    answers = (
        _within_days(Answer.objects.all(), "", days, until, also="response__")
        .values("day", "question_id", "choice", "value", "choices", **via_response)
        .annotate(answers=Count("pk"))
        .order_by()
    )
    for row in answers:
        if row["day"] in wanted:
            counted.rows[row["day"]].append(AnswerDay(**row))
    mentions = (
        _within_days(ThemeMention.objects.filter(removed=False), "response__", days, until)
        .values("day", "theme_id", **via_response)
        .annotate(
            responses=Count("response", distinct=True),
            negative=Count("response", distinct=True, filter=Q(is_negative=True)),
        )
        .order_by()
    )
    for row in mentions:
        if row["day"] in wanted:
            counted.rows[row["day"]].append(ThemeDay(**row))
    return counted


def rollup_store(*, day: date, counted: Counted, now: datetime) -> None:
    """Replace ``day``'s roll-up with ``counted``'s, and its month's sums, in one transaction (the
    caller's, if any)."""
    with transaction.atomic():
        for model in (RollupDay, ResultsDay, AnswerDay, ThemeDay):
            model.objects.filter(day=day).delete()
        RollupDay.objects.create(day=day, counted_until=counted.counted_until[day], built_at=now)
        rows = counted.rows.get(day, [])
        for model in (ResultsDay, AnswerDay, ThemeDay):
            model.objects.bulk_create([r for r in rows if type(r) is model], batch_size=2000)
        month_store(day.replace(day=1))


MONTH_LOCK = 0x5D16  # the namespace of the advisory lock on a month of the roll-up
ANSWER_KEYS = ("survey_id", "location_id", "touchpoint_id", "question_id", "choice", "value", "choices")


def month_store(month: date) -> None:
    """Rewrite ``month``'s ``AnswerMonth`` rows as the sum of its days' ``AnswerDay`` rows, in the
    caller's transaction: whoever changes a day's answers calls this before committing, so a month
    always equals its days. Two rebuilds of days of one month queue on a lock for the month (on
    PostgreSQL; SQLite writes one at a time anyway): the second then sums both days' rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [MONTH_LOCK, month.toordinal()])
    AnswerMonth.objects.filter(day=month).delete()
    bounds = [connection.ops.adapt_datefield_value(d) for d in (month, month, _next_month(month))]
    with connection.cursor() as cursor:
        cursor.execute(_month_sum_sql(), bounds)


def _month_sum_sql() -> str:
    """One ``INSERT INTO … SELECT … GROUP BY``: the days' rows summed into the month's in the
    database, in one statement however many there are, instead of read into Python and written
    back 2,000 at a time (86,000 day rows a month at 200 sites: 0.6 s instead of 1.4 s; spread over
    enough places to make 64,000 month rows: 3.6 s instead of 6.7 s; ``bench_rollup_month``). Names
    come from the models' metadata, the month and its bounds are parameters. ``GROUP BY`` puts the
    NULL places and values in a group each, as ``values().annotate()`` did, on PostgreSQL and
    SQLite alike."""
    quote = connection.ops.quote_name

    def columns(model: type[AnswerDay | AnswerMonth], *names: str) -> list[str]:
        return [quote(model._meta.get_field(name).column) for name in names]

    into = ", ".join(columns(AnswerMonth, "day", *ANSWER_KEYS, "answers"))
    keys = ", ".join(columns(AnswerDay, *ANSWER_KEYS))
    day, answers = columns(AnswerDay, "day", "answers")
    return (
        f"INSERT INTO {quote(AnswerMonth._meta.db_table)} ({into}) "  # noqa: S608
        f"SELECT %s, {keys}, SUM({answers}) FROM {quote(AnswerDay._meta.db_table)} "
        f"WHERE {day} >= %s AND {day} < %s GROUP BY {keys}"
    )


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def rollup_days_stale(*, since: date, until: date) -> set[date]:
    """Days from ``since`` up to (not including) ``until`` whose responses no longer match the
    roll-up: two grouped queries (responses per local day, and the roll-up's totals per day)."""
    actual = responses_per_day(since=since, until=until, staff_too=True)
    stored = dict(
        ResultsDay.objects.filter(day__gte=since, day__lt=until)
        .values("day")
        .annotate(n=Sum("responses"))
        .order_by()
        .values_list("day", "n")
    )
    return {day for day in actual.keys() | stored.keys() if actual.get(day, 0) != (stored.get(day) or 0)}


# --- Reading ---------------------------------------------------------------------------------------


@dataclass
class Counts:
    """What the results page is built from, for some of its window; two of them add up."""

    summary: Counter = field(default_factory=Counter)  # SUMMARY_COUNTS
    # Closed questions' answers: question_id, choice, value, location_id, touchpoint_id, month, n.
    rows: list[dict] = field(default_factory=list)
    multi: Counter = field(default_factory=Counter)  # "q<pk>": answered, "q<pk>_<value>": picked
    themes: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))  # n, negative

    def add(self, other: Counts) -> None:
        self.summary.update(other.summary)
        self.rows += other.rows
        self.multi.update(other.multi)
        for theme_id, counts in other.themes.items():
            self.themes[theme_id].update(counts)


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Run the reads inside in one snapshot (PostgreSQL REPEATABLE READ): the markers, the roll-up
    and the live rest agree even if a day is rebuilt meanwhile. Inside a caller's transaction
    (tests, a shell) the reads simply join it."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def window(scope: ResponseFilter) -> dict[str, object]:
    bounds = {"day__gte": scope.date_from, "day__lte": scope.date_to}
    return {name: value for name, value in bounds.items() if value is not None}


def coverage(scope: ResponseFilter) -> list[tuple[date, datetime]]:
    """The rolled-up days of the scope's window with how far each was counted, oldest first."""
    return list(RollupDay.objects.filter(**window(scope)).order_by("day").values_list("day", "counted_until"))


def live_spans(bounds: Span, covered: list[tuple[date, datetime]]) -> list[Span]:
    """The parts of the window ``bounds`` the roll-up does not cover, as ``[start, end)`` ranges
    (None: open): every day without a marker, and each day's minutes after its ``counted_until``."""
    cursor, end = bounds
    spans: list[Span] = []
    for day, counted_until in covered:
        begins = local_midnight(day)
        if cursor is None or cursor < begins:
            spans.append((cursor, begins))
        cursor = max(cursor or begins, counted_until)
    if cursor is None or end is None or cursor < end:
        spans.append((cursor, end))
    return spans


def within(spans: list[Span], *, answers: bool = False) -> Q:
    """Responses, or with ``answers`` answers (by their own moment and their response's, so that
    PostgreSQL reads only the months of both), submitted in any of ``spans``."""
    parts = []
    for start, end in spans:
        part = submitted_between(start, end)
        parts.append(part & submitted_between(start, end, prefix="response__") if answers else part)
    if not parts or any(not part for part in parts):  # an open range on both sides: everything
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def rolled_up_counts(scope: ResponseFilter, *, closed: list[Question], multi: list[Question]) -> Counts:
    """The scope's survey, window and place summed from the roll-up: three queries."""
    place = {"location_id": scope.location_id, "touchpoint_id": scope.touchpoint_id}
    where = {"survey": scope.survey, **window(scope), **{k: v for k, v in place.items() if v is not None}}
    counts = Counts()
    summary = ResultsDay.objects.filter(**where).aggregate(
        **{name: Sum(stored) for name, stored in STORED_SUMMARY.items()}
    )
    counts.summary.update({name: n or 0 for name, n in summary.items()})
    closed_ids = {q.pk for q in closed}
    months: dict[date, datetime] = {}
    picked = {q.pk: [c["value"] for c in q.choices] for q in multi}
    # Only the FFT answers are shown by place and month; the rest as one count per answer given.
    broken_down = [q.pk for q in closed if q.kind == Question.Kind.FFT]
    for row in _answer_sums(scope, {**where, "question__in": [*closed, *multi]}, broken_down=broken_down):
        question_id, n = row["question_id"], row["n"]
        if question_id in closed_ids:
            if (month := row.get("month")) is not None:  # its local midnight, as the live count gives it
                if month not in months:
                    months[month] = local_midnight(month)
                row["month"] = months[month]
            counts.rows.append(row)
        else:  # a multiple choice: each option whose key is among the ones picked
            counts.multi[f"q{question_id}"] += n
            for value in picked[question_id]:
                if f"|{value}|" in row["choices"]:
                    counts.multi[f"q{question_id}_{value}"] += n
    themes = (
        ThemeDay.objects.filter(**where)
        .values("theme_id")
        .annotate(n=Sum("responses"), negative=Sum("negative"))
    )
    for row in themes.order_by():
        counts.themes[row["theme_id"]].update({"n": row["n"], "negative": row["negative"]})
    return counts


def whole_months(scope: ResponseFilter) -> tuple[date | None, date | None] | None:
    """The calendar months wholly inside the scope's window, as ``[first, end)`` days (None: open),
    or None when no month is."""
    first = scope.date_from
    if first is not None and first.day != 1:
        first = _next_month(first.replace(day=1))
    end = None if scope.date_to is None else (scope.date_to + timedelta(days=1)).replace(day=1)
    if first is not None and end is not None and first >= end:
        return None
    return first, end


def _answer_sums(scope: ResponseFilter, where: dict, *, broken_down: list[int]) -> Iterator[dict]:
    """Answers per question and answer given over the window, and for the ``broken_down`` questions
    per place and month too: whole months from ``AnswerMonth``, the days at either end of the
    window from ``AnswerDay`` (three queries)."""
    keys = ("question_id", "choice", "value", "choices", "location_id", "touchpoint_id")
    months = whole_months(scope)
    days = AnswerDay.objects.filter(**where)
    if months is not None:
        first, end = months
        inside = {"day__gte": first, "day__lt": end}
        inside = {name: value for name, value in inside.items() if value is not None}
        days = days.exclude(**inside) if inside else days.none()  # no window: all in whole months
        month_rows = AnswerMonth.objects.filter(
            **{k: v for k, v in where.items() if not k.startswith("day")}, **inside
        ).order_by()
        # Already one row a month per answer given and place: read as they are, not grouped again.
        yield from month_rows.filter(question__in=broken_down).values(*keys, month=F("day"), n=F("answers"))
        yield from (
            month_rows.exclude(question__in=broken_down)
            .values("question_id", "choice", "value", "choices")
            .annotate(n=Sum("answers"))
        )
    yield from days.values(*keys).annotate(month=TruncMonth("day"), n=Sum("answers")).order_by()
