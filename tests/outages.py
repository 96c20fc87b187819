"""Stand-ins for services that have gone away, for the tests of what a page does without them."""

from __future__ import annotations


class DeadCache:
    """A cache whose every call fails, as Django's Redis client does once Redis has gone away."""

    def __getattr__(self, name: str):
        raise ConnectionError("Redis went away")
