"""Every email, rendered with sample data, for Admins to read before anyone
receives one (/notifications/preview/). Nothing is saved and nothing is sent:
the builders run on unsaved objects."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from notifications.digests import Item
from notifications.emails import CONTEXTS, absolute_url, digest_line, make_message
from notifications.models import Delivery
from tasks.models import Project, Task, TaskDetail
from users.models import User

Kind = Delivery.Kind
SAMPLE_TASK_ID = 0
SNAPSHOT: dict[str, Any] = {
    "task_id": SAMPLE_TASK_ID,
    "title": "Prepare the quarterly report",
    "project": "Finance",
    "due_date": "2030-03-29",
    "by": "Mia Manager",
    "before": "2030-03-22",
    "after": "2030-03-29",
    "excerpt": "Can we move the review to Friday? The numbers from May are not in yet.",
}


def sample_task() -> Task:
    task = Task(
        pk=SAMPLE_TASK_ID,
        title=SNAPSHOT["title"],
        due_date=datetime.date(2030, 3, 29),
        description="Collect the figures of every team, check them against the "
        "ledger and write the two-page summary the board reads first.",
        project=Project(name="Finance", start_date=datetime.date(2030, 1, 1)),
    )
    task._state.fields_cache["details"] = TaskDetail(task=task, priority="H")
    return task


# Account emails that go to an address of their own (Delivery.address).
NEW_ADDRESS = "sam.new@example.com"
ADDRESSED: dict[str, dict[str, str]] = {
    Kind.EMAIL_CHANGE: {"to": NEW_ADDRESS},
    Kind.EMAIL_CHANGE_NOTICE: {"to": "sam@example.com", "new_email": NEW_ADDRESS},
}


def sample_recipient(kind: str) -> User:
    user = User(pk=0, username="sam", first_name="Sam", email="sam@example.com")
    user.is_active = kind != Kind.ACTIVATION
    user.pending_email = NEW_ADDRESS
    return user


def preview(kind: str) -> EmailMultiAlternatives:
    recipient = sample_recipient(kind)
    if kind == Kind.DIGEST:
        return make_message("digest", recipient, sample_digest(), kind)
    context = {**SNAPSHOT, **ADDRESSED.get(kind, {})}
    delivery = Delivery(kind=kind, recipient=recipient, context=context)
    template_name, context = CONTEXTS[kind](delivery, {SAMPLE_TASK_ID: sample_task()})
    return make_message(template_name, recipient, context, kind, delivery.address)


def sample_digest() -> dict[str, object]:
    now = timezone.now()
    items = [
        Item(kind, str(SNAPSHOT["title"]), dict(SNAPSHOT), now - timedelta)
        for kind, timedelta in (
            (Kind.TASK_ASSIGNED, datetime.timedelta(hours=7)),
            (Kind.DUE_DATE_CHANGED, datetime.timedelta(hours=3)),
            (Kind.TASK_COMMENTED, datetime.timedelta(minutes=40)),
        )
    ]
    return {
        "items": [digest_line(item) for item in items],
        "link": absolute_url("tasks:list"),
    }


def html_of(message: EmailMultiAlternatives) -> str:
    [(content, _)] = message.alternatives
    return str(content)
