"""Every email, rendered with sample data, for Admins to read before anyone
receives one (/notifications/preview/). Nothing is saved and nothing is sent:
the builders run on unsaved objects. What each kind changes in the sample is
its declaration's preview (notifications/kinds.py)."""

from __future__ import annotations

import datetime
import re
from html import unescape
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from notifications.contexts import Item, digest_of
from notifications.emails import compose, compose_changes, thread_of
from notifications.kinds import (
    EXCERPT,
    KINDS,
    SAMPLE_NEW_ADDRESS,
    Sample,
    digest_line,
)
from notifications.models import Delivery
from tasks.models import Project, Task, TaskDetail
from users.models import User

Kind, Reason = Delivery.Kind, Delivery.Reason
# Not a kind: what a coalescing window makes of several changes to one task
# (notifications/timing.py), previewed beside the kinds.
CHANGES = "task_changes"
EXTRA = {CHANGES: "Several changes to a task, in one email"}

SAMPLE_TASK_ID = 42
SAMPLE_CREATED = datetime.datetime(2030, 3, 1, 9, 0, tzinfo=datetime.UTC)
SNAPSHOT: dict[str, Any] = {
    "task_id": SAMPLE_TASK_ID,
    "title": "Prepare the quarterly report",
    "project_id": 7,
    "project": "Finance",
    "started": int(SAMPLE_CREATED.timestamp()),
    "due_date": "2030-03-29",
    "by": "Mia Manager",
    "before": "2030-03-22",
    "after": "2030-03-29",
}

# How long ago each notification of the sample digest happened, oldest first.
DIGEST_AGES = (
    datetime.timedelta(hours=7),
    datetime.timedelta(hours=3),
    datetime.timedelta(minutes=40),
)


def sample_task() -> Task:
    task = Task(
        pk=SAMPLE_TASK_ID,
        title=SNAPSHOT["title"],
        due_date=datetime.date(2030, 3, 29),
        description="Collect the figures of every team, check them against the "
        "ledger and write the two-page summary the board reads first.",
        project=Project(
            pk=SNAPSHOT["project_id"],
            name=SNAPSHOT["project"],
            start_date=datetime.date(2030, 1, 1),
        ),
        created_at=SAMPLE_CREATED,
    )
    task._state.fields_cache["details"] = TaskDetail(task=task, priority="H")
    return task


def sample_recipient(sample: Sample) -> User:
    user = User(pk=0, username="sam", first_name="Sam", email="sam@example.com")
    user.is_active = sample.active_recipient
    user.pending_email = SAMPLE_NEW_ADDRESS
    return user


def preview(kind: str) -> EmailMultiAlternatives:
    if kind == CHANGES:
        return preview_changes()
    declared = KINDS[kind]
    recipient = sample_recipient(declared.preview)
    if declared.preview.gathers:
        digest = Delivery(kind=kind, recipient=recipient)
        return compose(digest, None, context=sample_digest(declared.preview.gathers))
    context = {**SNAPSHOT, **declared.preview.context}
    reason = sample_reason(kind)
    delivery = Delivery(kind=kind, recipient=recipient, context=context, reason=reason)
    task = sample_task()
    thread = thread_of(delivery, {task.pk: task})
    return compose(delivery, task if declared.live_task else None, thread)


def preview_changes() -> EmailMultiAlternatives:
    """An assignment, a new due date and a comment, told in one email."""
    recipient, task, now = sample_recipient(Sample()), sample_task(), timezone.now()
    told = [
        Delivery(
            kind=kind,
            recipient=recipient,
            context={**SNAPSHOT, **extra},
            reason=Reason.ASSIGNED,
            created_at=now - age,
        )
        for kind, extra, age in (
            (Kind.TASK_ASSIGNED, {}, datetime.timedelta(seconds=110)),
            (Kind.DUE_DATE_CHANGED, {}, datetime.timedelta(seconds=70)),
            (Kind.TASK_COMMENTED, {"excerpt": EXCERPT}, datetime.timedelta(seconds=15)),
        )
    ]
    return compose_changes(told[0], told[1:], {task.pk: task})


def sample_reason(kind: str) -> str:
    """Why the sample reader is told: as the person the event names, or else
    as a watcher of the task; no reason for other emails."""
    about = KINDS[kind].task
    return (about.addressed or Reason.WATCHING) if about else ""


def sample_digest(kinds: tuple[str, ...]) -> dict[str, Any]:
    now = timezone.now()
    items = [
        Item(kind, str(SNAPSHOT["title"]), {**SNAPSHOT, "excerpt": EXCERPT}, now - age)
        for kind, age in zip(kinds, DIGEST_AGES, strict=True)
    ]
    return digest_of(items, digest_line, timezone.localdate())


def html_of(message: EmailMultiAlternatives) -> str:
    [(content, _)] = message.alternatives
    return str(content)


# notifications/email/base.html's hidden preheader, up to the invisible
# characters that follow it.
PREHEADER = re.compile(r'<div class="preheader"[^>]*>(.*?)&#847;', re.DOTALL)


def preheader_of(html: str) -> str:
    """The preview text a mail client lists after an email's subject."""
    found = PREHEADER.search(html)
    return unescape(found.group(1)).strip() if found else ""
