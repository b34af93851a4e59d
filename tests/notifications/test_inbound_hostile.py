"""Hostile mail at every door of the inbound intake: each refused in clear
words, and nothing else changes. These tests commit for real (the listener and
the pipe's command are other processes), so they live apart from the rolled-back
ones of test_inbound.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.processes import ROOT, Process
from devtools.smtp import free_port
from notifications.addresses import bounce_address, reply_address
from notifications.models import (
    Bounce,
    Complaint,
    Delivery,
    InboundMessage,
    Suppression,
)
from tasks.models import Comment, Task
from tests.factories import EmployeeFactory, TaskFactory, fresh
from tests.notifications.inbound_doors import (
    INBOUND_DOMAIN,
    MAILGUN_KEY,
    fixture,
    inbound_listener,
    reply,
    sent_to,
    smtp_send,
    via_pipe,
    via_webhook,
)
from tests.support.processes import LOG_DIR
from users.models import User

Status = Delivery.Status


@pytest.fixture(autouse=True)
def inbound_settings(settings: DjangoSettings) -> None:
    settings.INBOUND_DOMAIN = INBOUND_DOMAIN
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


@pytest.fixture
def ann() -> User:
    return EmployeeFactory(first_name="Ann", email="ann@example.net")


@pytest.fixture
def task(ann: User) -> Task:
    return TaskFactory(title="Prepare the quarterly report", assigned_to=[ann])


class TestHostileInput:
    """Each refused clearly at every door, and nothing else changes."""

    @pytest.fixture
    def listener(self) -> object:
        with inbound_listener() as port:
            yield port

    def nothing_changed(self) -> None:
        assert not InboundMessage.objects.exists()
        assert not Comment.objects.exists() and not Bounce.objects.exists()
        assert not Suppression.objects.exists() and not Complaint.objects.exists()

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_ten_megabyte_message(self, ann: User, task: Task, listener: int) -> None:
        raw = reply(ann, task, "x" * 76 + ("\n" + "y" * 76) * 130_000)
        to = reply_address(ann.pk, task.pk)
        assert len(raw) > 10_000_000
        assert via_pipe(raw, to) == 65
        assert smtp_send(listener, raw, to).startswith("552")
        assert via_webhook(raw, to) == 400
        self.nothing_changed()

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    @pytest.mark.parametrize(
        "body",
        [
            # A multipart that names no boundary.
            "Content-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nhi\n",
            # A boundary that never comes.
            'Content-Type: multipart/mixed; boundary="b"\n\nhi, no parts here\n',
            # Nested deeper than any mail program writes.
            "".join(
                f'Content-Type: multipart/mixed; boundary="b{n}"\n\n--b{n}\n'
                for n in range(40)
            )
            + "Content-Type: text/plain\n\ndeep\n",
        ],
        ids=["no-boundary", "boundary-never-comes", "nested-40-deep"],
    )
    def test_a_malformed_mime_tree(
        self, ann: User, task: Task, listener: int, body: str
    ) -> None:
        to = reply_address(ann.pk, task.pk)
        raw = (
            f"From: {ann.email}\nTo: {to}\nMessage-ID: <bad@example.net>\n"
            f"MIME-Version: 1.0\n{body}"
        ).encode()
        assert via_pipe(raw, to) == 65
        assert smtp_send(listener, raw, to).startswith("554 5.6.0")
        assert via_webhook(raw, to) == 200  # taken off the ESP's hands, refused
        self.nothing_changed()

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_a_forged_token_and_another_deployments_dsn(
        self, ann: User, task: Task, listener: int
    ) -> None:
        delivery = sent_to(ann, message_id="<delivery.1.1@example.com>")
        with override_settings(SECRET_KEY="another-deployment-" + "k" * 40):
            foreign = bounce_address(delivery.pk)
        forged = reply_address(ann.pk, task.pk)[: -len(INBOUND_DOMAIN) - 3] + "zz"
        forged += f"@{INBOUND_DOMAIN}"
        for to in (foreign, forged):
            raw = fixture(
                "bounce_gmail.eml",
                BOUNCES=to,
                RECIPIENT=ann.email,
                MESSAGE_ID=delivery.message_id,
            )
            assert via_pipe(raw, to) == 67
            assert smtp_send(listener, raw, to).startswith("550 5.1.1")
            assert via_webhook(raw, to) == 200
        assert fresh(delivery).status == Status.SENT
        self.nothing_changed()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_the_database_down_every_door_says_try_again_later(
    ann: User, task: Task, tmp_path: Path, settings: DjangoSettings
) -> None:
    """The real commands, started as an MTA (or make run) starts them, on a
    database that cannot be opened."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "False",
        "DB_NAME": "",
        "SQLITE_PATH": str(tmp_path / "no-such-folder" / "db.sqlite3"),
        "INBOUND_DOMAIN": INBOUND_DOMAIN,
    }
    to = reply_address(ann.pk, task.pk)
    raw = reply(ann, task, "The figures are in.")
    piped = subprocess.run(
        [sys.executable, "manage.py", "receive_email", "--recipient", to],
        input=raw, cwd=ROOT, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert piped.returncode == 75, piped.stderr.decode()[-2000:]
    port = free_port()
    command = [sys.executable, "manage.py", "serve_inbound_smtp", "--port", str(port)]
    listener = Process("inbound-db-down", command, env, LOG_DIR)
    listener.start(ready_text="Inbound SMTP listening", timeout=60)
    try:
        assert smtp_send(port, raw, to).startswith("451 4.3.0")
    finally:
        listener.stop()
    assert not Comment.objects.exists()
