"""Every kind of email, declared once.

A kind is a member of Kind (its stored value and its label) and one EmailKind in
KINDS: whether it is an account email, the body it is written with and the
builder of that body's context, the last words of its footer, its line on the
preferences page and in the daily digest, whether it needs the live task, what
the preview shows of it, and, for the kinds a task's history calls for, which
entry and who is told. Every table of kinds is derived from KINDS.

Adding a kind: a member of Kind, its EmailKind below, and its templates under
notifications/email/: <kind>_subject.txt, and <template>.txt and .html unless it
shares a body (and a builder) with another kind. tests/notifications/test_kinds.py
checks that each kind has them, renders in the preview, and, when people choose
it on the preferences page, has its help and its digest line.

Imported by notifications.models for the choices, so nothing here (nor in the
builders it names) imports notifications.models at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from notifications import contexts, recipients
from notifications.contexts import Builder, Item
from notifications.recipients import Recipients
from tasks.models import Activity


class Kind(models.TextChoices):
    TASK_ASSIGNED = "task_assigned", "Task assigned"
    TASK_UNASSIGNED = "task_unassigned", "Removed from a task"
    TASK_DELETED = "task_deleted", "Task deleted"
    DUE_DATE_CHANGED = "due_date_changed", "Due date changed"
    TASK_COMPLETED = "task_completed", "Task completed"
    TASK_COMMENTED = "task_commented", "New comment"
    DIGEST = "digest", "Daily digest"
    ACTIVATION = "activation", "Account activation"
    PASSWORD_RESET = "password_reset", "Password reset"
    EMAIL_CHANGE = "email_change", "New email address to confirm"
    EMAIL_CHANGE_NOTICE = "email_change_notice", "Email change asked for"
    EMAIL_CHANGED = "email_changed", "Email address changed"
    REPLY_REFUSED = "reply_refused", "Emailed reply not posted"


@dataclass(frozen=True)
class FromHistory:
    """The entry in a task's history (its Activity verb) that calls for a kind,
    and who is told of it."""

    verb: str
    recipients: Recipients


@dataclass(frozen=True)
class Sample:
    """What the preview (/notifications/preview/) changes in its sample delivery."""

    # Added to the shared sample snapshot (previews.SNAPSHOT).
    context: Mapping[str, str] = field(default_factory=dict)
    active_recipient: bool = True
    # For the digest: the kinds of the notifications its sample gathers.
    gathers: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmailKind:
    """One kind of email, as KINDS declares it."""

    kind: str
    # The body: notifications/email/<template>.txt and .html (kinds may share
    # one); the subject is always <kind>_subject.txt.
    template: str
    context: Builder
    # Why it came: the last words of its footer.
    reason: str
    # Sent in its own lane ahead of notifications, always (no preference, no
    # unsubscribe link): someone is waiting at the screen for it.
    account: bool = False
    # Its line on the preferences page; "" when people cannot choose it.
    help: str = ""
    # Its line in the daily digest, filled from the snapshot: {by}, {excerpt},
    # {before}, {after}.
    summary: str = ""
    # Its email needs the task itself (its link, or its live details): without
    # the task the email is skipped.
    live_task: bool = False
    preview: Sample = field(default_factory=Sample)
    from_history: FromHistory | None = None


def digest_line(item: Item) -> dict[str, Any]:
    """An item of a digest as its kind says it, linked when the task lives on."""
    declared = KINDS[item.kind]
    return contexts.digest_line(item, declared.summary, linked=declared.live_task)


# The preview's sample person asks to move to this address.
SAMPLE_NEW_ADDRESS = "sam.new@example.com"


def declare(*kinds: EmailKind) -> dict[str, EmailKind]:
    """KINDS, in Kind's order; every member of Kind declared exactly once."""
    declared = {each.kind: each for each in kinds}
    if sorted(declared) != sorted(Kind.values) or len(declared) != len(kinds):
        raise ValueError("Each member of Kind needs exactly one EmailKind")
    return {kind: declared[kind] for kind in Kind.values}


