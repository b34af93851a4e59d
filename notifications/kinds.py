"""Every kind of email, declared once.

A kind is a member of Kind (its stored value and its label) and one EmailKind in
KINDS: whether it is an account email, the body it is written with and the
builder of that body's context, the last words of its footer, its line on the
preferences page and in the daily digest, whether it needs the live task, what
the preview shows of it, whether it is about a task (AboutTask: its thread, its
first line, what the worker checks again before sending it) and, for the kinds a
task's history calls for, which entry and who is told. Every table of kinds is
derived from KINDS.

Adding a kind: a member of Kind, its EmailKind below, and its templates under
notifications/email/: its subject (task_subject.txt, the thread's, for a kind
about a task; <kind>_subject.txt otherwise), and <template>.txt and .html unless
it shares a body (and a builder) with another kind.
tests/notifications/test_kinds.py checks that each kind has them, renders in the
preview, and, when people choose it on the preferences page, has its help and
its digest line.

Imported by notifications.models for the choices, so nothing here (nor in the
builders it names) imports notifications.models at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from notifications import contexts, recipients
from notifications.contexts import Builder, Item
from notifications.recipients import Recipients
from tasks.models import Activity, Task


class Kind(models.TextChoices):
    TASK_ASSIGNED = "task_assigned", "Task assigned"
    TASK_UNASSIGNED = "task_unassigned", "Removed from a task"
    TASK_DELETED = "task_deleted", "Task deleted"
    DUE_DATE_CHANGED = "due_date_changed", "Due date changed"
    TASK_COMPLETED = "task_completed", "Task completed"
    TASK_COMMENTED = "task_commented", "New comment"
    MENTIONED = "mentioned", "Mentioned in a comment"
    STATUS_CHANGED = "status_changed", "Status changed"
    TASK_CREATED = "task_created", "New task in a project you watch"
    DUE_REMINDER = "due_reminder", "Due-date reminder"
    DIGEST = "digest", "Daily digest"
    ACTIVATION = "activation", "Account activation"
    PASSWORD_RESET = "password_reset", "Password reset"
    EMAIL_CHANGE = "email_change", "New email address to confirm"
    EMAIL_CHANGE_NOTICE = "email_change_notice", "Email change asked for"
    EMAIL_CHANGED = "email_changed", "Email address changed"
    REPLY_REFUSED = "reply_refused", "Emailed reply not posted"
    INVITATION = "invitation", "Invitation to the team"


class Reason(models.TextChoices):
    """Why a person is told of an event on a task (notifications/audience.py),
    strongest first: each person is told once, for the strongest. Blank for
    account emails and digests."""

    MENTIONED = "mentioned", "mentioned"
    ASSIGNED = "assigned", "assigned"
    CREATED = "created", "created the task"
    WATCHING = "watching", "watching the task"
    # Told of every task of a project they watch (their level is Watching),
    # without a part in this one: a Manager, an Admin or a member of the
    # project (tasks.permissions).
    MANAGER = "manager", "watching the project"


# The footer of an email about a task, by the reason its reader is told; a
# kind's own `reason` is used instead for the person the event names.
REASON_FOOTERS = {
    Reason.MENTIONED: "You get this email because you were mentioned on this task.",
    Reason.ASSIGNED: "You get this email because you are assigned this task.",
    Reason.CREATED: "You get this email because you created this task.",
    Reason.WATCHING: "You get this email because you watch this task.",
    Reason.MANAGER: (
        "You get this email because you watch every task of the project {project}."
    ),
}


def always(_activity: Activity) -> bool:
    return True


@dataclass(frozen=True)
class FromHistory:
    """The entry in a task's history (its Activity verb) that calls for a kind,
    when `when` holds, and who is told: the people the entry names (`named`,
    told for the kind's AboutTask.addressed reason), or else the task's
    followers (notifications/audience.py)."""

    verb: str
    named: Recipients | None = None
    when: Callable[[Activity], bool] = always


@dataclass(frozen=True)
class AboutTask:
    """An email about a task: it joins the task's thread (one subject, the
    task's root id; notifications/threading.py), says what happened on its
    first line, names the reader's reason, and is checked again when the worker
    takes it (notifications/wishes.py): levels, mutes, access."""

    # The first line, filled from the snapshot: {by}, {before}, {after}.
    headline: str
    # The reason of the person the event names (assigned, removed, mentioned):
    # their footer is the kind's own `reason`, others get REASON_FOOTERS'.
    addressed: str = ""
    # Sent only if the reader can still see the task; not for a removal or a
    # deletion, which go to people who may no longer see it.
    needs_access: bool = True
    # Sent only while the reader is still assigned the task.
    while_assigned: bool = False
    # Sent only while the task is not completed: a new due date or a step
    # between open statuses asks nothing of anyone once the work is done (the
    # task's history keeps it; its completion email is the news). Other kinds
    # go out and say the task is completed (its Status line).
    while_open: bool = False


@dataclass(frozen=True)
class Sample:
    """What the preview (/notifications/preview/) changes in its sample delivery."""

    # Added to the shared sample snapshot (previews.SNAPSHOT).
    context: Mapping[str, Any] = field(default_factory=dict)
    active_recipient: bool = True
    # For the digest: the kinds of the notifications its sample gathers.
    gathers: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmailKind:
    """One kind of email, as KINDS declares it."""

    kind: str
    # The body: notifications/email/<template>.txt and .html (kinds may share
    # one); the subject is task_subject.txt for a kind about a task, else
    # <kind>_subject.txt.
    template: str
    context: Builder
    # Why it came: the last words of its footer (see AboutTask.addressed).
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
    # It gives the task a due date in its reader's eyes: the email attaches the
    # task's calendar event (notifications/calendars.py).
    calendar: bool = False
    # Its row is one person's, but it goes to someone else's address (an
    # invitation: the invited person has no account yet).
    to_someone_else: bool = False
    task: AboutTask | None = None
    from_history: FromHistory | None = None

    @property
    def subject(self) -> str:
        """Its subject's template, under notifications/email/."""
        return "task_subject.txt" if self.task else f"{self.kind}_subject.txt"


def digest_line(item: Item) -> dict[str, Any]:
    """An item of a digest as its kind says it, linked when the task lives on."""
    declared = KINDS[item.kind]
    return contexts.digest_line(item, declared.summary, linked=declared.live_task)


def footer_reason(kind: str, reason: str, project: str) -> str:
    """Why its reader gets this email: the kind's words for the person the
    event names (and for rows recorded without a reason), else the reason's."""
    declared = KINDS[kind]
    if declared.task is None or not reason or reason == declared.task.addressed:
        return declared.reason
    return REASON_FOOTERS[Reason(reason)].format(project=project)


# The preview's sample person asks to move to this address.
SAMPLE_NEW_ADDRESS = "sam.new@example.com"
# The preview's sample comment.
EXCERPT = "Can we move the review to Friday? The numbers from May are not in yet."
# The comments before it, as recording.earlier_comments keeps them.
EARLIER = (
    {
        "by": "Ann Analyst",
        "excerpt": "The figures of two teams are still missing.",
        "at": "2030-03-20T09:12:00+00:00",
    },
    {
        "by": "Mia Manager",
        "excerpt": "I asked them for Thursday.",
        "at": "2030-03-20T11:40:00+00:00",
    },
)
COMMENT_SAMPLE = Sample(context={"excerpt": EXCERPT, "earlier": EARLIER})
COMPLETED = Task.Status.COMPLETED


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
        calendar=True,
        # Recorded by the assignment itself (one INSERT ... SELECT; receivers.py).
        task=AboutTask(
            "{by} assigned you this task.",
            addressed=Reason.ASSIGNED,
            while_assigned=True,
        ),
    ),
    EmailKind(
        Kind.TASK_UNASSIGNED,
        template="task_change",
        context=contexts.task_change(),
        reason="You get this email because you were removed from this task.",
        help="Someone removes you from a task.",
        summary="{by} removed you from this task.",
        task=AboutTask(
            "{by} removed you from this task.",
            addressed=Reason.ASSIGNED,
            needs_access=False,
        ),
        from_history=FromHistory(
            Activity.Verb.UNASSIGNED, named=recipients.person_removed
        ),
    ),
    EmailKind(
        Kind.TASK_DELETED,
        template="task_deleted",
        context=contexts.task_deleted,
        reason="You get this email because you were assigned this task.",
        help="A task you follow is deleted.",
        summary="{by} deleted this task.",
        # Recorded before the deletion, for the task's followers (receivers.py).
        task=AboutTask(
            "{by} deleted this task.", addressed=Reason.ASSIGNED, needs_access=False
        ),
    ),
    EmailKind(
        Kind.DUE_DATE_CHANGED,
        template="task_change",
        context=contexts.task_change(dates=True),
        reason="You get this email because you are assigned this task.",
        help="The due date of a task you follow moves.",
        summary="{by} moved the due date from {before} to {after}.",
        live_task=True,
        calendar=True,
        task=AboutTask(
            "{by} moved the due date from {before} to {after}.", while_open=True
        ),
        from_history=FromHistory(Activity.Verb.DUE_DATE),
    ),
    EmailKind(
        Kind.TASK_COMPLETED,
        template="task_change",
        context=contexts.task_change(),
        reason="You get this email because you created this task.",
        help="A task you follow is completed.",
        summary="{by} completed this task.",
        live_task=True,
        task=AboutTask("{by} completed this task."),
        from_history=FromHistory(
            Activity.Verb.STATUS, when=lambda entry: entry.after == COMPLETED
        ),
    ),
    EmailKind(
        Kind.TASK_COMMENTED,
        template="task_change",
        context=contexts.task_change(),
        reason="You get this email because you work on this task.",
        help="Someone comments on a task you follow.",
        summary="{by} commented: “{excerpt}”",
        live_task=True,
        preview=COMMENT_SAMPLE,
        task=AboutTask("{by} commented on this task."),
        from_history=FromHistory(Activity.Verb.COMMENTED),
    ),
    EmailKind(
        Kind.MENTIONED,
        template="task_change",
        context=contexts.task_change(),
        reason="You get this email because you were mentioned in a comment.",
        help="Someone mentions you (@username) in a comment.",
        summary="{by} mentioned you: “{excerpt}”",
        live_task=True,
        preview=COMMENT_SAMPLE,
        task=AboutTask("{by} mentioned you in a comment.", addressed=Reason.MENTIONED),
        from_history=FromHistory(Activity.Verb.COMMENTED, named=recipients.mentioned),
    ),
    EmailKind(
        Kind.STATUS_CHANGED,
        template="task_change",
        context=contexts.task_change(),
        reason="You get this email because you watch this task.",
        help="A task you follow moves to another status (not completed).",
        summary="{by} changed the status from {before} to {after}.",
        live_task=True,
        preview=Sample(context={"before": "PENDING", "after": "IN_PROGRESS"}),
        task=AboutTask(
            "{by} changed the status from {before} to {after}.", while_open=True
        ),
        from_history=FromHistory(
            Activity.Verb.STATUS, when=lambda entry: entry.after != COMPLETED
        ),
    ),
    EmailKind(
        Kind.TASK_CREATED,
        template="task_change",
        context=contexts.task_change(),
        reason="You get this email because you watch every task of this project.",
        help="A task is created in a project you watch.",
        summary="{by} created this task.",
        live_task=True,
        task=AboutTask("{by} created this task."),
        from_history=FromHistory(Activity.Verb.CREATED),
    ),
    EmailKind(
        Kind.DUE_REMINDER,
        template="task_change",
        context=contexts.due_reminder,
        reason="You get this reminder because you are assigned this task.",
        help="A task of yours is due soon, today, or overdue (when: below).",
        summary="{reminder_summary}",
        live_task=True,
        preview=Sample(context=contexts.REMINDER_SAMPLE),
        # Recorded by a beat job at each person's hour (reminders.py); checked
        # again when sent: still open, still assigned, not re-dated since.
        task=AboutTask(
            contexts.REMINDER_HEADLINE,
            addressed=Reason.ASSIGNED,
            while_assigned=True,
        ),
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
    EmailKind(
        Kind.INVITATION,
        template="invitation",
        context=contexts.invitation,
        reason=(
            "You get this email because an Admin of a team on Tasks invited this "
            "address."
        ),
        # Someone may be waiting for it with the Admin beside them: the fast lane.
        account=True,
        to_someone_else=True,
        preview=Sample(
            context={
                "to": "new.colleague@example.com",
                "invitation_id": 0,
                "sent_at": 0,
                "role": "Employee",
                "by": "Mia Manager",
                "first_name": "Noor",
            }
        ),
    ),
)

