"""Mail that comes back, under the real processes: a Celery worker sends over
real SMTP, `manage.py serve_inbound_smtp` runs as make run starts it, and this
process is the web side. A reply to a task email, sent to the inbound port,
appears as a comment on the task page; a DSN for the email turns it bounced
and suppresses the address."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.processes import Process
from devtools.smtp import Received, SMTPServer, free_port
from notifications.models import Delivery, Suppression
from tests.conftest import LOG_DIR
from tests.factories import EmployeeFactory, ManagerFactory, TaskFactory
from tests.notifications.inbound_doors import INBOUND_DOMAIN, fixture, smtp_send

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
REPLY_TEXT = "the figures from every team by Thursday"  # as the page escapes it


@pytest.fixture
def worker_env(worker_env: dict[str, str], settings: DjangoSettings) -> dict[str, str]:
    settings.INBOUND_DOMAIN = INBOUND_DOMAIN
    return {**worker_env, "INBOUND_DOMAIN": INBOUND_DOMAIN}


@pytest.fixture
def inbound_port(worker_env: dict[str, str]) -> Iterator[int]:
    """The inbound listener as its own process, on the test database."""
    port = free_port()
    env = {**worker_env, "INBOUND_SMTP_PORT": str(port)}
    command = [sys.executable, "manage.py", "serve_inbound_smtp"]
    listener = Process("inbound-smtp", command, env, LOG_DIR)
    listener.start(ready_text="Inbound SMTP listening", timeout=60)
    yield port
    listener.stop()


def within(seconds: float, condition: Callable[[], object]) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def email_to(smtp: SMTPServer, address: str) -> Received:
    found = within(30, lambda: smtp.sink.messages_to(address))
    assert isinstance(found, list)
    return found[0]


def test_a_reply_to_a_task_email_appears_as_a_comment_on_the_task_page(
    worker: Process, smtp_server: SMTPServer, inbound_port: int
) -> None:
    manager, ann = ManagerFactory(), EmployeeFactory(email="ann@example.net")
    task = TaskFactory(title="Prepare the quarterly report", created_by=manager)
    task.assigned_to.add(ann)
    assigned = email_to(smtp_server, ann.email)
    reply_to = str(assigned.message["Reply-To"])
    assert reply_to.startswith("reply+") and reply_to.endswith(INBOUND_DOMAIN)

    raw = fixture(
        "reply_gmail.eml",
        REPLY=reply_to,
        RECIPIENT=ann.email,
        MESSAGE_ID=assigned.message_id,
    )
    assert smtp_send(inbound_port, raw, reply_to, ann.email) == "250 taken"

    page = Client()
    page.force_login(manager)
    url = f"/tasks/{task.pk}/"
    within(10, lambda: REPLY_TEXT in page.get(url).content.decode())
    # A comment like any other: the creator is emailed about it, in the
    # task's thread (after the email that told them of its creation).
    headline = f"{ann.get_full_name()} commented on this task."
    [told] = within(
        30,
        lambda: [
            each
            for each in smtp_server.sink.messages_to(manager.email)
            if each.body().startswith(headline)
        ],
    )
    assert told.subject == f"[{task.project.name}] {task.title} (#{task.pk})"
    assert REPLY_TEXT in told.body()


def test_a_dsn_for_a_sent_email_turns_it_bounced_and_suppresses_the_address(
    worker: Process, smtp_server: SMTPServer, inbound_port: int
) -> None:
    manager, ann = ManagerFactory(), EmployeeFactory(email="ann@example.net")
    TaskFactory(title="Prepare the quarterly report").assigned_to.add(ann)
    assigned = email_to(smtp_server, ann.email)
    envelope_sender = assigned.mail_from
    assert envelope_sender.startswith("bounces+")
    delivery = Delivery.objects.get(recipient=ann)
    within(10, lambda: Delivery.objects.get(pk=delivery.pk).status == "sent")

    raw = fixture(
        "bounce_gmail.eml",
        BOUNCES=envelope_sender,
        RECIPIENT=ann.email,
        MESSAGE_ID=assigned.message_id,
    )
    assert smtp_send(inbound_port, raw, envelope_sender) == "250 taken"
    within(10, lambda: Delivery.objects.get(pk=delivery.pk).status == "bounced")
    assert Suppression.objects.filter(address=ann.email).exists()
    log = Client()
    log.force_login(manager)
    page = log.get("/notifications/").content.decode()
    assert "Bounced <time" in page and "550-5.1.1 The email account" in page
