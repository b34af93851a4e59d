"""What every phase of a run works with: the running stack, the SMTP server's
inbox, the bench's manager, project and people, and the current workers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench import data
from bench.inbox import Inbox, Key, wait_until
from bench.rows import count_rows
from bench.stack import Stack, cpu_seconds
from devtools.processes import Process
from devtools.smtp import SMTPServer

if TYPE_CHECKING:
    from tasks.models import Project
    from users.models import User


@dataclass
class Rig:
    stack: Stack
    smtp: SMTPServer
    inbox: Inbox
    manager: User
    project: Project
    people: list[User]  # 100 Employees: emp00000@example.com ...
    workers: list[Process] = field(default_factory=list)
    worker_env: dict[str, str] = field(default_factory=dict)  # over the stack's

    @classmethod
    def prepare(cls, stack: Stack, project: str) -> Rig:
        """The manager, 100 Employees and a project, in the stack's database."""
        assert stack.smtp is not None
        return cls(
            stack=stack,
            smtp=stack.smtp,
            inbox=Inbox(stack.smtp.received),
            manager=data.create_manager(),
            people=data.create_employees("emp", 100),
            project=data.create_project(project),
        )

    def wait_for(
        self, expected: set[Key], timeout: float, ids: range | None = None
    ) -> bool:
        """Until every email arrived, or (given its rows) none is left to send."""

        def settled() -> bool:
            if self.inbox.arrived(expected) >= len(expected):
                return True
            return ids is not None and count_rows(ids, "queued", "sending") == 0

        return wait_until(settled, timeout, 0.2)

    def wait_for_count(
        self, expected: set[Key], count: int, timeout: float, interval: float = 0.05
    ) -> bool:
        """Until `count` of these emails arrived."""
        return wait_until(
            lambda: self.inbox.arrived(expected) >= count, timeout, interval
        )

    @contextlib.contextmanager
    def answering(self, **behaviour: object) -> Iterator[None]:
        """The SMTP server answering with these Behaviour fields during the block."""
        before = {name: getattr(self.smtp.behaviour, name) for name in behaviour}
        for name, value in behaviour.items():
            setattr(self.smtp.behaviour, name, value)
        try:
            yield
        finally:
            for name, value in before.items():
                setattr(self.smtp.behaviour, name, value)

    def start_workers(
        self, concurrencies: Sequence[int], name: str = "", **env: str
    ) -> None:
        """Stop the current workers (a warm shutdown), then start one worker
        instance per concurrency, named `name1`, `name2` ... when a name is given."""
        for worker in self.workers:
            self.stack.stop_worker(worker)
        self.worker_env = env
        self.workers = [
            self.stack.start_worker(
                concurrency, name=f"{name}{n}" if name else "", **env
            )
            for n, concurrency in enumerate(concurrencies, start=1)
        ]

    def worker_cpu(self) -> float:
        """CPU seconds the current workers and their pool processes have used."""
        return sum(cpu_seconds(worker.pid) for worker in self.workers)
