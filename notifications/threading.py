"""One thread per task: what every email about a task shares.

Mail clients put messages in one conversation when they name the same parent:
every email about a task carries `In-Reply-To` and `References` naming one root
id of that task, `<task.<id>.<created>@<domain>>`, which no message has. It
never changes and never grows into a chain (Discourse and Redmine do the same),
so Thunderbird, Gmail and Outlook gather the twentieth email with the first,
and JWZ's algorithm puts them under one (empty) root: tests/support/jwz.py.
Each message keeps its own Message-ID (one per delivery, the same on a re-send).
The subject is the task's, `[<project>] <title> (#<id>)`, for every event.

Emails about a deleted task are built from the snapshot taken when it was
deleted (recording.task_snapshot), which keeps the ids and the creation time.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.header import Header
from email.utils import parseaddr, quote
from typing import Any

from django.conf import settings
from django.core.mail.utils import DNS_NAME

from tasks.models import Task


@dataclass(frozen=True)
class Thread:
    """The task an email is about, as its thread needs it."""

    task_id: int
    title: str
    project_id: int
    project: str
    # When the task was created, in whole seconds since the epoch: with the id,
    # the root can never be taken by a later task that reuses the id.
    started: int

    @classmethod
    def of_task(cls, task: Task) -> Thread:
        return cls(
            task_id=task.pk,
            title=task.title,
            project_id=task.project_id,
            project=task.project.name,
            started=started(task),
        )

    @classmethod
    def of_snapshot(cls, snapshot: dict[str, Any]) -> Thread:
        """From what was recorded with the delivery (a task deleted since)."""
        return cls(
            task_id=int(snapshot.get("task_id") or 0),
            title=str(snapshot.get("title", "")),
            project_id=int(snapshot.get("project_id") or 0),
            project=str(snapshot.get("project", "")),
            started=int(snapshot.get("started") or 0),
        )

    @property
    def root_id(self) -> str:
        return f"<task.{self.task_id}.{self.started}@{mail_domain()}>"

    @property
    def list_id(self) -> str:
        """RFC 2919: the project's name as a phrase, then a unique id."""
        return f"{phrase(self.project)} <project-{self.project_id}.{mail_domain()}>"


def started(task: Task) -> int:
    return int(task.created_at.timestamp())


def thread_headers(thread: Thread, reason: str) -> dict[str, str]:
    """The headers that put an email in its task's thread and let people
    filter it: by project, by task, by why they got it."""
    root = thread.root_id
    headers = {
        "In-Reply-To": root,
        "References": root,
        "List-Id": thread.list_id,
        "X-Tasks-Project": one_line(thread.project),
        "X-Tasks-Task": str(thread.task_id),
    }
    if reason:
        headers["X-Tasks-Reason"] = str(reason)
    return headers


def phrase(name: str) -> str:
    """A name before an <id>: quoted, or an encoded word when it is not ASCII
    (Django would otherwise encode the whole header, id and all)."""
    name = one_line(name)
    if name.isascii():
        return f'"{quote(name)}"'
    return Header(name, "utf-8").encode()


def one_line(text: str) -> str:
    """No CR or LF from a name may start a new header."""
    return " ".join(text.split())


def mail_domain() -> str:
    """The domain of our From address: the right side of every id we make."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return domain or str(DNS_NAME)
