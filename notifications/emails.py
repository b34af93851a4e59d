"""Email builders: the worker turns a delivery row into a message here.

Every email comes from a template triple (subject, text, HTML) under
notifications/email/. Links are made by absolute_url(), from FRONTEND_URL: the
worker has no request. Tokens are made here, in the worker, when the message is
built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse

from notifications.models import Delivery
from tasks.models import Task
from users.tokens import activation_token, encode_uid, password_reset_token


class Skip(Exception):
    """The email is no longer wanted: the account is active, the task is gone."""


class Undeliverable(Exception):
    """The email can never be sent (no address): a permanent failure."""


def absolute_url(viewname: str, *args: object, **kwargs: object) -> str:
    """The link to a named URL, for an email: FRONTEND_URL plus the reversed path."""
    frontend: str = settings.FRONTEND_URL
    return frontend + reverse(viewname, args=args, kwargs=kwargs)


def make_message(
    template_name: str, to: str, context: dict[str, Any]
) -> EmailMultiAlternatives:
    """Build subject, text and HTML from notifications/email/<template_name>*."""
    context = {"site_link": absolute_url("home"), **context}
    prefix = f"notifications/email/{template_name}"
    rendered = render_to_string(f"{prefix}_subject.txt", context)
    # One line: a CR or LF from a task title must not start a new header.
    subject = "".join(rendered.splitlines()).strip()
    message = EmailMultiAlternatives(
        subject, render_to_string(f"{prefix}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"{prefix}.html", context), "text/html")
    return message


def build_message(
    delivery: Delivery, tasks: Mapping[int, Task] | None = None
) -> EmailMultiAlternatives:
    """The message for a delivery, with a Message-ID that is the same on every try.

    `tasks` is what tasks_for() loaded for the whole batch; without it the task
    is read for this delivery alone.
    """
    if not delivery.recipient.email:
        raise Undeliverable("the recipient has no email address")
    if tasks is None:
        tasks = tasks_for([delivery])
    message = BUILDERS[delivery.kind](delivery, tasks)
    message.extra_headers["Message-ID"] = message_id_for(delivery)
    return message


def tasks_for(deliveries: Iterable[Delivery]) -> dict[int, Task]:
    """The live tasks (with their projects) that these deliveries name, one query."""
    ids = {
        delivery.context.get("task_id")
        for delivery in deliveries
        if delivery.kind == Delivery.Kind.TASK_ASSIGNED
    }
    ids.discard(None)
    return Task.objects.select_related("project").in_bulk(ids) if ids else {}


def message_id_for(delivery: Delivery) -> str:
    """Deterministic, so a duplicate sent after a worker crash is recognisable."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    stamp = int(delivery.created_at.timestamp())
    return f"<delivery.{delivery.pk}.{stamp}@{domain or DNS_NAME}>"


def task_assigned_email(
    delivery: Delivery, tasks: Mapping[int, Task]
) -> EmailMultiAlternatives:
    task = tasks.get(delivery.context.get("task_id"))
    if task is None:
        raise Skip("the task was deleted before the email went out")
    context = {
        "user": delivery.recipient,
        "task": task,
        "project": task.project,
        "link": absolute_url("tasks:detail", task.pk),
    }
    return make_message("task_assigned", delivery.recipient.email, context)


def task_deleted_email(
    delivery: Delivery, _tasks: Mapping[int, Task]
) -> EmailMultiAlternatives:
    context = {"user": delivery.recipient, **delivery.context}
    context["tasks_link"] = absolute_url("tasks:list")
    return make_message("task_deleted", delivery.recipient.email, context)


def activation_email(
    delivery: Delivery, _tasks: Mapping[int, Task]
) -> EmailMultiAlternatives:
    user = delivery.recipient
    # Activated once (active, or deactivated by an Admin since): no link for it.
    if user.is_active or user.activated_at is not None:
        raise Skip("the account is already active, or was activated before")
    token = activation_token(user)
    link = absolute_url("users:activate", uidb64=encode_uid(user), token=token)
    context = {"user": user, "link": link}
    context["valid_days"] = settings.PASSWORD_RESET_TIMEOUT // 86400
    return make_message("activation", user.email, context)


def password_reset_email(
    delivery: Delivery, _tasks: Mapping[int, Task]
) -> EmailMultiAlternatives:
    user = delivery.recipient
    if not user.is_active:
        raise Skip("the account is inactive")
    token = password_reset_token(user)
    link = absolute_url(
        "users:password-reset-confirm", uidb64=encode_uid(user), token=token
    )
    context = {"user": user, "link": link}
    context["valid_days"] = settings.PASSWORD_RESET_TIMEOUT // 86400
    return make_message("password_reset", user.email, context)


# Each builder takes the delivery and the batch's tasks, which only one needs.
Builder = Callable[[Delivery, Mapping[int, Task]], EmailMultiAlternatives]
BUILDERS: dict[str, Builder] = {
    Delivery.Kind.TASK_ASSIGNED: task_assigned_email,
    Delivery.Kind.TASK_DELETED: task_deleted_email,
    Delivery.Kind.ACTIVATION: activation_email,
    Delivery.Kind.PASSWORD_RESET: password_reset_email,
}
