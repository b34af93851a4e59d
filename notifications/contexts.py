"""What each kind of email says: the context its templates are rendered with.

notifications/kinds.py names one builder per kind. A builder reads the delivery's
snapshot (and the live task, for the kinds declared live_task) and returns the
context; it raises Skip when the email is no longer wanted. Tokens are made here,
in the worker, when the message is built. Dates are written the one way the site
writes them.

Nothing here imports notifications.models at run time: models.py takes its
choices from kinds.py, which names these builders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.text import Truncator

from notifications.links import absolute_url, reading
from tasks.models import Task
from users.models import Invitation
from users.tokens import (
    activation_token,
    address_restore_token,
    email_change_token,
    encode_uid,
    invitation_token,
    lasts,
    password_reset_token,
)

if TYPE_CHECKING:
    from notifications.models import Delivery

Context = dict[str, Any]
# A kind's builder: the delivery, and its live task (None for a kind that needs none).
Builder = Callable[["Delivery", Task | None], Context]


class Skip(Exception):
    """The email is no longer wanted: the account is active, the task is gone."""


TASK_GONE = "the task was deleted before the email went out"
# Its recipient read it in the app before the email left (notifications/inbox.py).
READ_IN_APP = "read in the app"


def written(value: str | date | None) -> str:
    """A date as the site writes it, from a date or its ISO form."""
    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return formats.date_format(day)


NO_DUE_DATE = "No due date"


def due(value: str | date | None) -> str:
    """A due date as the site writes it, or that the task has none."""
    try:
        return written(value) or NO_DUE_DATE
    except ValueError:  # a date recorded as missing ("None")
        return NO_DUE_DATE


def said(value: str | None) -> str:
    """A value a change recorded (a status or an ISO date), as the site says it."""
    if value in Task.Status.values:
        return str(Task.Status(value).label)
    try:
        return written(value)
    except ValueError:
        return value or ""


def link_lasts() -> str:
    """How long an activation, email-change or restore link works, in words."""
    return lasts(settings.PASSWORD_RESET_TIMEOUT)


# Notifications -----------------------------------------------------------------


def task_assigned(delivery: Delivery, task: Task | None) -> Context:
    if task is None:  # declared live_task: build_message skips it before this
        raise Skip(TASK_GONE)
    detail = getattr(task, "details", None)
    by = delivery.context.get("by", "")
    facts = [
        ("Task", task.title),
        ("Project", task.project.name),
        ("Priority", detail.get_priority_display() if detail else "Medium"),
        ("Due", due(task.due_date)),
    ]
    if by:
        facts.append(("Assigned by", by))
    return {
        "task": task,
        "facts": facts,
        "excerpt": Truncator(task.description).chars(300),
        **task_link(task, delivery.pk),
        "by": by,
    }


def task_deleted(delivery: Delivery, _task: Task | None) -> Context:
    snapshot = delivery.context
    facts = [
        ("Task", snapshot.get("title", "")),
        ("Project", snapshot.get("project", "")),
    ]
    if snapshot.get("due_date"):
        facts.append(("Was due", written(snapshot["due_date"])))
    return {
        "title": snapshot.get("title", ""),
        "facts": facts,
        "by": snapshot.get("by", ""),
        **task_link(None, delivery.pk),  # the task is gone: to their tasks
    }


def task_change(*, dates: bool = False) -> Builder:
    """The kinds that tell of one change to a task share one body (task_change):
    its first line (emails.py writes it), facts (the due date before and
    after, with `dates`), a quoted comment, and a link to the task, or to the
    reader's tasks when they may no longer open it."""

    def context(delivery: Delivery, task: Task | None) -> Context:
        snapshot = delivery.context
        return {
            "title": snapshot.get("title", ""),
            "facts": change_facts(snapshot, task, dates=dates),
            "excerpt": snapshot.get("excerpt", ""),
            "earlier": earlier_comments(snapshot),
            **task_link(task, delivery.pk),
        }

    return context


