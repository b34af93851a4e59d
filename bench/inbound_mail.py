"""`make chaos` run 9: hostile mail at the inbound SMTP listener.

The product's own listener (`manage.py serve_inbound_smtp`, as make run starts
it) on the run's database; a person with a task and a sent email. Then, over
real SMTP: a 10 MB message, three broken MIME trees, a forged reply token, a DSN
signed by another deployment, and a reply bomb (100 replies from the person in
well under a minute). Each hostile message must be refused in the listener's
words (552, 554, 550), the bomb must post only the hour's share of comments and
tell its person once, and nothing else may change: the sent email stays sent,
no address is suppressed, no complaint recorded, no other comment posted.

`python -m bench.chaos --only 9` runs this alone on a stack of its own.
"""

from __future__ import annotations

import smtplib
import time
from typing import TYPE_CHECKING

from bench.chaos_results import HostileMail
from bench.data import create_employees, create_project, create_task

if TYPE_CHECKING:
    from bench.rig import Rig
    from notifications.models import Delivery
    from tasks.models import Task
    from users.models import User

DOMAIN = "inbound.chaos.test"
REPLY_BOMB = 100
TEN_MEGABYTES = 10 * 1024 * 1024


def hostile_mail(rig: Rig) -> HostileMail:
    from django.conf import settings

    settings.INBOUND_DOMAIN = DOMAIN  # this process signs the addresses it sends to
    port = rig.stack.start_inbound(DOMAIN)
    person, task, sent = prepare(rig)
    answers = {
        name: send(port, raw, to)
        for name, (raw, to) in hostile(person, task, sent).items()
    }
    started = time.monotonic()
    bomb = [
        send(port, reply(person, task, n), reply_to(person, task))
        for n in range(REPLY_BOMB)
    ]
    return observe(person, sent, answers, bomb, time.monotonic() - started)


def prepare(rig: Rig) -> tuple[User, Task, Delivery]:
    from django.utils import timezone

    from notifications.models import Delivery

    [person] = create_employees("inb", 1)
    task = create_task(create_project("Inbound"), "Hostile mail", [person])
    sent = Delivery.objects.create(
        kind=Delivery.Kind.TASK_COMMENTED,
        recipient=person,
        event_key=f"chaos-inbound:{person.pk}",
        context={"task_id": task.pk, "title": task.title},
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        message_id=f"<delivery.chaos.{person.pk}@example.com>",
    )
    return person, task, sent


def reply_to(person: User, task: Task) -> str:
    from notifications.addresses import reply_address

    return reply_address(person.pk, task.pk)


def crlf(*lines: str) -> bytes:
    return "\r\n".join(lines).encode()


def reply(person: User, task: Task, number: int, body: str = "") -> bytes:
    return crlf(
        f"From: {person.email}",
        f"To: {reply_to(person, task)}",
        "Subject: Re: Hostile mail",
        f"Message-ID: <bomb-{number}@chaos.example.net>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        body or f"Reply number {number} of the bomb.",
    )


def hostile(person: User, task: Task, sent: Delivery) -> dict[str, tuple[bytes, str]]:
    """Each hostile message, and the address it is sent to."""
    from django.test import override_settings

    from notifications.addresses import bounce_address

    to = reply_to(person, task)
    forged = to.split(".")[0] + "." + "a" * 24 + f"@{DOMAIN}"
    with override_settings(SECRET_KEY="another-deployment-" + "k" * 40):
        foreign = bounce_address(sent.pk)
    line = "y" * 76 + "\r\n"
    big = reply(person, task, 1_000_001, line * (TEN_MEGABYTES // len(line) + 1))
    messages = {"10 MB message": (big, to)}
    for name, body in BROKEN.items():
        head = (f"From: {person.email}", f"To: {to}", f"Message-ID: <{len(name)}@x>")
        messages[f"MIME tree: {name}"] = (crlf(*head, "MIME-Version: 1.0", *body), to)
    messages["forged reply token"] = (reply(person, task, 1_000_002), forged)
    messages["DSN of another deployment"] = (dsn_for(person, foreign), foreign)
    return messages


BROKEN = {  # a MIME tree's headers and body
    "no boundary": ("Content-Type: multipart/mixed", "", "--x", "", "hi"),
    "boundary never comes": ('Content-Type: multipart/mixed; boundary="b"', "", "hi"),
    "nested 40 deep": tuple(
        line
        for n in range(40)
        for line in (f'Content-Type: multipart/mixed; boundary="b{n}"', "", f"--b{n}")
    ),
}


def dsn_for(person: User, to: str) -> bytes:
    return crlf(
        "From: MAILER-DAEMON@mx.example.net",
        f"To: {to}",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <foreign-dsn@mx.example.net>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
        "",
        "--r",
        "Content-Type: text/plain",
        "",
        "It bounced.",
        "--r",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.net",
        "",
        f"Final-Recipient: rfc822; {person.email}",
        "Action: failed",
        "Status: 5.1.1",
        "",
        "--r--",
        "",
    )


def send(port: int, raw: bytes, to: str) -> str:
    """The listener's answer: to RCPT when it refused the address, else to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        try:
            smtp.sendmail("", [to], raw)
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = refused.recipients[to]
            return f"{code} {text.decode(errors='replace')}"
        except smtplib.SMTPResponseException as error:
            return f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    return "250"


def observe(
    person: User,
    sent: Delivery,
    answers: dict[str, str],
    bomb: list[str],
    seconds: float,
) -> HostileMail:
    from notifications.models import Complaint, Delivery, InboundMessage, Suppression
    from tasks.models import Comment

    return HostileMail(
        answers=answers,
        bomb_answers=sorted(set(bomb)),
        bomb_seconds=seconds,
        comments=Comment.objects.filter(author=person).count(),
        notices=Delivery.objects.filter(
            recipient=person, kind=Delivery.Kind.REPLY_REFUSED
        ).count(),
        inbound_rows=InboundMessage.objects.filter(user=person).count(),
        sent_status=Delivery.objects.get(pk=sent.pk).status,
        suppressed=Suppression.objects.filter(address=person.email.lower()).count(),
        complaints=Complaint.objects.filter(user=person).count(),
        limit=_limit(),
    )


def _limit() -> int:
    from django.conf import settings

    return int(settings.INBOUND_REPLIES_PER_HOUR)
