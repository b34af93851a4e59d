"""Email builders: the worker turns a delivery row into a message here.

Every email comes from a template triple (subject, text, HTML) under
notifications/email/, named by its kind's declaration (notifications/kinds.py),
with the context its builder (notifications/contexts.py) gives, rendered in the
recipient's time zone. Links are made by absolute_url(), from FRONTEND_URL: the
worker has no request. Notification emails (not account emails) carry the reason
they were sent, a link to the preferences, and a one-click unsubscribe (RFC 8058:
List-Unsubscribe and List-Unsubscribe-Post); those about a task also join its
thread (notifications/threading.py) and link to muting it; those that give a
task a due date attach its calendar event (notifications/calendars.py). Every header is
written by headers_for(). With INBOUND_DOMAIN set, the envelope sender and
Reply-To are signed addresses of ours (return_addresses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from email.utils import format_datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from notifications import calendars, merge
from notifications.addresses import bounce_address, reply_address
from notifications.contexts import (
    TASK_GONE,
    Skip,
    filled,
    task_changes,
    task_link,
)
from notifications.kinds import KINDS, TASK_KINDS, Reason, footer_reason
from notifications.links import absolute_url
from notifications.merge import Drafts
from notifications.models import Delivery
from notifications.mutes import mute_token
from notifications.preferences import unsubscribe_token
from notifications.threading import Thread, mail_domain, thread_headers
from tasks.models import Task
from users.models import User


class Undeliverable(Exception):
    """The email can never be sent (no address): a permanent failure."""


def make_message(
    kind: str,
    user: User,
    context: dict[str, Any],
    to: str | None = None,
    template: str = "",
) -> EmailMultiAlternatives:
    """Build text and HTML from notifications/email/<the kind's template>.txt and
    .html (or `template`'s), and the subject from the kind's subject template,
    to `to` (by default the user's address). No header: headers_for() writes
    them."""
    declared = KINDS[kind]
    context = {
        "user": user,
        "site_link": absolute_url("home"),
        "reason": declared.reason,
        **context,
    }
    prefix = f"notifications/email/{template or declared.template}"
    with timezone.override(user.zone):
        rendered = render_to_string(f"notifications/email/{declared.subject}", context)
        # One line: a CR or LF from a task title must not start a new header.
        context["subject"] = subject = "".join(rendered.splitlines()).strip()
        text = render_to_string(f"{prefix}.txt", context)
        html = render_to_string(f"{prefix}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to or user.email])
    message.attach_alternative(html, "text/html")
    return message


def build_message(
    delivery: Delivery,
    tasks: Mapping[int, Task] | None = None,
    changes: Sequence[Delivery] | None = None,
    drafts: Drafts | None = None,
) -> EmailMultiAlternatives:
    """The message for a delivery, with a Message-ID that is the same on every try.

    `tasks` is what tasks_for() loaded for the whole batch; without it the task
    is read for this delivery alone. With `changes` (merged into it within its
    task's coalescing window) it tells them all in one email. With `drafts`
    (the batch's), an email about a task is filled in from the one its
    readers share (notifications/merge.py).
    """
    if not delivery.address:
        raise Undeliverable("the recipient has no email address")
    if tasks is None:
        tasks = tasks_for([delivery])
    if changes:
        message = compose_changes(delivery, changes, tasks)
        task = tasks.get(delivery.context.get("task_id"))
    else:
        task = live_task(delivery, tasks)
        thread = thread_of(delivery, tasks)
        if drafts is not None and delivery.kind in TASK_KINDS:
            return merged(delivery, task, thread, drafts)
        message = compose(delivery, task, thread)
    finish(message, delivery, task, [delivery, *(changes or ())])
    return message


def finish(
    message: EmailMultiAlternatives,
    delivery: Delivery,
    task: Task | None,
    told: Sequence[Delivery],
) -> None:
    """The calendar event of a task given a due date, and where mail about the
    message comes back."""
    wants_event = any(KINDS[each.kind].calendar for each in told)
    if task is not None and task.due_date is not None and wants_event:
        message.attach(calendars.attachment(task))
    return_addresses(message, delivery)


def merged(
    delivery: Delivery, task: Task | None, thread: Thread | None, drafts: Drafts
) -> EmailMultiAlternatives:
    """This reader's email, filled in from the draft its group shares."""

    def write(markers: dict[str, str]) -> EmailMultiAlternatives:
        message = compose(delivery, task, thread, personal=markers)
        finish(message, delivery, task, [delivery])
        message.to = [markers["to"]]
        if "reply_to" in markers:
            message.reply_to = [markers["reply_to"]]
        return message

    values = personal_values(delivery, task, thread)
    return drafts.message(delivery, values, envelope_sender(delivery), write)


def personal_values(
    delivery: Delivery, task: Task | None, thread: Thread | None
) -> dict[str, str]:
    """What is this reader's own in an email about a task (merge.py): the
    links signed for them, their address, Reply-To and Message-ID. Only
    these are worked out per reader; the rest is the draft's."""
    values = {"link": task_link(task, delivery.pk)["link"]}
    values |= footer_links(delivery, thread)
    values["Message-ID"] = message_id_for(delivery)
    values["List-Unsubscribe"] = list_unsubscribe(values["unsubscribe_link"])
    values["to"] = delivery.address
    reply = reply_to_of(delivery)
    if reply is not None:
        values["reply_to"] = reply
    return values


def compose_changes(
    lead: Delivery, changes: Sequence[Delivery], tasks: Mapping[int, Task]
) -> EmailMultiAlternatives:
    """One email, in the task's thread, telling every change of a window (the
    lead's and those merged into it, oldest first) and the task as it is now,
    for the strongest reason among them."""
    task = tasks.get(lead.context.get("task_id"))
    if task is None:
        raise Skip(TASK_GONE)
    told = [lead, *changes]
    lead.reason = strongest(change.reason for change in told)
    said = [(headline_of(change.kind), change) for change in told]
    context = task_changes(lead, task, said)
    return compose(lead, task, Thread.of_task(task), context, "task_changes")


def headline_of(kind: str) -> str:
    about = KINDS[kind].task
    return about.headline if about is not None else ""


def strongest(reasons: Iterable[str]) -> str:
    """The strongest of these reasons (Reason lists them strongest first)."""
    order = list(Reason.values)
    known = [reason for reason in reasons if reason in order]
    return min(known, key=order.index) if known else ""


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
    message.from_email = envelope_sender(delivery)
    reply = reply_to_of(delivery)
    if reply is not None:
        message.reply_to = [reply]


def envelope_sender(delivery: Delivery) -> str:
    """The envelope sender (Return-Path): the delivery's signed bounce address
    with INBOUND_DOMAIN set, else the From address."""
    if not settings.INBOUND_DOMAIN:
        return str(settings.DEFAULT_FROM_EMAIL)
    return bounce_address(delivery.pk)


def reply_to_of(delivery: Delivery) -> str | None:
    """Where a reply to an email about a live task goes (INBOUND_DOMAIN set)."""
    task_id = delivery.context.get("task_id")
    if not settings.INBOUND_DOMAIN or not KINDS[delivery.kind].live_task:
        return None
    return (
        reply_address(delivery.recipient_id, task_id)
        if isinstance(task_id, int)
        else None
    )


def compose(
    delivery: Delivery,
    task: Task | None,
    thread: Thread | None = None,
    context: dict[str, Any] | None = None,
    template: str = "",
    personal: Mapping[str, str] | None = None,
) -> EmailMultiAlternatives:
    """The message its kind's builder writes for this delivery and task (or
    with this context), in its task's thread, with every header; `personal`
    puts a draft's markers in place of the reader's own values (merge.py)."""
    if context is None:
        context = KINDS[delivery.kind].context(delivery, task)
    context = {**surroundings(delivery, thread), **context}
    marked = dict(personal or {})
    context.update({name: marked[name] for name in merge.LINKS if name in marked})
    message = make_message(
        delivery.kind, delivery.recipient, context, delivery.address, template
    )
    message.extra_headers.update(headers_for(delivery, thread))
    message.extra_headers.update(
        {name: marked[name] for name in merge.HEADERS if name in marked}
    )
    return message


def surroundings(delivery: Delivery, thread: Thread | None) -> dict[str, Any]:
    """What a notification says around its body: the links of its footer and,
    about a task, its thread (the subject), what happened (the first line),
    why this reader is told and the link that mutes the task."""
    declared = KINDS[delivery.kind]
    if declared.account:
        return {}
    links = {
        "preferences_link": absolute_url("notifications:preferences"),
        **footer_links(delivery, thread),
    }
    if declared.task is None or thread is None:
        return links
    return {
        **links,
        "thread": thread,
        "headline": filled(declared.task.headline, delivery.context),
        "reason": footer_reason(delivery.kind, delivery.reason, thread.project),
    }


def footer_links(delivery: Delivery, thread: Thread | None) -> dict[str, str]:
    """The footer's links signed for this reader: unsubscribe from the kind
    and, in a task's thread, mute the task."""
    links = {"unsubscribe_link": unsubscribe_link(delivery)}
    if KINDS[delivery.kind].task is not None and thread is not None:
        token = mute_token(delivery.recipient_id, thread.task_id)
        links["mute_link"] = absolute_url("notifications:mute", token=token)
    return links


# Every notification is written by a machine: no out-of-office reply, please
# (RFC 3834; X-Auto-Response-Suppress for Exchange and Outlook).
AUTOMATIC = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def headers_for(delivery: Delivery, thread: Thread | None) -> dict[str, str]:
    """Every header we add to an email, in one place: its Date and Message-ID;
    for a notification, the automatic-mail headers and the one-click
    unsubscribe (RFC 8058); for one about a task, its thread's."""
    # Django writes Date with formatdate(localtime=EMAIL_USE_LOCALTIME), which
    # in UTC is "-0000", RFC 5322's "zone unknown"; an aware time says +0000.
    headers = {"Date": format_datetime(timezone.now())}
    if delivery.pk is not None:  # a preview is never sent
        headers["Message-ID"] = message_id_for(delivery)
    if KINDS[delivery.kind].account:
        return headers
    headers.update(AUTOMATIC)
    headers["List-Unsubscribe"] = list_unsubscribe(unsubscribe_link(delivery))
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if thread is not None:
        headers.update(thread_headers(thread, delivery.reason))
    return headers


def list_unsubscribe(link: str) -> str:
    """The List-Unsubscribe header's value (RFC 2369): the link in brackets."""
    return f"<{link}>"


def unsubscribe_link(delivery: Delivery) -> str:
    token = unsubscribe_token(delivery.recipient_id, delivery.kind)
    return absolute_url("notifications:unsubscribe", token=token)


def live_task(delivery: Delivery, tasks: Mapping[int, Task]) -> Task | None:
    """The task, for a kind that needs it (Skip when it is gone); else None."""
    if not KINDS[delivery.kind].live_task:
        return None
    task = tasks.get(delivery.context.get("task_id"))
    if task is None:
        raise Skip(TASK_GONE)
    return task


def thread_of(delivery: Delivery, tasks: Mapping[int, Task]) -> Thread | None:
    """The thread of an email about a task: from the task, or from the
    snapshot when the task is gone. None for any other email."""
    if delivery.kind not in TASK_KINDS:
        return None
    task = tasks.get(delivery.context.get("task_id"))
    return Thread.of_task(task) if task else Thread.of_snapshot(delivery.context)


def tasks_for(deliveries: Iterable[Delivery]) -> dict[int, Task]:
    """The tasks (project, details) these emails are about, in one query."""
    ids = {d.context.get("task_id") for d in deliveries if d.kind in TASK_KINDS}
    ids.discard(None)
    related = Task.objects.select_related("project", "details")
    # The SEQUENCE of the calendar events some of them attach, in the same query.
    related = calendars.with_due_date_moves(related)
    return related.in_bulk(ids) if ids else {}


def message_id_for(delivery: Delivery) -> str:
    """Deterministic, so a duplicate sent after a worker crash is recognisable."""
    stamp = int(delivery.created_at.timestamp())
    return f"<delivery.{delivery.pk}.{stamp}@{mail_domain()}>"
