"""Email builders: the worker turns a delivery row into a message here.

Every email comes from a template triple (subject, text, HTML) under
notifications/email/, rendered in the recipient's time zone, with dates written
the one way the site writes them. Links are made by absolute_url(), from
FRONTEND_URL: the worker has no request. Tokens are made here, in the worker,
when the message is built. Notification emails (not account emails) carry the
reason they were sent, a link to the preferences, and a one-click unsubscribe
(RFC 8058: List-Unsubscribe and List-Unsubscribe-Post).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import Truncator

from notifications.digests import Item, digest_items
from notifications.models import ACCOUNT_KINDS, Delivery
from notifications.preferences import unsubscribe_token
from tasks.models import Task
from users.models import User
from users.tokens import (
    activation_token,
    email_change_token,
    encode_uid,
    password_reset_token,
)

Kind = Delivery.Kind

# Why each notification came: the last words of its footer.
REASONS: dict[str, str] = {
    Kind.TASK_ASSIGNED: "You get this email because you were assigned this task.",
    Kind.TASK_UNASSIGNED: "You get this email because you were removed from this task.",
    Kind.TASK_DELETED: "You get this email because you were assigned this task.",
    Kind.DUE_DATE_CHANGED: "You get this email because you are assigned this task.",
    Kind.TASK_COMPLETED: "You get this email because you created this task.",
    Kind.TASK_COMMENTED: "You get this email because you work on this task.",
    Kind.DIGEST: "You get this digest because you chose one for some notifications.",
    Kind.ACTIVATION: "You get this email because this address was used to sign up.",
    Kind.PASSWORD_RESET: "You get this email because a password reset was asked for.",
    Kind.EMAIL_CHANGE: (
        "You get this email because this address was entered as the new one of a "
        "Tasks account."
    ),
    Kind.EMAIL_CHANGE_NOTICE: (
        "You get this email because a change of your account's email address was "
        "asked for."
    ),
}


class Skip(Exception):
    """The email is no longer wanted: the account is active, the task is gone."""


class Undeliverable(Exception):
    """The email can never be sent (no address): a permanent failure."""


def absolute_url(viewname: str, *args: object, **kwargs: object) -> str:
    """The link to a named URL, for an email: FRONTEND_URL plus the reversed path."""
    frontend: str = settings.FRONTEND_URL
    return frontend + reverse(viewname, args=args, kwargs=kwargs)


def make_message(
    template_name: str,
    user: User,
    context: dict[str, Any],
    kind: str,
    to: str | None = None,
) -> EmailMultiAlternatives:
    """Build text and HTML from notifications/email/<template_name>.txt/.html and
    the subject from <kind>_subject.txt (kinds may share a body), to `to` (by
    default the user's address)."""
    context = {
        "user": user,
        "site_link": absolute_url("home"),
        "reason": REASONS.get(kind, ""),
        **context,
    }
    unsubscribe = ""
    if kind not in ACCOUNT_KINDS:
        unsubscribe = absolute_url(
            "notifications:unsubscribe", token=unsubscribe_token(user.pk, kind)
        )
        context["preferences_link"] = absolute_url("notifications:preferences")
        context["unsubscribe_link"] = unsubscribe
    prefix = f"notifications/email/{template_name}"
    with timezone.override(user.zone):
        rendered = render_to_string(f"notifications/email/{kind}_subject.txt", context)
        # One line: a CR or LF from a task title must not start a new header.
        context["subject"] = subject = "".join(rendered.splitlines()).strip()
        text = render_to_string(f"{prefix}.txt", context)
        html = render_to_string(f"{prefix}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to or user.email])
    message.attach_alternative(html, "text/html")
    if unsubscribe:
        message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def build_message(
    delivery: Delivery, tasks: Mapping[int, Task] | None = None
) -> EmailMultiAlternatives:
    """The message for a delivery, with a Message-ID that is the same on every try.

    `tasks` is what tasks_for() loaded for the whole batch; without it the task
    is read for this delivery alone.
    """
    if not delivery.address:
        raise Undeliverable("the recipient has no email address")
    if tasks is None:
        tasks = tasks_for([delivery])
    template_name, context = CONTEXTS[delivery.kind](delivery, tasks)
    message = make_message(
        template_name, delivery.recipient, context, delivery.kind, delivery.address
    )
    message.extra_headers["Message-ID"] = message_id_for(delivery)
    return message


def tasks_for(deliveries: Iterable[Delivery]) -> dict[int, Task]:
    """The live tasks (project, details) these deliveries name, in one query."""
    ids = {d.context.get("task_id") for d in deliveries if d.kind in LIVE_TASK_KINDS}
    ids.discard(None)
    related = Task.objects.select_related("project", "details")
    return related.in_bulk(ids) if ids else {}


def message_id_for(delivery: Delivery) -> str:
    """Deterministic, so a duplicate sent after a worker crash is recognisable."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    stamp = int(delivery.created_at.timestamp())
    return f"<delivery.{delivery.pk}.{stamp}@{domain or DNS_NAME}>"


def written(value: str | date | None) -> str:
    """A date as the site writes it, from a date or its ISO form."""
    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return formats.date_format(day)


def live_task(delivery: Delivery, tasks: Mapping[int, Task]) -> Task:
    task = tasks.get(delivery.context.get("task_id"))
    if task is None:
        raise Skip("the task was deleted before the email went out")
    return task


# The context of each kind: (template name, context) -----------------------------

Context = tuple[str, dict[str, Any]]


def task_assigned(delivery: Delivery, tasks: Mapping[int, Task]) -> Context:
    task = live_task(delivery, tasks)
    detail = getattr(task, "details", None)
    facts = [
        ("Task", task.title),
        ("Project", task.project.name),
        ("Priority", detail.get_priority_display() if detail else "Medium"),
        ("Due", written(task.due_date)),
    ]
    if delivery.context.get("by"):
        facts.append(("Assigned by", delivery.context["by"]))
    excerpt = Truncator(task.description).chars(300)
    link = absolute_url("tasks:detail", task.pk)
    return "task_assigned", {
        "task": task,
        "facts": facts,
        "excerpt": excerpt,
        "link": link,
        "by": delivery.context.get("by", ""),
    }


def task_deleted(delivery: Delivery, _tasks: Mapping[int, Task]) -> Context:
    snapshot = delivery.context
    facts = [
        ("Task", snapshot.get("title", "")),
        ("Project", snapshot.get("project", "")),
    ]
    if snapshot.get("due_date"):
        facts.append(("Was due", written(snapshot["due_date"])))
    return "task_deleted", {
        "title": snapshot.get("title", ""),
        "facts": facts,
        "by": snapshot.get("by", ""),
        "link": absolute_url("tasks:list"),
    }


def task_change(kind: str, heading: str, sentence: str) -> Callable[..., Context]:
    """The kinds that tell of one change to a task share one body (task_change):
    a sentence, facts, a link."""

    def context(delivery: Delivery, tasks: Mapping[int, Task]) -> Context:
        snapshot = delivery.context
        by = snapshot.get("by") or "Someone"
        facts = [("Task", snapshot.get("title", ""))]
        if kind == Kind.DUE_DATE_CHANGED:
            facts += [
                ("Was due", written(snapshot.get("before"))),
                ("Now due", written(snapshot.get("after"))),
            ]
        if kind == Kind.TASK_UNASSIGNED:
            link, link_label = absolute_url("tasks:list"), "See your tasks"
        else:
            link = absolute_url("tasks:detail", live_task(delivery, tasks).pk)
            link_label = "Open the task"
        return "task_change", {
            "title": snapshot.get("title", ""),
            "heading": heading,
            "sentence": sentence.format(by=by),
            "facts": facts,
            "link": link,
            "link_label": link_label,
            "excerpt": snapshot.get("excerpt", ""),
        }

    return context


def digest(delivery: Delivery, _tasks: Mapping[int, Task]) -> Context:
    items = [digest_line(item) for item in digest_items(delivery)]
    if not items:
        raise Skip("nothing was left to gather")
    return "digest", {"items": items, "link": absolute_url("tasks:list")}


SUMMARIES: dict[str, str] = {
    Kind.TASK_ASSIGNED: "{by} assigned you this task.",
    Kind.TASK_UNASSIGNED: "{by} removed you from this task.",
    Kind.TASK_DELETED: "{by} deleted this task.",
    Kind.DUE_DATE_CHANGED: "{by} moved the due date from {before} to {after}.",
    Kind.TASK_COMPLETED: "{by} completed this task.",
    Kind.TASK_COMMENTED: "{by} commented: “{excerpt}”",
}


def digest_line(item: Item) -> dict[str, Any]:
    snapshot = item.context
    summary = SUMMARIES.get(item.kind, "{by} changed this task.").format(
        by=snapshot.get("by") or "Someone",
        excerpt=snapshot.get("excerpt", ""),
        before=written(snapshot.get("before")),
        after=written(snapshot.get("after")),
    )
    gone = item.kind in (Kind.TASK_DELETED, Kind.TASK_UNASSIGNED)
    task_id = snapshot.get("task_id")
    link = "" if gone or not task_id else absolute_url("tasks:detail", task_id)
    return {"title": item.title, "summary": summary, "at": item.at, "link": link}


def activation(delivery: Delivery, _tasks: Mapping[int, Task]) -> Context:
    user = delivery.recipient
    # Activated once (active, or deactivated by an Admin since): no link for it.
    if user.is_active or user.activated_at is not None:
        raise Skip("the account is already active, or was activated before")
    token = activation_token(user)
    link = absolute_url("users:activate", uidb64=encode_uid(user), token=token)
    valid_days = settings.PASSWORD_RESET_TIMEOUT // 86400
    return "activation", {"link": link, "valid_days": valid_days}


def password_reset(delivery: Delivery, _tasks: Mapping[int, Task]) -> Context:
    user = delivery.recipient
    if not user.is_active:
        raise Skip("the account is inactive")
    uidb64, token = encode_uid(user), password_reset_token(user)
    link = absolute_url("users:password-reset-confirm", uidb64=uidb64, token=token)
    valid_days = settings.PASSWORD_RESET_TIMEOUT // 86400
    return "password_reset", {"link": link, "valid_days": valid_days}


def email_change(delivery: Delivery, _tasks: Mapping[int, Task]) -> Context:
    """The link that confirms the new address, sent to that address only."""
    user = delivery.recipient
    if not user.is_active:
        raise Skip("the account is inactive")
    if user.pending_email != delivery.address:
        raise Skip("the change was confirmed, cancelled or replaced since")
    uidb64, token = encode_uid(user), email_change_token(user)
    link = absolute_url("users:email-confirm", uidb64=uidb64, token=token)
    valid_days = settings.PASSWORD_RESET_TIMEOUT // 86400
    return "email_change", {
        "link": link,
        "valid_days": valid_days,
        "new_email": delivery.address,
    }


def email_change_notice(delivery: Delivery, _tasks: Mapping[int, Task]) -> Context:
    """Tells the address the account had that a change was asked for; sent even
    when the change is done or cancelled by now: the holder should know."""
    return "email_change_notice", {
        "new_email": delivery.context.get("new_email", ""),
        "reset_link": absolute_url("users:password-reset"),
        "profile_link": absolute_url("users:profile"),
    }


CONTEXTS: dict[str, Callable[[Delivery, Mapping[int, Task]], Context]] = {
    Kind.TASK_ASSIGNED: task_assigned,
    Kind.TASK_DELETED: task_deleted,
    Kind.TASK_UNASSIGNED: task_change(
        Kind.TASK_UNASSIGNED, "Removed From Task", "{by} removed you from a task."
    ),
    Kind.DUE_DATE_CHANGED: task_change(
        Kind.DUE_DATE_CHANGED,
        "Due Date Changed",
        "{by} moved the due date of your task.",
    ),
    Kind.TASK_COMPLETED: task_change(
        Kind.TASK_COMPLETED, "Task Completed", "{by} completed a task you created."
    ),
    Kind.TASK_COMMENTED: task_change(
        Kind.TASK_COMMENTED, "New Comment", "{by} commented on a task you work on."
    ),
    Kind.DIGEST: digest,
    Kind.ACTIVATION: activation,
    Kind.PASSWORD_RESET: password_reset,
    Kind.EMAIL_CHANGE: email_change,
    Kind.EMAIL_CHANGE_NOTICE: email_change_notice,
}
# The kinds whose email needs the task itself (its link, or its live details).
LIVE_TASK_KINDS = frozenset(
    {
        Kind.TASK_ASSIGNED,
        Kind.DUE_DATE_CHANGED,
        Kind.TASK_COMPLETED,
        Kind.TASK_COMMENTED,
    }
)
