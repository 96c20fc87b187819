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
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.cache.backends import redis as django_redis

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


class _RedisClients(django_redis.RedisCacheClient):
    """Django's Redis client, keeping the ``redis.Redis`` it builds for each connection pool.

    Django builds a new one (with its table of some 170 reply callbacks) for every cache call: a
    millisecond on every request that reads its session or a cached page, and on every public
    request through the rate limiter. A ``redis.Redis`` is safe to share; the pool does the work.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """``settings.CACHES``'s backend with Redis: Django's, with ``_RedisClients``."""

    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = _RedisClients
