"""Pages of long lists without counting them: what a list of five years of rows costs is one page.

Django's ``Paginator`` counts the whole list to number its pages. At a five-year practice's size
that ``COUNT(*)`` is the slowest query a list runs (a million responses, a hundred thousand
incidents or checklist runs), and it grows with the years while the page shown does not. The
lists of the app's growing tables page with ``UncountedPaginator`` instead: a page reads one row
more than it shows, to know whether there is a next one, and the links say "Page 3", "Newer",
"Older" rather than "Page 3 of 4,000". Where a list tells its size, ``count_up_to`` counts at most
``COUNT_UP_TO`` rows and says "more than 1,000" beyond that, a cost that stops growing.

The rows of a page come in the list's own order; every such list orders by indexed columns
(newest first, then the primary key), so deep pages cost an index scan of the rows before them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet

COUNT_UP_TO = 1000
# The deepest row a page may start at. Past it a page number is refused like one past the end:
# ``?page=99999999999999999999`` would otherwise be an OFFSET no database accepts, and a very deep
# one a scan of every row before it, for a page nobody reads.
DEEPEST_OFFSET = 1_000_000


class UncountedPage(Page):
    """A page that knows whether another follows from the extra row it read, not from a count."""

    def __init__(self, object_list, number: int, paginator: UncountedPaginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def start_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + 1 if self.object_list else 0

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class UncountedPaginator(Paginator):
    """A ``Paginator`` that never counts its list: ``page(n)`` reads at most ``per_page + 1`` rows.

    Works wherever Django's does (``ListView.paginator_class``, ``get_page``); ``count`` and
    ``num_pages`` are not known, so templates show ``page.number`` and the Newer/Older links only
    (``templates/_pagination.html`` does so when ``page.paginator.uncounted``).
    """

    uncounted = True

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (number - 1) * self.per_page > DEEPEST_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number) -> UncountedPage:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        rows = list(self.object_list[start : start + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return UncountedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def get_page(self, number) -> UncountedPage:
        """The page asked for; page 1 for a page number that is not one or is past the end."""
        try:
            return self.page(number)
        except (PageNotAnInteger, EmptyPage):
            return self.page(1)

    @property
    def count(self) -> int:
        raise TypeError("An UncountedPaginator does not count its list: use count_up_to() for a size.")


class UncountedPagesMixin:
    """For a ``ListView``: pages from ``UncountedPaginator``, and a page number that is not one
    (``?page=last`` included) or is past the end shows the first page, as ``get_page`` does."""

    paginator_class = UncountedPaginator

    def paginate_queryset(self, queryset, page_size: int):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


@dataclass(frozen=True)
class BoundedCount:
    """How many rows a list has, exactly up to ``COUNT_UP_TO`` and "more than that" beyond."""

    n: int
    more: bool

    def __int__(self) -> int:
        return self.n


def count_up_to(queryset: QuerySet, limit: int | None = None) -> BoundedCount:
    """Count at most ``limit`` (``COUNT_UP_TO``) rows: one query that stops reading at ``limit + 1``."""
    limit = limit or COUNT_UP_TO
    n = queryset.order_by().values("pk")[: limit + 1].count()  # the key alone: no joins or annotations
    return BoundedCount(n=min(n, limit), more=n > limit)