KINDS = declare(
    EmailKind(
        Kind.TASK_ASSIGNED,
        template="task_assigned",
        context=contexts.task_assigned,
        reason="You get this email because you were assigned this task.",
        help="Someone assigns you a task.",
        summary="{by} assigned you this task.",
        live_task=True,
    ),
    EmailKind(
        Kind.TASK_UNASSIGNED,
        template="task_change",
        context=contexts.task_change(
            "Removed From Task", "{by} removed you from a task."
        ),
        reason="You get this email because you were removed from this task.",
        help="Someone removes you from a task.",
        summary="{by} removed you from this task.",
        from_history=FromHistory(Activity.Verb.UNASSIGNED, recipients.person_removed),
    ),
    EmailKind(
        Kind.TASK_DELETED,
        template="task_deleted",
        context=contexts.task_deleted,
        reason="You get this email because you were assigned this task.",
        help="A task assigned to you is deleted.",
        summary="{by} deleted this task.",
    ),
    EmailKind(
        Kind.DUE_DATE_CHANGED,
        template="task_change",
        context=contexts.task_change(
            "Due Date Changed", "{by} moved the due date of your task.", dates=True
        ),
        reason="You get this email because you are assigned this task.",
        help="The due date of one of your tasks moves.",
        summary="{by} moved the due date from {before} to {after}.",
        live_task=True,
        from_history=FromHistory(Activity.Verb.DUE_DATE, recipients.assignees),
    ),
    EmailKind(
        Kind.TASK_COMPLETED,
        template="task_change",
        context=contexts.task_change(
            "Task Completed", "{by} completed a task you created."
        ),
        reason="You get this email because you created this task.",
        help="A task you created is completed.",
        summary="{by} completed this task.",
        live_task=True,
        from_history=FromHistory(Activity.Verb.STATUS, recipients.creator_if_completed),
    ),
    EmailKind(
        Kind.TASK_COMMENTED,
        template="task_change",
        context=contexts.task_change(
            "New Comment", "{by} commented on a task you work on."
        ),
        reason="You get this email because you work on this task.",
        help="Someone comments on a task you work on.",
        summary="{by} commented: “{excerpt}”",
        live_task=True,
        from_history=FromHistory(Activity.Verb.COMMENTED, recipients.people_on_task),
    ),
    EmailKind(
        Kind.DIGEST,
        template="digest",
        context=contexts.digest(digest_line),
        reason="You get this digest because you chose one for some notifications.",
        preview=Sample(
            gathers=(Kind.TASK_ASSIGNED, Kind.DUE_DATE_CHANGED, Kind.TASK_COMMENTED)
        ),
    ),
    EmailKind(
        Kind.ACTIVATION,
        template="activation",
        context=contexts.activation,
        reason="You get this email because this address was used to sign up.",
        account=True,
        preview=Sample(active_recipient=False),
    ),
    EmailKind(
        Kind.PASSWORD_RESET,
        template="password_reset",
        context=contexts.password_reset,
        reason="You get this email because a password reset was asked for.",
        account=True,
    ),
    EmailKind(
        Kind.EMAIL_CHANGE,
        template="email_change",
        context=contexts.email_change,
        reason=(
            "You get this email because this address was entered as the new one "
            "of a Tasks account."
        ),
        account=True,
        preview=Sample(context={"to": SAMPLE_NEW_ADDRESS}),
    ),
    EmailKind(
        Kind.EMAIL_CHANGE_NOTICE,
        template="email_change_notice",
        context=contexts.email_change_notice,
        reason=(
            "You get this email because a change of your account's email address "
            "was asked for."
        ),
        account=True,
        preview=Sample(context={"new_email": SAMPLE_NEW_ADDRESS}),
    ),
    EmailKind(
        Kind.EMAIL_CHANGED,
        template="email_changed",
        context=contexts.email_changed,
        reason=(
            "You get this email because your account's email address was changed "
            "from this one."
        ),
        account=True,
        preview=Sample(context={"new_email": SAMPLE_NEW_ADDRESS, "change_id": "0"}),
    ),
    EmailKind(
        Kind.REPLY_REFUSED,
        template="reply_refused",
        context=contexts.reply_refused,
        reason=(
            "You get this email because a reply you sent to a Tasks email could "
            "not be posted."
        ),
        # It answers something the person did, whatever their notification
        # choices: no preference, no unsubscribe link.
        account=True,
        preview=Sample(context={"why": "you can no longer see this task"}),
    ),
)

# Derived ---------------------------------------------------------------------------

ACCOUNT_KINDS = frozenset(kind for kind, each in KINDS.items() if each.account)
# The kinds people choose on the preferences page (right away, digest, off).
PREFERENCE_KINDS = tuple(kind for kind, each in KINDS.items() if each.help)
# The kind each entry of a task's history calls for, by its verb, and who is told.
HISTORY_KINDS: dict[str, tuple[str, Recipients]] = {
    history.verb: (kind, history.recipients)
    for kind, each in KINDS.items()
    if (history := each.from_history) is not None
}
