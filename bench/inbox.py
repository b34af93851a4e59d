"""Counting what the SMTP server accepted, by (recipient, marker).

Every task title the bench makes carries a marker such as `tp-00012`; an email is
identified by its recipient and that marker, so a message sent twice is a
duplicate whatever its Message-ID.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devtools.smtp import Received
    from users.models import User

Key = tuple[str, str]  # (recipient, marker)
MARKER = re.compile(r"\b([a-z]{2,12}-\d{5})\b")


def marker(prefix: str, index: int) -> str:
    """`prefix` is 2 to 12 lowercase letters: MARKER reads nothing else."""
    return f"{prefix}-{index:05d}"


def markers(prefix: str, count: int) -> list[str]:
    return [marker(prefix, index) for index in range(count)]


def expected_keys(tags: Iterable[str], users: Iterable[User]) -> set[Key]:
    emails = [user.email.lower() for user in users]
    return {(email, tag) for tag in tags for email in emails}


def message_marker(item: Received) -> str:
    """The marker in the Subject header, read off the raw message (no parse)."""
    found = MARKER.search(item.content.decode("latin-1"))
    return found.group(1) if found else ""


def keys_of(item: Received) -> list[Key]:
    tag = message_marker(item)
    return [(address.lower(), tag) for address in item.rcpt_tos]


@dataclass
class Arrivals:
    """What arrived of a phase's expected emails."""

    expected: int
    accepted: int  # distinct expected emails that arrived
    lost: int
    duplicated: int  # extra copies of expected emails
    unexpected: int  # arrived, carrying this phase's marker, but never expected
    max_copies: int

    @property
    def intact(self) -> bool:
        return not (self.lost or self.duplicated)

    def __add__(self, other: Arrivals) -> Arrivals:
        """Two phases' emails counted as one."""
        return Arrivals(
            expected=self.expected + other.expected,
            accepted=self.accepted + other.accepted,
            lost=self.lost + other.lost,
            duplicated=self.duplicated + other.duplicated,
            unexpected=self.unexpected + other.unexpected,
            max_copies=max(self.max_copies, other.max_copies),
        )


class Inbox:
    """Counts the accepted messages of one SMTP server (or several together) by
    key, reading each one once."""

    def __init__(self, *received: list[Received]) -> None:
        self._lists = received
        self._seen = [0] * len(received)
        self.copies: Counter[Key] = Counter()
        self.first_at: dict[Key, float] = {}

    def refresh(self) -> None:
        for index, received in enumerate(self._lists):
            new = received[self._seen[index] :]
            self._seen[index] += len(new)
            for item in new:
                for key in keys_of(item):
                    self.copies[key] += 1
                    first = self.first_at.get(key, item.accepted_at)
                    self.first_at[key] = min(first, item.accepted_at)

    def messages(self) -> list[Received]:
        """Every accepted message, of every server counted."""
        return [item for received in self._lists for item in list(received)]

    def arrived(self, expected: set[Key]) -> int:
        self.refresh()
        return sum(1 for key in expected if key in self.copies)

    def tally(self, expected: set[Key], prefix: str) -> Arrivals:
        """The expected emails against everything that carries `prefix`'s marker."""
        self.refresh()
        mine = {k: n for k, n in self.copies.items() if k[1].startswith(prefix + "-")}
        arrived = {key for key in mine if key in expected}
        return Arrivals(
            expected=len(expected),
            accepted=len(arrived),
            lost=len(expected - arrived),
            duplicated=sum(mine[key] - 1 for key in arrived),
            unexpected=sum(n for key, n in mine.items() if key not in expected),
            max_copies=max(mine.values(), default=0),
        )

    def last_arrival(self, expected: set[Key]) -> float:
        """When the last of these emails was accepted (time.monotonic); 0 if none."""
        self.refresh()
        return max((self.first_at.get(key, 0.0) for key in expected), default=0.0)

    def first_arrival_after(self, expected: set[Key], moment: float) -> float:
        self.refresh()
        times = (self.first_at.get(key, 0.0) for key in expected)
        return min((t for t in times if t >= moment), default=float("nan"))

    def arrival_times(self, expected: set[Key]) -> list[float]:
        """When each of these emails that arrived was first accepted, in order."""
        self.refresh()
        return sorted(self.first_at[key] for key in expected if key in self.first_at)

    def accepted_for(self, prefix: str) -> int:
        """Messages accepted for addresses that start with `prefix`."""
        received = self.messages()
        return sum(1 for m in received for r in m.rcpt_tos if r.startswith(prefix))

    def first_accepted_to(self, address: str) -> float | None:
        """When the first message to this address was accepted, if one was."""
        for item in self.messages():
            if address in item.rcpt_tos:
                return item.accepted_at
        return None

    def repeated_message_ids(self, prefix: str) -> int:
        """Extra copies of a Message-ID among the messages of `prefix`'s markers."""
        ids = Counter(
            item.message_id
            for item in self.messages()
            if message_marker(item).startswith(prefix + "-")
        )
        return sum(n - 1 for n in ids.values() if n > 1)


def wait_until(
    condition: Callable[[], bool], timeout: float, interval: float = 0.05
) -> bool:
    """Poll condition until true or timeout; bounded in time by construction."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
