from __future__ import annotations

import pytest

from delivery.signals import check_failed


@pytest.fixture
def check_failed_calls():
    """Every check_failed sent during the test, as (result_id, run_id)."""
    calls: list[tuple[int, int]] = []

    def receiver(sender, result_id: int, run_id: int, **kwargs) -> None:
        calls.append((result_id, run_id))

    check_failed.connect(receiver, dispatch_uid="tests.delivery.check_failed_calls")
    yield calls
    check_failed.disconnect(dispatch_uid="tests.delivery.check_failed_calls")
