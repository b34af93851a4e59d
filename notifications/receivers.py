"""Receivers: guard, record deliveries in the caller's transaction, dispatch on commit.

Every email trigger enters here: model signals of tasks and users, and the users
app's own signals (activation resend, password reset, email change asked for and
done). None of them renders, sends or makes a token: the worker does all of that.
Mail coming back through an ESP's inbound webhook, and what its tracking webhook
reports about a sent email, enter here too (django-anymail's signals).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from anymail.signals import (
    AnymailInboundEvent,
    AnymailTrackingEvent,
    inbound,
    tracking,
)
from django.core.signals import request_finished, request_started
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import Signal

from notifications import dispatch, inbox, recording
from notifications import inbound as intake
from notifications.kinds import HISTORY_KINDS
from notifications.models import Assignments
from notifications.tracking import record_event
from tasks.models import Activity, Task
from tasks.signals import activity_recorded, task_viewed
from users.models import AddressChange, Invitation, User
from users.signals import (
    activation_requested,
    email_change_requested,
    email_changed,
    invitation_sent,
    password_reset_requested,
)


def on_assignees_m2m_changed(
    sender: type,
    instance: Task | User,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """Tell only the newly added users, whichever side the assignment was made from.

    Django puts only the ids that were not assigned yet in post_add's pk_set.
    """
    if action != "post_add" or not pk_set:
        return
    through, added = Task.assigned_to.through, frozenset(pk_set)
    if reverse:  # user.tasks.add(*tasks): the instance is the user
        assignments = Assignments(through, added, frozenset([instance.pk]))
    else:  # task.assigned_to.add(*users)
        assignments = Assignments(through, frozenset([instance.pk]), added)
    recording.record_task_assigned(assignments)


def on_task_pre_delete(sender: type[Task], instance: Task, **kwargs: Any) -> None:
    """Snapshot the task for its followers now: after deletion the rows are gone.

    pre_delete also fires per instance for QuerySet.delete() and for cascades.
    """
    recording.record_task_deleted(instance)


def on_activity_recorded(
    sender: type[Activity], activities: list[Activity], **kwargs: Any
) -> None:
    """Created, unassigned, re-dated, status, commented: tasks' history says who
    to tell. The tasks (and projects) of the entries are read once, those the
    request does not hold already."""
    telling = [each for each in activities if each.verb in HISTORY_KINDS]
    if not telling:
        return
    unread = {each.task_id for each in telling if not holds_task(each)}
    tasks = Task.objects.select_related("project").in_bulk(unread) if unread else {}
    for activity in telling:
        if activity.task_id in tasks:
            activity.task = tasks[activity.task_id]
        recording.record_activity(activity)


def holds_task(activity: Activity) -> bool:
    """Whether the entry is a task's creation that came with the task and its
    project, both read from or written to the database: what the snapshot
    tells is then what the request has just written. (A change's task may
    be an instance read earlier, whose other fields another request may have
    changed since: those are read again.) A bare Project(pk=...) has no name
    to tell; it is still `adding` (Django gives it a database when a task
    takes it, so `db` would not say)."""
    if activity.verb != Activity.Verb.CREATED or not Activity.task.is_cached(activity):
        return False
    task = activity.task
    return (
        not task._state.adding
        and Task.project.is_cached(task)
        and not task.project._state.adding
    )


def on_task_viewed(sender: type[Task], task: Task, user: User, **kwargs: Any) -> None:
    """Its page says what the notifications about it said: they are read, and
    those whose email has not left yet will not be emailed."""
    inbox.read_task(user.pk, task.pk)


def on_user_post_save(
    sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """New inactive accounts only: superusers and accounts made active get nothing."""
    if created and not raw and not instance.is_active:
        recording.record_activation_email(instance)


def on_activation_requested(sender: type[User], user: User, **kwargs: Any) -> None:
    """The resend form asked (once per account per resend window: recording.py)."""
    recording.record_activation_email(user)


def on_password_reset_requested(sender: type[User], user: User, **kwargs: Any) -> None:
    recording.record_password_reset_email(user)


def on_email_change_requested(sender: type[User], user: User, **kwargs: Any) -> None:
    """The new address confirms the change; the current one is told of it."""
    recording.record_email_change_emails(user)


def on_email_changed(
    sender: type[User], user: User, change: AddressChange, **kwargs: Any
) -> None:
    """The address the account left is told, with the link that takes it back."""
    recording.record_email_changed_email(change)


def on_invitation_sent(
    sender: type[User], user: User, invitation: Invitation, **kwargs: Any
) -> None:
    """The invited address is sent the link that creates the account."""
    recording.record_invitation_email(invitation, by=user)


class TryLater(Exception):
    """The message was not taken: the webhook answers 500 and the ESP retries."""


def on_inbound(
    sender: type, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """An ESP's inbound webhook: the third door of notifications/inbound.py.
    Whatever else happens the ESP is answered 200 (taken, ignored or refused,
    as the logs and InboundMessage say): it would only send the same again."""
    message = event.message
    envelope = [message.envelope_recipient] if message.envelope_recipient else []
    raw = message.as_bytes()
    outcome = intake.receive(raw, envelope, message.envelope_sender or "")
    if outcome.verdict is intake.Verdict.TRY_LATER:
        raise TryLater(f"{esp_name} inbound message not taken: {outcome.reason}")


def on_tracking(
    sender: type, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """An ESP's tracking webhook: delivered, bounced, complained."""
    record_event(event, esp_name)


def on_request_started(sender: type, **kwargs: Any) -> None:
    dispatch.hold_announcements()


def on_request_finished(sender: type, **kwargs: Any) -> None:
    dispatch.release_announcements()


class Connection(NamedTuple):
    """A receiver, the signal it answers and the sender it listens to (None:
    every sender); its dispatch_uid is "notifications." and its name."""

    signal: Signal
    receiver: Callable[..., None]
    sender: type | None

    @property
    def uid(self) -> str:
        return f"notifications.{self.receiver.__name__}"


CONNECTIONS = (
    Connection(m2m_changed, on_assignees_m2m_changed, Task.assigned_to.through),
    Connection(pre_delete, on_task_pre_delete, Task),
    Connection(activity_recorded, on_activity_recorded, Activity),
    Connection(task_viewed, on_task_viewed, Task),
    Connection(post_save, on_user_post_save, User),
    Connection(activation_requested, on_activation_requested, User),
    Connection(password_reset_requested, on_password_reset_requested, User),
    Connection(email_change_requested, on_email_change_requested, User),
    Connection(email_changed, on_email_changed, User),
    Connection(invitation_sent, on_invitation_sent, User),
    # Every ESP's inbound and tracking views send these: no one sender to name.
    Connection(inbound, on_inbound, None),
    Connection(tracking, on_tracking, None),
    # Jobs are published once the response has gone (dispatch.py). Sent by
    # Django's handlers, WSGI and ASGI alike: no one sender to name.
    Connection(request_started, on_request_started, None),
    Connection(request_finished, on_request_finished, None),
)


def connect_receivers() -> None:
    """Connect every receiver with its sender and dispatch_uid."""
    for each in CONNECTIONS:
        each.signal.connect(each.receiver, sender=each.sender, dispatch_uid=each.uid)
