"""Signals between pillars go out after commit, to every listener, whatever one of them does."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.dispatch import Signal

from servicedesk.events import send_on_commit

pytestmark = pytest.mark.django_db


def test_every_listener_hears_it_after_commit_even_when_one_fails(django_capture_on_commit_callbacks, caplog):
    signal, heard = Signal(), []

    def broken(sender, **kwargs):
        raise RuntimeError("listener bug")

    def listener(sender, **kwargs):
        heard.append(kwargs)

    signal.connect(broken, weak=False)
    signal.connect(listener, weak=False)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        send_on_commit(signal, "thing_happened", sender=None, thing_id=7)
        assert heard == [], "nothing is sent before the change commits"

    assert heard == [{"signal": signal, "thing_id": 7}]
    assert "thing_happened receiver" in caplog.text
    assert "listener bug" in caplog.text
    assert "thing_happened sent {'thing_id': 7}" in caplog.text


def test_nothing_is_sent_when_the_change_rolls_back(django_capture_on_commit_callbacks):
    signal, heard = Signal(), []
    signal.connect(lambda sender, **kwargs: heard.append(kwargs), weak=False)

    def change_that_fails() -> None:
        with transaction.atomic():
            send_on_commit(signal, "thing_happened", sender=None, thing_id=7)
            raise ValueError("the change is refused")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValueError, match="refused"):
        change_that_fails()
    assert heard == []
