"""A local stand-in for an ESP's HTTP API: Postmark's send endpoint (POST /email),
served by the standard library's http.server on loopback.

It takes the requests and gives the answers Postmark's API documentation shows
(the X-Postmark-Server-Token header, the JSON message with To, Subject, TextBody,
HtmlBody and Headers; 200 with a MessageID, 422 with an ErrorCode, 429, 500), so
django-anymail's Postmark backend, pointed at it with POSTMARK_API_URL, talks to
it as to the real service. It misbehaves as the SMTP stand-in does (the same
Behaviour, devtools/smtp.py), in Postmark's words, and keeps what it accepted as
the SMTP stand-in does, so a test can run against either.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devtools.smtp import Behaviour, MailSink, Received, free_port

TOKEN = "postmark-server-token-for-tests"  # noqa: S105 (the stand-in's own)
# Postmark's answers (https://postmarkapp.com/developer/api/overview#error-codes).
NO_TOKEN = (401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."})
RATE_LIMITED = (429, {"ErrorCode": 429, "Message": "Rate limit exceeded."})
OUT_OF_CREDITS = (
    422,
    {"ErrorCode": 405, "Message": "Not allowed to send: you have run out of credits."},
)
BAD_SENDER = (
    422,
    {
        "ErrorCode": 400,
        "Message": "The 'From' address you supplied is not a Sender Signature on "
        "your account or server.",
    },
)
SERVER_ERROR = (500, {"ErrorCode": 0, "Message": "Internal Server Error"})
# How often the serving thread checks whether it was asked to stop (seconds).
POLL_INTERVAL = 0.02


def inactive(address: str) -> tuple[int, dict[str, Any]]:
    """Postmark's answer for an address on its suppression list (it bounced,
    complained or was suppressed by hand)."""
    return 422, {
        "ErrorCode": 406,
        "Message": "You tried to send to recipient(s) that have been marked as "
        f"inactive. Found inactive addresses: {address}. Inactive recipients are "
        "ones that have generated a hard bounce, a spam complaint, or a manual "
        "suppression.",
    }


class PostmarkAPI:
    """Postmark's send endpoint on 127.0.0.1, answering as `behaviour` says."""

    def __init__(self, sink: MailSink | None = None, token: str = TOKEN) -> None:
        self.sink = sink or MailSink()
        self.token = token
        self.port = free_port()
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        # serve_forever looks for shutdown() every poll_interval (0.5 s by default):
        # a test starting and stopping one per case would wait that long each time.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL,), daemon=True
        )

    @property
    def url(self) -> str:
        """What POSTMARK_API_URL names."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def behaviour(self) -> Behaviour:
        return self.sink.behaviour

    @property
    def received(self) -> list[Received]:
        return self.sink.received

    def start(self) -> PostmarkAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until at least `count` messages arrived; return them."""
        deadline = time.monotonic() + timeout
        while len(self.sink.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.sink.received)

    def __enter__(self) -> PostmarkAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer(self, message: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """Postmark's answer to one message, or None to hang up without one."""
        behaviour = self.behaviour
        if behaviour.delay:
            time.sleep(behaviour.delay)
        if behaviour.mode == "hang":
            self.stopping.wait(3600)
        if behaviour.mode == "hangup":
            self.sink.answer("hangup")
            return None
        to = parseaddr(str(message.get("To", "")))[1]
        if behaviour.reject_recipient(to):
            with self.sink.lock:
                self.sink.rejected[to] += 1
            return inactive(to)
        return self.refusal() or self.accept(message, to)

    def refusal(self) -> tuple[int, dict[str, Any]] | None:
        behaviour = self.behaviour
        if time.monotonic() < behaviour.quota_spent_until:
            return OUT_OF_CREDITS
        with self.sink.lock:
            over_rate = behaviour.over_rate()
        if behaviour.mode == "busy" or over_rate:
            return RATE_LIMITED
        roll = behaviour.random.random()
        if behaviour.mode == "tempfail" or roll < behaviour.tempfail_rate:
            return SERVER_ERROR
        if behaviour.mode == "permfail" or roll > 1 - behaviour.permfail_rate:
            return BAD_SENDER
        return None

    def accept(self, message: dict[str, Any], to: str) -> tuple[int, dict[str, Any]]:
        content = as_mime(message).as_bytes()
        sender = parseaddr(str(message.get("From", "")))[1]
        self.sink.keep(Received(sender, [to], content, time.monotonic(), content))
        return 200, {
            "To": message.get("To"),
            "SubmittedAt": datetime.now(UTC).isoformat(),
            "MessageID": str(uuid.uuid4()),
            "ErrorCode": 0,
            "Message": "OK",
        }


def as_mime(message: dict[str, Any]) -> EmailMessage:
    """The email Postmark would send for this API message."""
    mime = EmailMessage()
    for name in ("From", "To", "Subject", "ReplyTo"):
        if message.get(name):
            mime["Reply-To" if name == "ReplyTo" else name] = message[name]
    for header in message.get("Headers", []):
        mime[header["Name"]] = header["Value"]
    mime.set_content(message.get("TextBody", ""))
    if message.get("HtmlBody"):
        mime.add_alternative(message["HtmlBody"], subtype="html")
    return mime


def _handler(api: PostmarkAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection for many sends
        # The headers and the body go out as two writes: under Nagle's algorithm the
        # body would wait for the client's delayed ACK (40 ms) on every request.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with api.sink.lock:
                api.sink.connections += 1

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.rstrip("/") != "/email":
                self.reply(404, {"ErrorCode": 404, "Message": "Not found."})
            elif self.headers.get("X-Postmark-Server-Token") != api.token:
                self.reply(*NO_TOKEN)
            elif (answer := api.answer(json.loads(body))) is None:
                self.close_connection = True  # hang up without a word
            else:
                self.reply(*answer)

        def reply(self, status: int, payload: dict[str, Any]) -> None:
            api.sink.answer(str(status))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read the sink, not a log."""

    return Handler
