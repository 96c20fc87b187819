from __future__ import annotations

import pytest

from servicedesk.celery import app as celery_app


@pytest.fixture
def broker_down(settings):
    """Point Celery at a port where nothing listens, with the production publish settings."""
    saved = celery_app.conf.broker_url, celery_app.conf.broker_transport_options

    def _reset_pools() -> None:
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    celery_app.conf.broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    _reset_pools()
    yield
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved
    _reset_pools()