def change_facts(
    snapshot: dict[str, Any], task: Task | None, *, dates: bool
) -> list[tuple[str, str]]:
    """The task as the email finds it: its project, its due date (before and
    after, with `dates`) and, while it lives, its status, so a comment on a
    completed task says it is completed. Without the live task (a removal),
    the snapshot says what the task was when it happened."""
    facts = [
        ("Task", snapshot.get("title", "")),
        ("Project", task.project.name if task else snapshot.get("project", "")),
    ]
    if dates:
        facts += [
            ("Was due", due(snapshot.get("before"))),
            ("Now due", due(snapshot.get("after"))),
        ]
    else:
        facts.append(("Due", due(task.due_date if task else snapshot.get("due_date"))))
    if task is not None:
        facts.append(("Status", str(task.get_status_display())))
    return facts


def task_changes(
    delivery: Delivery, task: Task, told: list[tuple[str, Delivery]]
) -> Context:
    """One email for every change to a task its reader's coalescing window
    gathered (notifications/timing.py): each change's first line (`told`
    pairs each row with its kind's headline) and comment, oldest first, then
    the task as it is now."""
    return {
        "headline": f"{len(told)} changes to this task",
        "title": task.title,
        "changes": [
            {
                "line": filled(words, row.context),
                "excerpt": row.context.get("excerpt", ""),
                "at": row.created_at,
            }
            for words, row in told
        ],
        "facts": [
            ("Task", task.title),
            ("Project", task.project.name),
            ("Due", due(task.due_date)),
            ("Status", str(task.get_status_display())),
        ],
        **task_link(task, delivery.pk),
    }


def earlier_comments(snapshot: dict[str, Any]) -> list[Context]:
    """The comments before the one an email tells of, oldest first, as the
    snapshot kept them (recording.earlier_comments): who, when, what."""
    return [
        {**comment, "at": datetime.fromisoformat(comment["at"])}
        for comment in snapshot.get("earlier", [])
    ]


def task_link(task: Task | None, delivery_id: int | None) -> Context:
    """To the task, or to the reader's tasks when they may no longer open it;
    following it reads the notification in the app. The link of every email
    about a task (mail merge fills in each reader's: emails.personal_values)."""
    if task is None:
        link, label = absolute_url("tasks:list"), "See your tasks"
    else:
        link, label = absolute_url("tasks:detail", task.pk), "Open the task"
    return {"link": reading(link, delivery_id), "link_label": label}


# The daily digest ----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One line of a digest."""

    kind: str
    title: str
    context: dict[str, str]
    at: datetime
    pk: int | None = None  # its delivery (none in a preview): its link reads it


# What a digest line says of an item (kinds.digest_line: each kind's summary).
DigestLine = Callable[[Item], Context]


def digest_items(digest: Delivery) -> list[Item]:
    """What a digest gathers, oldest first, from the snapshots of its rows,
    but what its reader has read in the app since (Skip when that is all)."""
    rows = list(digest.bundled.order_by("created_at", "pk"))
    unread = [row for row in rows if row.read_at is None]
    if rows and not unread:
        raise Skip(READ_IN_APP)
    return [
        Item(row.kind, row.task_title, {**row.context}, row.created_at, row.pk)
        for row in unread
    ]


def digest(line: DigestLine) -> Builder:
    """The digest's body: one line per notification it gathers, as `line` says."""

    def context(delivery: Delivery, _task: Task | None) -> Context:
        return digest_of(digest_items(delivery), line, digest_day(delivery))

    return context


def digest_day(delivery: Delivery) -> date:
    """The day a digest is for, in its reader's time zone, as it was recorded
    (models.record_digest); today there for one recorded without it."""
    day = delivery.context.get("day")
    if day:
        return date.fromisoformat(day)
    return timezone.localdate(timezone=delivery.recipient.zone)


