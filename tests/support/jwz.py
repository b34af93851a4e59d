"""Jamie Zawinski's message threading algorithm, as mail clients use it.

https://www.jwz.org/doc/threading.html: Netscape's, then Mozilla Thunderbird's,
and the one RFC 5256 (IMAP THREAD=REFERENCES) describes. Given messages with
their Message-ID, References and In-Reply-To and subjects, it returns the
threads a reader would see. Small and literal, for the tests: the steps are
numbered as on the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw)(\[\d+\])?:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Message:
    message_id: str
    subject: str
    references: str = ""
    in_reply_to: str = ""

    def parent_ids(self) -> list[str]:
        """References, or else the first id of In-Reply-To (step 1B)."""
        ids = MESSAGE_ID.findall(self.references)
        if not ids:
            ids = MESSAGE_ID.findall(self.in_reply_to)[:1]
        return ids


@dataclass(eq=False)
class Container:
    message: Message | None = None
    parent: Container | None = None
    children: list[Container] = field(default_factory=list)

    def is_reachable_from(self, other: Container) -> bool:
        """True when `other` is this container or one of its descendants."""
        return other is self or any(c.is_reachable_from(other) for c in self.children)

    def adopt(self, child: Container) -> None:
        if child.parent is not None:
            child.parent.children.remove(child)
        child.parent = self
        self.children.append(child)

    def messages(self) -> Iterator[Message]:
        if self.message is not None:
            yield self.message
        for child in self.children:
            yield from child.messages()

    @property
    def subject(self) -> str:
        found = self.message or next(iter(self.messages()), None)
        return base_subject(found.subject) if found else ""


def base_subject(subject: str) -> str:
    return REPLY_PREFIX.sub("", subject).strip()


def thread(messages: Iterable[Message], *, by_subject: bool = True) -> list[Container]:
    """The root set: one container per thread. Without `by_subject` (step 5),
    only the headers thread, as Thunderbird does by default for subjects
    without "Re:"."""
    table: dict[str, Container] = {}
    for message in messages:  # 1
        this = table.setdefault(message.message_id, Container())
        this.message = message  # 1A
        previous = None
        for reference in message.parent_ids():  # 1B
            container = table.setdefault(reference, Container())
            linkable = previous is not None and container.parent is None
            if linkable and not container.is_reachable_from(previous):
                previous.adopt(container)
            previous = container
        if previous is None and this.parent is not None:
            this.parent.children.remove(this)  # 1C: its own word is final
            this.parent = None
        elif previous is not None and not this.is_reachable_from(previous):
            previous.adopt(this)  # 1C
    roots = [c for c in table.values() if c.parent is None]  # 2
    roots = prune(roots, at_root=True)  # 4
    return group_by_subject(roots) if by_subject else roots  # 5


def prune(containers: list[Container], *, at_root: bool) -> list[Container]:
    kept: list[Container] = []
    for container in containers:
        container.children = prune(container.children, at_root=False)
        for child in container.children:
            child.parent = container
        if container.message is None and not container.children:
            continue  # 4A: nothing in it
        promote = container.message is None and (
            not at_root or len(container.children) == 1
        )
        kept.extend(container.children if promote else [container])  # 4B
    return kept


def group_by_subject(roots: list[Container]) -> list[Container]:
    """5: roots with the same subject are one thread (a message whose parent
    nobody has, and one that started it)."""
    by_subject: dict[str, Container] = {}
    grouped: list[Container] = []
    for root in roots:
        subject = root.subject
        if not subject or subject not in by_subject:
            by_subject.setdefault(subject, root)
            grouped.append(root)
            continue
        keeper = by_subject[subject]
        if keeper.message is None and root.message is None:
            for child in list(root.children):
                keeper.adopt(child)
        elif keeper.message is None:
            keeper.adopt(root)
        else:
            merged = Container()
            grouped[grouped.index(keeper)] = merged
            merged.adopt(keeper)
            merged.adopt(root)
            by_subject[subject] = merged
    return grouped
