"""Computed pages kept in the shared cache under keys that name the data they were computed from.

A key carries everything the result depends on (the filters, and a cheap "version" of the
underlying rows), so a change to the data is a new key and nothing has to be invalidated;
the timeout only bounds memory and anything the version cannot see. A cache outage costs
speed, never the page: the result is then computed as if nothing were cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

logger = logging.getLogger(__name__)

T = TypeVar("T")


def cache_key(namespace: str, *parts: object) -> str:
    """A short, safe key for ``parts`` (their repr: use values whose repr is stable)."""
    return f"{namespace}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"


def cached(key: str, compute: Callable[[], T], *, timeout: int) -> T:
    """``compute()``'s result, from the cache when another request already computed it."""
    try:
        value = cache.get(key)
    except Exception:  # Redis slow or gone: compute instead
        logger.warning("cache unavailable; computing %s", key.split(":", 1)[0], exc_info=True)
        value = None
    if value is not None:
        return value
    value = compute()
    with contextlib.suppress(Exception):  # as above: the page matters, the copy does not
        cache.set(key, value, timeout=timeout)
    return value


def forget(key: str) -> None:
    """Drop the copy under ``key`` (a value whose key cannot name its version); an outage leaves it
    to expire with its timeout."""
    with contextlib.suppress(Exception):
        cache.delete(key)