# A digest lists at most this many items (the oldest); the rest are "and N more",
# linked to the inbox, which has them all.
DIGEST_LIMIT = 50


def digest_of(items: list[Item], line: DigestLine, day: date) -> Context:
    """The digest's context: its first DIGEST_LIMIT lines, how many more it
    gathered, its count and its day (in its subject, so two digests of as many
    updates do not look the same in a mailbox)."""
    if not items:
        raise Skip("nothing was left to gather")
    lines = [line(item) for item in items[:DIGEST_LIMIT]]
    return {
        "items": lines,
        "count": len(items),
        "more": len(items) - len(lines),
        "more_link": absolute_url("notifications:inbox"),
        "day": day,
        "link": absolute_url("tasks:list"),
    }


def digest_line(item: Item, summary: str, *, linked: bool) -> Context:
    """An item's line: the summary filled from its snapshot, and a link to its
    task when `linked` (not for a task deleted, or one its reader left)."""
    snapshot = item.context
    task_id = snapshot.get("task_id")
    link = ""
    if linked and task_id:
        link = reading(absolute_url("tasks:detail", task_id), item.pk)
    summary = filled(summary, snapshot)
    return {"title": item.title, "summary": summary, "at": item.at, "link": link}


def filled(words: str, snapshot: dict[str, Any]) -> str:
    """A kind's summary or first line, with who did it and what changed (or,
    for a reminder, when the task is due)."""
    return words.format(
        by=snapshot.get("by") or "Someone",
        excerpt=snapshot.get("excerpt", ""),
        before=said(snapshot.get("before")),
        after=said(snapshot.get("after")),
        reminder=reminder_words(snapshot),
        reminder_summary=reminder_summary(snapshot),
    )


# Due-date reminders (notifications/reminders.py) -----------------------------------

BEFORE, TODAY, OVERDUE = "before", "today", "overdue"
REMINDER_HEADLINE = "Reminder: {reminder}."
# What the preview's sample reminder says (previews.SNAPSHOT: due 2030-03-29).
REMINDER_SAMPLE = {"reminder": BEFORE, "day": "2030-03-28"}


def reminder_words(snapshot: dict[str, Any]) -> str:
    """A reminder's first line: due in N days, today, or overdue since its
    due date, as of its day, or of the day it is sent ("today", when later:
    one held overnight by its reader's quiet hours leaves the next morning)."""
    due_on, recorded = snapshot.get("due_date"), snapshot.get("day")
    if snapshot.get("reminder") is None or not due_on or not recorded:
        return ""
    on = max(recorded, snapshot.get("today") or recorded)
    days = (date.fromisoformat(due_on) - date.fromisoformat(on)).days
    if days < 0:
        return f"this task was due on {written(due_on)} and is not completed"
    if days == 0:
        return "this task is due today"
    when = "tomorrow," if days == 1 else f"in {days} days, on"
    return f"this task is due {when} {written(due_on)}"


def due_reminder(delivery: Delivery, task: Task | None) -> Context:
    """A reminder's body: the task's facts, as task_change writes them, and its
    first line said on the day it is sent, in its reader's time zone."""
    today = timezone.localdate(timezone=delivery.recipient.zone)
    said_today = {**delivery.context, "today": today.isoformat()}
    return {
        **task_change()(delivery, task),
        "headline": filled(REMINDER_HEADLINE, said_today),
    }


def reminder_summary(snapshot: dict[str, Any]) -> str:
    """A reminder's line in a digest, read a day later perhaps: dates only."""
    which, due_on = snapshot.get("reminder"), snapshot.get("due_date")
    if which is None or not due_on:
        return ""
    if which == OVERDUE:
        return f"Overdue: it was due on {written(due_on)}."
    return f"Reminder: due on {written(due_on)}."


# Account emails ------------------------------------------------------------------


