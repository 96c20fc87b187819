"""Reads from a streaming replica, only where a view opted in (README, "Reads from a replica").

With ``DATABASE_REPLICA_URL`` set, the settings gain a second database, ``replica`` (a PostgreSQL
hot standby streaming from the primary), this module's router and its middleware. Nothing else
changes: every read goes to the primary unless it runs inside ``reads_from_replica`` (a view
decorator, or a context manager for a report built outside a request), and every write goes to
the primary always. Inside that scope a read goes to the replica unless

1. the person wrote in the last ``REPLICA_STICKY_SECONDS`` (a signed cookie, below), or this
   request has written data already: they read their own writes from the primary;
2. the replica is down, is not a standby, or lags more than ``REPLICA_MAX_LAG_SECONDS`` (checked
   at most every ``HEALTH_SECONDS`` per process, logged when it is not used);
3. the model is one whose staleness would be a security hole (sessions, lockouts, second factors).

A replica that fails in the middle of a GET is forgotten for ``HEALTH_SECONDS`` and the view runs
again on the primary, so the page still comes.

Why a cookie for "wrote recently" and not the session: it needs no query (a session in the
database would cost a read, and a write to mark it, on exactly the requests we try to lighten), it
works for anonymous people too (a patient answering a survey, then reading the thank-you page),
and it is signed, so it cannot be forged to push reads anywhere: at worst a person reads the
primary, which is always correct. It holds no personal data, only the signature's timestamp.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
STICKY_COOKIE = "sd_primary"
_SALT = "servicedesk.replica.sticky"
HEALTH_SECONDS = 5
POSTGRESQL = "django.db.backends.postgresql"
ROUTER = "servicedesk.replica.ReplicaRouter"
MIDDLEWARE = "servicedesk.replica.ReplicaStickinessMiddleware"
# Read from the primary always: a session ended a second ago, a lockout or a used one-time code
# must not come back from a standby that has not replayed it yet.
PRIMARY_ONLY_APPS = frozenset({"sessions", "axes", "otp_totp", "django_otp", "otp_static"})
# Writing one of these does not move the rest of the request to the primary: the audit row of a
# read or an export is never read back by the page that writes it (it still makes the person sticky).
BOOKKEEPING_MODELS = frozenset({"security.auditevent"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def setup(
    env: Any, databases: dict[str, dict[str, Any]], middleware: list[str]
) -> tuple[list[str], int, int]:
    """Settings for ``DATABASE_REPLICA_URL``: adds the ``replica`` database to ``databases`` and the
    middleware to ``middleware`` when it is set; returns ``(DATABASE_ROUTERS, REPLICA_STICKY_SECONDS,
    REPLICA_MAX_LAG_SECONDS)``. Unset, nothing is added and the router list is empty."""
    sticky = _seconds(env, "REPLICA_STICKY_SECONDS", default=15)
    max_lag = _seconds(env, "REPLICA_MAX_LAG_SECONDS", default=30)
    url = env.str("DATABASE_REPLICA_URL", default="")
    if not url:
        return [], sticky, max_lag
    primary = databases[DEFAULT_DB_ALIAS]
    try:
        replica = env.db_url_config(url)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL is not a database URL: {exc}") from None
    if primary.get("ENGINE") != POSTGRESQL or replica.get("ENGINE") != POSTGRESQL:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs PostgreSQL: a postgres://… standby of the postgres://… DATABASE_URL."
        )
    replica["CONN_MAX_AGE"] = primary.get("CONN_MAX_AGE", 0)
    replica["CONN_HEALTH_CHECKS"] = True
    # A dead standby costs a page at most this long before the primary answers instead.
    replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # Tests never create or flush a database on a read-only standby: it is the primary's copy.
    replica["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
    databases[REPLICA] = replica
    # Inside the session middleware: the session's own save after the view is not a person's write.
    sessions = middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    middleware.insert(sessions + 1, MIDDLEWARE)
    return [ROUTER], sticky, max_lag


def _seconds(env: Any, name: str, *, default: int) -> int:
    raw = env.str(name, default=str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number of seconds; got {raw!r}.") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must be 0 or more; got {value}.")
    return value


# --- Where a read goes -----------------------------------------------------------------------------


@dataclass
class _Request:
    """What this request has done, for the cookie and for reads after a write."""

    sticky: bool  # wrote within REPLICA_STICKY_SECONDS before this request
    wrote: bool  # a write method, or any write to the primary during this request


@dataclass
class _Scope:
    """One ``reads_from_replica`` block: the replica's health is asked once, at its first read."""

    healthy: bool | None = None
    wrote: bool = False  # wrote data (not bookkeeping) inside the block: read it back from the primary
    used_replica: bool = False
    request: _Request | None = field(default=None)

    def read_from_replica(self) -> bool:
        if self.wrote or (self.request is not None and self.request.sticky):
            return False
        if self.healthy is None:
            self.healthy = replica_usable()
        if self.healthy:
            self.used_replica = True
        return self.healthy


