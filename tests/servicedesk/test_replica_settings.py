"""DATABASE_REPLICA_URL: a replica alias, router and middleware when set; nothing at all when not
(servicedesk/replica.py). The reads themselves are tested against a real standby in tests/replica."""

from __future__ import annotations

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from servicedesk import replica
from tests.servicedesk.test_settings import load_settings

PRIMARY = "postgres://postgres@127.0.0.1:5432/servicedesk"
STANDBY = "postgres://reader@standby.example.org:5432/servicedesk"


def _setup(monkeypatch, **variables: str) -> tuple[dict, list[str], tuple]:
    for name in ("DATABASE_REPLICA_URL", "REPLICA_STICKY_SECONDS", "REPLICA_MAX_LAG_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    env = environ.Env()
    databases = {"default": {**env.db_url_config(PRIMARY), "CONN_MAX_AGE": 60}}
    middleware = ["a.Security", "django.contrib.sessions.middleware.SessionMiddleware", "b.Csrf"]
    result = replica.setup(env, databases, middleware)
    return databases, middleware, result


def test_without_a_replica_url_there_is_no_replica_alias_router_or_middleware(monkeypatch):
    databases, middleware, (routers, sticky, max_lag) = _setup(monkeypatch)
    assert list(databases) == ["default"]
    assert routers == []
    assert replica.MIDDLEWARE not in middleware
    assert (sticky, max_lag) == (15, 30)


def test_a_replica_url_adds_the_standby_its_router_and_the_middleware_inside_the_sessions(monkeypatch):
    databases, middleware, (routers, sticky, max_lag) = _setup(
        monkeypatch, DATABASE_REPLICA_URL=STANDBY, REPLICA_STICKY_SECONDS="20", REPLICA_MAX_LAG_SECONDS="5"
    )
    standby = databases["replica"]
    assert (standby["HOST"], standby["USER"]) == ("standby.example.org", "reader")
    assert standby["CONN_MAX_AGE"] == 60  # the primary's
    assert standby["TEST"] == {"MIRROR": "default"}  # a test run never creates a database on a standby
    assert routers == [replica.ROUTER]
    assert (
        middleware.index(replica.MIDDLEWARE)
        == middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    )
    assert (sticky, max_lag) == (20, 5)


@pytest.mark.parametrize(
    "variables",
    [
        {"DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3"},
        {"DATABASE_REPLICA_URL": "mysql://reader@standby.example.org/servicedesk"},
        {"DATABASE_REPLICA_URL": STANDBY, "REPLICA_MAX_LAG_SECONDS": "soon"},
        {"REPLICA_STICKY_SECONDS": "-1"},
    ],
)
def test_a_bad_replica_setting_is_a_configuration_error(monkeypatch, variables):
    with pytest.raises(ImproperlyConfigured):
        _setup(monkeypatch, **variables)


def test_a_replica_needs_a_postgresql_primary(monkeypatch):
    monkeypatch.setenv("DATABASE_REPLICA_URL", STANDBY)
    with pytest.raises(ImproperlyConfigured, match="needs PostgreSQL"):
        replica.setup(environ.Env(), {"default": {"ENGINE": "django.db.backends.sqlite3"}}, [])


def test_the_settings_module_wires_the_replica_only_when_asked():
    without = load_settings(
        {"DEBUG": "1", "DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": ""},
        "sorted(settings.DATABASES), settings.DATABASE_ROUTERS",
    )
    assert without.stdout.strip() == "(['default'], [])", without.stderr
    with_replica = load_settings(
        {"DEBUG": "1", "DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": STANDBY},
        "sorted(settings.DATABASES), settings.DATABASE_ROUTERS, settings.REPLICA_STICKY_SECONDS",
    )
    expected = "(['default', 'replica'], ['servicedesk.replica.ReplicaRouter'], 15)"
    assert with_replica.stdout.strip() == expected, with_replica.stderr
