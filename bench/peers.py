"""The peers of `make bench`: how a Django team would otherwise send the product's
assignment emails, each run as its own process against the same SMTP server.

`python -m bench.peers PEER CLOCK PREFIX UNITS PROJECT_ID PEOPLE CONTENT`, with
DJANGO_SETTINGS_MODULE=bench.peer_settings and the stack's environment. Every
peer sends UNITS x 10 emails (one per person, the product's rendered assignment
email with a marker in the subject). Each unit is a task created for ten people,
as a request would make it, with the product's notifications off (bench/switch.py):

- CLOCK "request": one transaction per unit, the peer's work for its ten emails
  inside it (send them, queue them or publish them), as 200 requests would;
- CLOCK "commit": one transaction for every unit; the clock starts at its COMMIT.

Prints JSON: the wall-clock time the clock starts at. The bench process reads the
end at its SMTP server (the last email of PREFIX accepted).

Peers, and the product run the same way (a process of its own, its
receivers connected) so that all of them share the bench process's SMTP
server alike:
- product: the product's own receivers and worker;
- django: Django's SMTP backend, one connection kept open, send_messages per unit;
- post_office: django-post-office, mail.send() queues a row per email (in the
  transaction), then send_queued_mail sends them (durable);
- celery_email: django-celery-email, its backend publishes chunks of 10 to a
  Celery worker of its own that sends them (no per-message record).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import django

from bench.inbox import markers


def main() -> None:
    peer, clock, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    units, project_id = int(sys.argv[4]), int(sys.argv[5])
    people_ids = [int(pk) for pk in sys.argv[6].split(",")]
    with open(sys.argv[7]) as file:
        content = json.load(file)
    django.setup()
    if peer != "product":
        import bench.quiet  # noqa: F401  its import disconnects the product's receivers

    run = PeerRun(PEERS[peer](), content, prefix, project_id, people_ids)
    started = run.requests(units) if clock == "request" else run.one_commit(units)
    run.peer.drain()
    print(json.dumps({"started": started}), flush=True)


class Peer:
    """What a peer does with one unit's ten messages, and after them all."""

    durable = False  # queues inside the transaction, rather than after it

    def take(self, messages: list[Any]) -> None:
        raise NotImplementedError

    def drain(self) -> None:
        """Send what was queued (post_office); the others have nothing left."""


class DjangoConnection(Peer):
    def __init__(self) -> None:
        from django.core.mail import get_connection

        self.connection = get_connection("django.core.mail.backends.smtp.EmailBackend")
        self.connection.open()

    def take(self, messages: list[Any]) -> None:
        self.connection.send_messages(messages)

    def drain(self) -> None:
        self.connection.close()


class PostOffice(Peer):
    durable = True

    def take(self, messages: list[Any]) -> None:
        from post_office import mail

        for message in messages:
            mail.send(
                message.to,
                message.from_email,
                subject=message.subject,
                message=message.body,
                html_message=message.alternatives[0][0],
            )

    def drain(self) -> None:
        from django.core.management import call_command

        call_command("send_queued_mail", processes=1, verbosity=0)


class CeleryEmail(Peer):
    def __init__(self) -> None:
        from django.core.mail import get_connection

        self.connection = get_connection("djcelery_email.backends.CeleryEmailBackend")

    def take(self, messages: list[Any]) -> None:
        self.connection.send_messages(messages)  # publishes chunks of 10


class Product(Peer):
    """The product itself, as the web runs it: its receivers record each
    transaction's emails and publish them on commit to its own worker."""

    durable = True

    def take(self, messages: list[Any]) -> None:
        """Nothing: the receivers did it all when the task was assigned."""


PEERS: dict[str, Callable[[], Peer]] = {
    "product": Product,
    "django": DjangoConnection,
    "post_office": PostOffice,
    "celery_email": CeleryEmail,
}


class PeerRun:
    def __init__(
        self,
        peer: Peer,
        content: dict[str, str],
        prefix: str,
        project_id: int,
        people_ids: Sequence[int],
    ) -> None:
        from users.models import User

        self.peer, self.content, self.prefix = peer, content, prefix
        self.project_id = project_id
        self.people = list(User.objects.filter(pk__in=people_ids).order_by("pk"))

    def requests(self, units: int) -> float:
        """One transaction per unit, the peer's work inside it."""
        from django.db import transaction

        started = time.time()
        for tag in markers(self.prefix, units):
            with transaction.atomic():
                self.create_task(tag)
                self.peer.take(self.messages(tag))
        return started

    def one_commit(self, units: int) -> float:
        """Every unit in one transaction; the clock starts at its COMMIT."""
        from django.db import transaction

        tags = markers(self.prefix, units)
        committed: list[float] = []
        with transaction.atomic():
            # Registered first: the time of the COMMIT, before any other hook.
            transaction.on_commit(lambda: committed.append(time.time()))
            for tag in tags:
                self.create_task(tag)
                if self.peer.durable:
                    self.peer.take(self.messages(tag))
        started = committed[0]
        if not self.peer.durable:
            for tag in tags:
                self.peer.take(self.messages(tag))
        return started

    def create_task(self, tag: str) -> None:
        from bench.data import create_task
        from tasks.models import Project

        project = Project(pk=self.project_id)
        create_task(project, f"Load {tag}", self.people)

    def messages(self, tag: str) -> list[Any]:
        from django.core.mail import EmailMultiAlternatives

        messages = []
        for person in self.people:
            message = EmailMultiAlternatives(
                f"{self.content['subject']} {tag}",
                self.content["text"],
                self.content["from"],
                [person.email],
            )
            message.attach_alternative(self.content["html"], "text/html")
            messages.append(message)
        return messages


if __name__ == "__main__":
    main()
