"""What is recorded for each event: the only way anything asks for an email.

Called by the receivers in notifications/receivers.py. Records rows in the caller's
transaction (Delivery.objects.record) and dispatches them on commit; it renders
nothing, sends nothing and makes no token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.text import Truncator

from notifications.audience import Event, audience
from notifications.dispatch import dispatch_on_commit
from notifications.kinds import ACCOUNT_KINDS, HISTORY_KINDS, KINDS, FromHistory
from notifications.models import Assignments, Delivery, Entry
from notifications.threading import started
from tasks.models import Activity, Comment, Task
from users.actor import current_actor
from users.models import AddressChange, Invitation, User

Kind, Reason = Delivery.Kind, Delivery.Reason


def record(kind: str, entries: Iterable[Entry]) -> list[int]:
    """Record one queued delivery per entry (of `kind`, unless the entry names
    its own) and dispatch them once committed."""
    ids = Delivery.objects.record(kind, entries)
    dispatch_on_commit(ids, urgent=kind in ACCOUNT_KINDS)
    return ids


def record_task_assigned(assignments: Assignments) -> list[int]:
    """Record "Task assigned" for these assignment (through) rows, in one
    statement, and dispatch them once committed.

    The task's title is kept for the delivery log, which outlives the task, with
    who assigned it. Nobody is told of their own action.
    """
    actor = current_actor()
    if actor is not None:
        told = assignments.user_ids - {actor.pk}
        assignments = assignments._replace(user_ids=told)
    ids, first_due = Delivery.objects.record_assignments(assignments, by=name_of(actor))
    dispatch_on_commit(ids, urgent=False, first_due=first_due)
    return ids


def record_task_deleted(task: Task) -> list[int]:
    """Record "Task deleted" for the task's followers (its assignees named), with
    a snapshot: the task is gone when the worker runs."""
    actor = current_actor()
    assignees = task.assigned_to.values_list("pk", flat=True)
    named = dict.fromkeys(assignees, Reason.ASSIGNED)
    told = audience(Event(task, actor.pk if actor else None, named))
    snapshot = {**task_snapshot(task), "by": name_of(actor)}
    return record(
        Kind.TASK_DELETED,
        (
            Entry(uid, f"task_deleted:{task.pk}:{uid}", snapshot, reason)
            for uid, reason in sorted(told.items())
        ),
    )


def task_snapshot(task: Task) -> dict[str, Any]:
    """What an email about the task says of it if it is gone by then: its
    title, its due date, and what its thread needs (threading.Thread)."""
    return {
        "task_id": task.pk,
        "title": task.title,
        "project_id": task.project_id,
        "project": task.project.name,
        "started": started(task),
        "due_date": task.due_date.isoformat() if task.due_date else "",
    }


def record_activity(activity: Activity) -> list[int]:
    """The emails one entry of a task's history calls for (kinds.py's
    FromHistory): its kinds for the people it names, or for the task's
    followers; each person once, for their strongest reason, never the person
    who did it. One row per person and entry, whatever its kind."""
    called_for = [
        (kind, history)
        for kind, history in HISTORY_KINDS.get(activity.verb, [])
        if history.when(activity)
    ]
    if not called_for:
        return []
    named, for_followers = named_by(activity, called_for)
    event = Event(
        activity.task,
        activity.actor_id,
        named={uid: reason for uid, (reason, _) in named.items()},
        followers=for_followers is not None,
    )
    snapshot = activity_snapshot(activity)
    entries = []
    for uid, reason in sorted(audience(event).items()):
        own = named.get(uid)
        kind = own[1] if own and own[0] == reason else for_followers
        if kind is not None:
            key = f"activity:{activity.pk}:{uid}"
            entries.append(Entry(uid, key, snapshot, reason, kind=kind))
    return record(called_for[0][0], entries)


def named_by(
    activity: Activity, called_for: list[tuple[str, FromHistory]]
) -> tuple[dict[int, tuple[str, str]], str | None]:
    """{user id: (reason, kind)} for the people the entry names, and the kind
    its followers get (None: they are not told)."""
    named: dict[int, tuple[str, str]] = {}
    for_followers = None
    for kind, history in called_for:
        about = KINDS[kind].task
        if history.named is None or about is None:
            for_followers = kind
            continue
        for uid in history.named(activity):
            if uid is not None:
                named[uid] = (about.addressed, kind)
    return named, for_followers


def activity_snapshot(activity: Activity) -> dict[str, Any]:
    snapshot: dict[str, Any] = {
        **task_snapshot(activity.task),
        "by": name_of(activity.actor),
        "before": activity.before,
        "after": activity.after,
    }
    if activity.comment is not None:
        snapshot["excerpt"] = Truncator(activity.comment.body).chars(280)
        snapshot["earlier"] = earlier_comments(activity.comment)
    return snapshot


# How many of the comments before a new one its email quotes, to read it in
# its conversation.
EARLIER_COMMENTS = 2


def earlier_comments(comment: Comment) -> list[dict[str, str]]:
    """The comments before this one on its task, oldest first, as its email
    quotes them: kept with the snapshot (one query per comment, however many
    people are told), so the worker reads nothing more and the email says
    what was there when it was written."""
    before = (
        Comment.objects.filter(task_id=comment.task_id, pk__lt=comment.pk)
        .select_related("author")
        .order_by("-pk")[:EARLIER_COMMENTS]
    )
    return [
        {
            "by": name_of(each.author),
            "excerpt": Truncator(each.body).chars(200),
            "at": each.created_at.isoformat(),
        }
        for each in reversed(before)
    ]


def name_of(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def record_activation_email(user: User) -> bool:
    """Record an activation email for an inactive user.

    Returns False (and records nothing) when the user is already active or an
    activation email was recorded for them within the resend window.
    """
    if user.is_active:
        return False
    return record_account_email(Kind.ACTIVATION, user)


def record_password_reset_email(user: User) -> bool:
    """Record a password-reset email; False when one was recorded very recently."""
    return record_account_email(Kind.PASSWORD_RESET, user)


def record_email_change_emails(user: User) -> list[int]:
    """The confirmation link to the address waiting in user.pending_email, and a
    notice to the current one, each pinned to its address ("to"): the account's
    address may change before the worker sends them.

    One pair per account, new address and resend window: asking twice for the
    same address records it once, a corrected address gets its own pair.
    """
    new_email, current = user.pending_email, user.email
    bucket = int(timezone.now().timestamp() // settings.NOTIFICATIONS_RESEND_WINDOW)
    request = f"{user.pk}:{address_key(new_email)}:{bucket}"
    confirmation = Entry(user.pk, f"{Kind.EMAIL_CHANGE}:{request}", {"to": new_email})
    notice = Entry(
        user.pk,
        f"{Kind.EMAIL_CHANGE_NOTICE}:{request}",
        {"to": current, "new_email": new_email},
    )
    return record(Kind.EMAIL_CHANGE, [confirmation]) + record(
        Kind.EMAIL_CHANGE_NOTICE, [notice]
    )


def record_email_changed_email(change: AddressChange) -> list[int]:
    """ "Your address was changed", with its restore link, to the address the
    account left ("to"), once per change."""
    context = {"to": change.old_email, "new_email": change.new_email}
    entry = Entry(
        change.user_id,
        f"{Kind.EMAIL_CHANGED}:{change.pk}",
        {**context, "change_id": change.pk},
    )
    return record(Kind.EMAIL_CHANGED, [entry])


def record_invitation_email(invitation: Invitation, by: User) -> list[int]:
    """The invitation's link to the address invited ("to"), once per sending
    (Invitation.sent_at): "send again" records a new one. The delivery is the
    inviting Admin's: the invited person has no account yet."""
    sent_at = int(invitation.sent_at.timestamp())
    context = {
        "to": invitation.email,
        "invitation_id": invitation.pk,
        "sent_at": sent_at,
        "role": invitation.role,
        "by": name_of(by),
        "first_name": invitation.first_name,
    }
    key = f"{Kind.INVITATION}:{invitation.pk}:{sent_at}"
    return record(Kind.INVITATION, [Entry(by.pk, key, context)])