_request: ContextVar[_Request | None] = ContextVar("servicedesk_replica_request", default=None)
_scope: ContextVar[_Scope | None] = ContextVar("servicedesk_replica_scope", default=None)


class ReplicaRouter:
    """Reads inside ``reads_from_replica`` to the replica when it may serve them; all else to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        scope = _scope.get()
        if scope is None or model._meta.app_label in PRIMARY_ONLY_APPS:
            # Named, not None: Django would otherwise follow an instance hint to the replica.
            return DEFAULT_DB_ALIAS
        return REPLICA if scope.read_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        request = _request.get()
        if request is not None:
            request.wrote = True
        scope = _scope.get()
        if scope is not None and model._meta.label_lower not in BOOKKEEPING_MODELS:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica is the primary's copy: one database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaStickinessMiddleware:
    """Marks a person who writes so that their next reads, for ``REPLICA_STICKY_SECONDS``, come from
    the primary: a signed cookie set on the response of any request that wrote (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _Request(sticky=_is_sticky(request), wrote=request.method not in _SAFE_METHODS)
        token = _request.set(state)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if state.wrote and settings.REPLICA_STICKY_SECONDS:
            response.set_signed_cookie(
                STICKY_COOKIE,
                "1",
                salt=_SALT,
                max_age=settings.REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def _is_sticky(request: HttpRequest) -> bool:
    if STICKY_COOKIE not in request.COOKIES:
        return False
    value = request.get_signed_cookie(
        STICKY_COOKIE, default=None, salt=_SALT, max_age=settings.REPLICA_STICKY_SECONDS
    )
    return value is not None


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextlib.contextmanager
def replica_reads() -> Iterator[_Scope]:
    """The block's reads may come from the replica (a report built by a task, a command)."""
    scope = _Scope(request=_request.get())
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def reads_from_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A GET or HEAD of ``view`` reads from the replica when it may (module docstring), streamed
    content included; if the replica fails under it, the view runs again on the primary."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not replica_configured():
            return view(request, *args, **kwargs)
        try:
            with replica_reads() as scope:
                response = view(request, *args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if not scope.used_replica:
                raise
            _forget_replica(f"it failed during a request ({_first_line(exc)})")
            logger.warning("replica failed under %s; the view ran again on the primary", request.path)
            return view(request, *args, **kwargs)
        if isinstance(response, StreamingHttpResponse) and scope.used_replica:
            response.streaming_content = _within(scope, response.streaming_content)
        return response

    return wrapped


def _within(scope: _Scope, chunks: Iterable[Any]) -> Iterator[Any]:
    """A streamed body (a CSV of every response) read as its view was: the server iterates it after
    the view has returned, outside the view's context."""
    iterator = iter(chunks)
    while True:
        token = _scope.set(scope)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _scope.reset(token)
        yield chunk


# --- Is the replica fit to read from ---------------------------------------------------------------


@dataclass(frozen=True)
class _Health:
    usable: bool
    checked_at: float


_health: _Health | None = None
_health_lock = threading.Lock()


def replica_usable() -> bool:
    """Whether reads may go to the replica now: asked of the databases at most every HEALTH_SECONDS
    per process (the answer is cheap to be wrong about for a few seconds: the lag limit has room)."""
    global _health
    health = _health
    if health is not None and time.monotonic() - health.checked_at < HEALTH_SECONDS:
        return health.usable
    with _health_lock:
        reason = _unusable_because()
        if reason:
            logger.warning("reads from the replica go to the primary: %s", reason)
        _health = _Health(usable=reason is None, checked_at=time.monotonic())
        return _health.usable


def forget_health() -> None:
    """The next read asks the replica again (tests; after a failover)."""
    global _health
    _health = None


def _forget_replica(reason: str) -> None:
    global _health
    logger.warning("reads from the replica go to the primary: %s", reason)
    _health = _Health(usable=False, checked_at=time.monotonic())
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()


def _unusable_because() -> str | None:
    """Why the replica may not serve reads now, or None when it may.

    1. It must answer and be in recovery (a standby; a promoted one has left the primary behind).
    2. It is caught up when it has replayed everything the primary has written (compare LSNs: an
       idle primary writes no transactions, so the time of the last one replayed goes stale
       without any lag).
    3. Otherwise its lag is the time since the last transaction it replayed, which overstates the
       lag after an idle spell: erring towards the primary, never towards stale pages.
    """
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
                " extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
            )
            in_recovery, replayed, since_replay = cursor.fetchone()
    except DatabaseError as exc:
        with contextlib.suppress(DatabaseError):
            connections[REPLICA].close()
        return f"it cannot be reached ({_first_line(exc)})"
    if not in_recovery or replayed is None:
        return "it is not a standby in recovery"
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [replayed])
        (behind,) = cursor.fetchone()
    if behind <= 0:
        return None
    limit = settings.REPLICA_MAX_LAG_SECONDS
    if since_replay is None or since_replay > limit:
        lag = "unknown" if since_replay is None else f"{since_replay:.0f} s"
        return f"it lags {lag} ({int(behind)} bytes behind), over REPLICA_MAX_LAG_SECONDS={limit}"
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
