"""Email builders: the worker turns a delivery row into a message here.

Every email comes from a template triple (subject, text, HTML) under
notifications/email/, named by its kind's declaration (notifications/kinds.py),
with the context its builder (notifications/contexts.py) gives, rendered in the
recipient's time zone. Links are made by absolute_url(), from FRONTEND_URL: the
worker has no request. Notification emails (not account emails) carry the reason
they were sent, a link to the preferences, and a one-click unsubscribe (RFC 8058:
List-Unsubscribe and List-Unsubscribe-Post). With INBOUND_DOMAIN set, the envelope
sender and Reply-To are signed addresses of ours (return_addresses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.addresses import bounce_address, reply_address
from notifications.contexts import TASK_GONE, Skip
from notifications.kinds import KINDS
from notifications.links import absolute_url
from notifications.models import Delivery
from notifications.preferences import unsubscribe_token
from tasks.models import Task
from users.models import User


class Undeliverable(Exception):
    """The email can never be sent (no address): a permanent failure."""


def make_message(
    kind: str, user: User, context: dict[str, Any], to: str | None = None
) -> EmailMultiAlternatives:
    """Build text and HTML from notifications/email/<the kind's template>.txt and
    .html, and the subject from <kind>_subject.txt, to `to` (by default the
    user's address)."""
    declared = KINDS[kind]
    context = {
        "user": user,
        "site_link": absolute_url("home"),
        "reason": declared.reason,
        **context,
    }
    unsubscribe = ""
    if not declared.account:
        unsubscribe = absolute_url(
            "notifications:unsubscribe", token=unsubscribe_token(user.pk, kind)
        )
        context["preferences_link"] = absolute_url("notifications:preferences")
        context["unsubscribe_link"] = unsubscribe
    prefix = f"notifications/email/{declared.template}"
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
    message = compose(delivery, live_task(delivery, tasks))
    message.extra_headers["Message-ID"] = message_id_for(delivery)
    return_addresses(message, delivery)
    return message


def return_addresses(message: EmailMultiAlternatives, delivery: Delivery) -> None:
    """Where mail about this message comes back (INBOUND_DOMAIN set): bounces to
    a signed envelope sender naming the delivery (VERP), and, for an email about
    a live task, replies to a signed address naming its person and task.

    The From header stays the product's address; from_email, which Django's
    SMTP backend and django-anymail take for the envelope sender when a From
    header is given, becomes the bounce address.
    """
    if not settings.INBOUND_DOMAIN:
        return
    message.extra_headers["From"] = message.from_email
    message.from_email = bounce_address(delivery.pk)
    task_id = delivery.context.get("task_id")
    if KINDS[delivery.kind].live_task and isinstance(task_id, int):
        message.reply_to = [reply_address(delivery.recipient_id, task_id)]


def compose(delivery: Delivery, task: Task | None) -> EmailMultiAlternatives:
    """The message its kind's builder writes for this delivery and task."""
    context = KINDS[delivery.kind].context(delivery, task)
    return make_message(delivery.kind, delivery.recipient, context, delivery.address)


def live_task(delivery: Delivery, tasks: Mapping[int, Task]) -> Task | None:
    """The task, for a kind that needs it (Skip when it is gone); else None."""
    if not KINDS[delivery.kind].live_task:
        return None
    task = tasks.get(delivery.context.get("task_id"))
    if task is None:
        raise Skip(TASK_GONE)
    return task


def tasks_for(deliveries: Iterable[Delivery]) -> dict[int, Task]:
    """The live tasks (project, details) these deliveries name, in one query."""
    ids = {d.context.get("task_id") for d in deliveries if KINDS[d.kind].live_task}
    ids.discard(None)
    related = Task.objects.select_related("project", "details")
    return related.in_bulk(ids) if ids else {}


def message_id_for(delivery: Delivery) -> str:
    """Deterministic, so a duplicate sent after a worker crash is recognisable."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    stamp = int(delivery.created_at.timestamp())
    return f"<delivery.{delivery.pk}.{stamp}@{domain or DNS_NAME}>"
