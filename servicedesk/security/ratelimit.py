"""A small fixed-window rate limiter on the shared cache (Redis in production).

Every public endpoint (any view marked ``login_not_required``) is limited per client
address; ``settings.RATE_LIMITS`` names tighter limits for login, password reset and
the like. When the cache is unreachable the limiter steps aside for a few seconds
rather than failing the page: patients can always give feedback.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# After a cache failure, skip limiting for this long instead of paying a timeout per request.
_CACHE_RETRY_SECONDS = 10.0
_cache_down_until = 0.0
V = TypeVar("V", bound=Callable[..., HttpResponse])


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"10/m"``, ``"5/15m"``, ``"100/h"``: that many requests per window."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"Not a rate: {text!r} (use e.g. 10/m, 5/15m, 100/h)")
        count, multiple, unit = match.groups()
        return cls(count=int(count), seconds=int(multiple or 1) * _UNIT_SECONDS[unit])


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address, or None when unknown.

    Behind ``TRUSTED_PROXY_HOPS`` proxies it is read from X-Forwarded-For, skipping only the
    hops we trust, counting from the right: a client can put anything at the left of the
    header, so the left-most value is never believed. Anything that is not an IP address is
    ignored (django-axes stores this value in an address column).
    """
    hops = settings.TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops and _is_ip(forwarded[-hops]):
            return forwarded[-hops]
    remote = request.META.get("REMOTE_ADDR", "")
    return remote if _is_ip(remote) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


OWN_PAGE = "too_many_requests_page"


def too_many_requests_page(page: Callable[[HttpRequest, int], HttpResponse]) -> Callable[[V], V]:
    """Decorate a view whose visitors over the limit see ``page(request, retry_after)`` (which sets
    the 429 status and Retry-After) instead of the generic page. The limit is still RATE_LIMITS'."""

    def decorate(view: V) -> V:
        setattr(view, OWN_PAGE, page)
        return view

    return decorate


def rule_for(view_name: str, method: str, *, public: bool) -> Rate | None:
    """The rate that applies to this view and method, or None when it is not limited."""
    rules = settings.RATE_LIMITS.get(view_name)
    if rules is None:
        if not public:
            return None
        rules = settings.RATE_LIMITS["public"]
    text = rules.get(method, rules.get("*"))
    return Rate.parse(text) if text else None


def _count(key: str, *, timeout: int) -> int:
    """Add one to the window's counter and return it.

    On Redis this is one round trip (SET NX with its expiry, then INCR, pipelined): it runs on
    every public request, a patient's kiosk post among them. Django's cache API would need three
    (add, then exists and incr) once the window has begun. Elsewhere (the embedded default's
    local-memory cache, tests) the portable calls do the same.
    """
    redis = getattr(cache, "_cache", None)  # Django's RedisCache keeps its client there
    if hasattr(redis, "get_client"):
        full_key = cache.make_and_validate_key(key)
        pipe = redis.get_client(full_key, write=True).pipeline(transaction=False)
        pipe.set(full_key, 0, ex=timeout, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[-1])
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=timeout)
        return 1


def hit(bucket: str, *, client: str, rate: Rate, now: float | None = None) -> int | None:
    """Count one request from ``client`` in ``bucket``.

    Returns None while under the limit, or the seconds until the window resets once over it.
    """
    global _cache_down_until
    now = time.time() if now is None else now
    if now < _cache_down_until:
        return None
    window = int(now // rate.seconds)
    # Hashed: the cache never holds a visitor's address in the clear.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{client}".encode()).hexdigest()[:24]
    key = f"rl:{bucket}:{rate.seconds}:{digest}:{window}"
    try:
        count = _count(key, timeout=rate.seconds + 1)
    except Exception:  # a dead cache must never take the page down with it
        _cache_down_until = now + _CACHE_RETRY_SECONDS
        logger.warning("rate limiter: cache unreachable, not limiting for %ss", int(_CACHE_RETRY_SECONDS))
        return None
    if count > rate.count:
        return max(1, int((window + 1) * rate.seconds - now))
    return None