def activation(delivery: Delivery, _task: Task | None) -> Context:
    user = delivery.recipient
    # Activated once (active, or deactivated by an Admin since): no link for it.
    if user.is_active or user.activated_at is not None:
        raise Skip("the account is already active, or was activated before")
    token = activation_token(user)
    link = absolute_url("users:activate", uidb64=encode_uid(user), token=token)
    return {"link": link, "valid_for": link_lasts()}


def password_reset(delivery: Delivery, _task: Task | None) -> Context:
    user = delivery.recipient
    if not user.is_active:
        raise Skip("the account is inactive")
    uidb64, token = encode_uid(user), password_reset_token(user)
    link = absolute_url("users:password-reset-confirm", uidb64=uidb64, token=token)
    return {"link": link, "valid_for": lasts(settings.PASSWORD_RESET_LINK_TIMEOUT)}


def email_change(delivery: Delivery, _task: Task | None) -> Context:
    """The link that confirms the new address, sent to that address only."""
    user = delivery.recipient
    if not user.is_active:
        raise Skip("the account is inactive")
    if user.pending_email != delivery.address:
        raise Skip("the change was confirmed, cancelled or replaced since")
    uidb64, token = encode_uid(user), email_change_token(user)
    link = absolute_url("users:email-confirm", uidb64=uidb64, token=token)
    return {"link": link, "valid_for": link_lasts(), "new_email": delivery.address}


def email_change_notice(delivery: Delivery, _task: Task | None) -> Context:
    """Tells the address the account had that a change was asked for; sent even
    when the change is done or cancelled by now: the holder should know."""
    return {
        "new_email": delivery.context.get("new_email", ""),
        "reset_link": absolute_url("users:password-reset"),
        "profile_link": absolute_url("users:profile"),
    }


def email_changed(delivery: Delivery, _task: Task | None) -> Context:
    """Tells the address the account left that the change is done, with the link
    that gives the account back; sent whatever happened since: only the link's
    page knows whether it still works."""
    token = address_restore_token(
        int(delivery.context["change_id"]), delivery.recipient_id
    )
    return {
        "new_email": delivery.context.get("new_email", ""),
        "restore_link": absolute_url("users:email-restore", token=token),
        "valid_for": link_lasts(),
    }


def reply_refused(delivery: Delivery, _task: Task | None) -> Context:
    """Why an emailed reply was not posted (notifications/replies.py), and a
    link to the task, which the page itself tells whether they may still see."""
    snapshot = delivery.context
    task_id = snapshot.get("task_id")
    return {
        "title": snapshot.get("title", ""),
        "why": snapshot.get("why", "it could not be read"),
        "link": absolute_url("tasks:detail", task_id)
        if task_id
        else absolute_url("tasks:list"),
        "link_label": "Open the task" if task_id else "See your tasks",
    }


def invitation(delivery: Delivery, _task: Task | None) -> Context:
    """The link that creates the invited person's account, sent to the address
    invited ("to"); nothing once the invitation was accepted, revoked or sent
    again (the newer email carries the link that works)."""
    snapshot = delivery.context
    invitation_id, sent_at = int(snapshot["invitation_id"]), int(snapshot["sent_at"])
    # A preview's delivery is unsaved and names no invitation: nothing to read.
    saved = delivery.pk is not None
    found = Invitation.objects.filter(pk=invitation_id).first() if saved else None
    if found is not None and (
        not found.is_pending or int(found.sent_at.timestamp()) != sent_at
    ):
        raise Skip("the invitation was accepted, revoked or sent again since")
    token = invitation_token(invitation_id, sent_at)
    return {
        "link": absolute_url("users:invitation", token=token),
        "valid_for": link_lasts(),
        "by": snapshot.get("by") or "An Admin",
        "role": with_article(str(snapshot.get("role", ""))),
        "first_name": snapshot.get("first_name", ""),
    }


def with_article(role: str) -> str:
    """The role with its article: "a Manager", "an Admin"; nothing for none."""
    if not role:
        return ""
    return f"an {role}" if role[0] in "AEIOU" else f"a {role}"
