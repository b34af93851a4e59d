"""Notifications off and on again: every receiver of notifications/receivers.py
disconnected, not only those of assignments (a task's creation also tells its
project's watchers, through the activity receiver, and that is notifications'
work too; a baseline that kept it would hide it from the ratios).

The receivers are imported inside the functions, so that an entry point
(bench/quiet.py) can import this module before Django is set up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def disconnect_notifications() -> None:
    from notifications.receivers import CONNECTIONS

    for each in CONNECTIONS:
        if not each.signal.disconnect(sender=each.sender, dispatch_uid=each.uid):
            raise RuntimeError(f"{each.uid} was not connected: the baseline is wrong")


@contextmanager
def notifications_off() -> Iterator[None]:
    from notifications.receivers import connect_receivers

    try:
        disconnect_notifications()
        yield
    finally:
        connect_receivers()
