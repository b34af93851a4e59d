"""The three doors of the inbound intake, as the tests knock on them, and the
fixtures (tests/notifications/inbound/*.eml, README.md there) filled in.

Each door returns what its own caller would see: the pipe an exit status, the
SMTP listener its reply to DATA (or to RCPT, when it refused the address), the
webhook an HTTP status.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import smtplib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command
from django.test import Client

from devtools.smtp import free_port
from notifications.addresses import reply_address
from notifications.inbound_smtp import inbound_server
from notifications.models import Delivery
from tasks.models import Task
from tests.factories import DeliveryFactory
from users.models import User

FIXTURES = Path(__file__).resolve().parent / "inbound"
INBOUND_DOMAIN = "inbound.tasks.test"
MAILGUN_KEY = "key-for-the-tests-mailgun-signs-with"
WEBHOOK = "/anymail/mailgun/inbound_mime/"


def fixture(name: str, **values: str) -> bytes:
    """A fixture with its %%NAME%% placeholders filled in."""
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace(f"%%{key}%%", value)
    assert "%%" not in text, f"{name}: a placeholder is left unfilled"
    return text.encode()


def via_pipe(raw: bytes, recipient: str) -> int:
    """`manage.py receive_email --recipient ...` with the message on stdin."""
    stdin = io.TextIOWrapper(io.BytesIO(raw))
    saved = sys.stdin
    sys.stdin = stdin
    try:
        call_command("receive_email", "--recipient", recipient)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        sys.stdin = saved
    return 0


@contextmanager
def inbound_listener() -> Iterator[int]:
    """The product's inbound SMTP listener on a free loopback port."""
    port = free_port()
    server = inbound_server("127.0.0.1", port)
    server.start()
    try:
        yield port
    finally:
        server.stop()


def smtp_send(port: int, raw: bytes, recipient: str, sender: str = "") -> str:
    """MAIL, RCPT, DATA over real SMTP; the reply that settled it. Lines end
    in CRLF on the wire, as every MTA sends them (smtplib leaves bytes alone)."""
    wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        try:
            smtp.sendmail(sender, [recipient], wire)
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = refused.recipients[recipient]
            return f"{code} {text.decode()}"
        except smtplib.SMTPResponseException as error:
            return f"{error.smtp_code} {error.smtp_error.decode()}"
        code, text = smtp.noop()
        return "250 taken" if code == 250 else f"{code} {text.decode()}"


def via_webhook(raw: bytes, recipient: str, key: str = MAILGUN_KEY) -> int:
    """Mailgun's inbound route forwarding the raw MIME (a URL ending in "mime"),
    signed as Mailgun signs it: HMAC-SHA256 of timestamp and token."""
    timestamp, token = str(int(time.time())), hashlib.sha256(raw).hexdigest()[:50]
    signature = hmac.new(
        key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    fields = {
        "recipient": recipient,
        "sender": "someone@example.net",
        "from": "someone@example.net",
        "subject": "Re: a task",
        "body-mime": raw.decode(),
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }
    return Client().post(WEBHOOK, fields).status_code


Door = Callable[[bytes, str], object]


def sent_to(user: User, **fields: object) -> Delivery:
    return DeliveryFactory(recipient=user, status=Delivery.Status.SENT, **fields)


def reply(user: User, task: Task, text: str, number: int = 1, **headers: str) -> bytes:
    lines = {
        "From": f"Ann <{user.email}>",
        "To": reply_address(user.pk, task.pk),
        "Subject": "Re: New Task Assigned",
        "Message-ID": f"<reply-{number}@example.net>",
        **headers,
    }
    head = "".join(f"{name}: {value}\n" for name, value in lines.items())
    return f"{head}Content-Type: text/plain; charset=utf-8\n\n{text}\n".encode()
