"""Race conditions on purpose: run a few calls in their own threads, released at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def at_once(*calls: Callable[[], Any], timeout: float = 30) -> list[Any]:
    """Each call in its own thread (so its own database connection), all released together by a
    barrier; their results in the order given. A call that raised makes this raise the same
    exception here, in the test's thread, where it fails the test (a thread's own would vanish).
    Each thread closes its connections when done, so the test database can be flushed."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"a concurrent call was still running after {timeout} s")
    if errors:
        raise errors[0]
    return results
