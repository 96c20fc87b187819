"""Registries: how a pillar contributes to pages it does not own, without the owner importing it.

The core and the dashboard sit on either side of the pillars (DESIGN.md, "Dependency
direction"). A core page that mentions pillar things (the opening-hours page lists the SLA
policies that follow those hours) and the dashboard that composes every pillar's panels both
ask a registry; each pillar fills it in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named contributions, in the order given by ``order`` then registration.

    Registering the same name again replaces the earlier one, so a module imported twice (tests,
    autoreload) never contributes twice.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, tuple[int, T]] = {}

    def register(self, name: str, item: T, *, order: int = 100) -> T:
        self._items[name] = (order, item)
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def __iter__(self) -> Iterator[T]:
        ranked = sorted(enumerate(self._items.values()), key=lambda pair: (pair[1][0], pair[0]))
        return iter(item for _i, (_order, item) in ranked)

    def names(self) -> list[str]:
        return list(self._items)


@dataclass(frozen=True)
class Mention:
    """A link to a pillar's object, as another app's page shows it: "High" → its edit page."""

    label: str
    url: str


# What follows the practice's opening hours (recovery: SLA policies that count opening hours only).
opening_hours_users: Registry[Callable[[], list[Mention]]] = Registry("users of the opening hours")


# Records in other pillars that follow from one of yours (a response → the incident it opened; a
# checklist run → the incidents its failed checks opened). Each contribution takes any object and
# returns mentions of what follows from it, or an empty list; pages show them with {% follow_ons %}.
follow_ons: Registry[Callable[[object], list[Mention]]] = Registry("records that follow from another")


def follow_ons_of(obj: object) -> list[Mention]:
    return [mention for contribute in follow_ons for mention in contribute(obj)]