# Derived ---------------------------------------------------------------------------

ACCOUNT_KINDS = frozenset(kind for kind, each in KINDS.items() if each.account)
# The kinds people choose on the preferences page (right away, digest, off).
PREFERENCE_KINDS = tuple(kind for kind, each in KINDS.items() if each.help)
# The kinds about a task: threaded, with a reason, subject to levels and mutes.
TASK_KINDS = frozenset(kind for kind, each in KINDS.items() if each.task)
TO_SOMEONE_ELSE = frozenset(k for k, each in KINDS.items() if each.to_someone_else)
# The kinds no one's action calls for: the clock does (reminders.py). They name
# no one: their first line and digest line say when the task is due.
SCHEDULED_KINDS = frozenset({Kind.DUE_REMINDER})
# The kinds that tell of a change to a task, which a coalescing window gathers
# (timing.py): a reminder is no change, and never waits for one.
CHANGE_KINDS = TASK_KINDS - SCHEDULED_KINDS
# The kinds a person's inbox in the app lists (notifications/inbox.py): every
# notification about a task. Not account emails, nor digests, which gather
# inbox items rather than being one.
INBOX_KINDS = TASK_KINDS


# What each entry of a task's history may call for, by its verb: the kinds and
# their FromHistory.
def by_verb() -> dict[str, list[tuple[str, FromHistory]]]:
    table: dict[str, list[tuple[str, FromHistory]]] = {}
    for kind, each in KINDS.items():
        if (history := each.from_history) is not None:
            table.setdefault(history.verb, []).append((kind, history))
    return table


HISTORY_KINDS = by_verb()


def kind_choices() -> list[tuple[str, str]]:
    """The models' choices for a kind, read from Kind when asked, so that a new
    kind needs no migration."""
    return list(Kind.choices)