def address_key(address: str) -> str:
    """An address in an event key without spelling it out (keys are searched and
    shown in the admin)."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:16]


# A person hears of their refused emailed replies at most this often.
REPLY_REFUSED_WINDOW = 3600


def record_reply_refused(user: User, task_id: int, title: str, why: str) -> bool:
    """Tell a person their emailed reply was not posted, and why: at most once
    an hour, however many replies are refused meanwhile (a reply bomb, a loop).

    As record_account_email: the check reads the exact hour; the hour-bucketed
    unique key makes two replies refused at once record one email between them.
    """
    since = timezone.now() - timedelta(seconds=REPLY_REFUSED_WINDOW)
    kind = Kind.REPLY_REFUSED
    told = Delivery.objects.filter(recipient=user, kind=kind, created_at__gte=since)
    if told.exists():
        return False
    bucket = int(timezone.now().timestamp() // REPLY_REFUSED_WINDOW)
    context = {"task_id": task_id, "title": title, "why": why}
    return bool(record(kind, [Entry(user.pk, f"{kind}:{user.pk}:{bucket}", context)]))


def record_account_email(kind: str, user: User) -> bool:
    """One email of this kind per user per resend window.

    The check reads the exact window; the time-bucketed unique key makes two
    racing requests record one row between them.
    """
    if recently_recorded(kind, user):
        return False
    window = settings.NOTIFICATIONS_RESEND_WINDOW
    bucket = int(timezone.now().timestamp() // window)
    key = f"{kind}:{user.pk}:{bucket}"
    return bool(record(kind, [Entry(user.pk, key)]))


def recently_recorded(kind: str, user: User) -> bool:
    since = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_RESEND_WINDOW)
    return Delivery.objects.filter(
        recipient=user, kind=kind, created_at__gte=since
    ).exists()
