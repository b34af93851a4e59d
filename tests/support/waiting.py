"""Waiting on a condition with a deadline: the suite never sleeps a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object],
    timeout: float = 20.0,
    what: str = "the condition",
    interval: float = 0.05,
) -> None:
    """Return as soon as `condition()` is true; fail once `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)
