"""The project's Redis cache backend: Django's, keeping the client it builds for each server."""

from __future__ import annotations

from servicedesk.caching import RedisCache


def test_the_redis_cache_builds_one_client_and_still_caches(redis_url):
    backend = RedisCache(redis_url, {"KEY_PREFIX": "test-kept-client"})
    first = backend._cache.get_client(write=True)
    assert backend._cache.get_client("any key") is first  # one server: reads and writes share it
    backend.set("answer", 42, timeout=30)
    assert backend.get("answer") == 42
    assert backend.incr("answer") == 43
    backend.delete("answer")
    assert backend.get("answer") is None
