"""A real SMTP server on loopback (aiosmtpd) that can be told how to misbehave.

Used by `make run` as the local mail catcher, by the tests as the peer the worker
talks to, and by the benchmarks and fault runs. It speaks real SMTP over TCP, so the
worker's smtplib code path is the production one.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# Real providers' words: Gmail's, Amazon SES's.
TEMPFAIL = "450 4.2.1 The user you are trying to contact is receiving mail too quickly"
BUSY = "451 4.3.0 Temporary failure, try again later"
THROTTLED = "454 Throttling failure: Maximum sending rate exceeded."
QUOTA_SPENT = "550 5.4.5 Daily user sending quota exceeded."
# A destination's own server, answering RCPT (greylisting): that domain, for now.
GREYLISTED = "451 4.7.1 Greylisted, please try again later"


@dataclass
class Behaviour:
    """How the server answers. Fields may be changed while it runs."""

    delay: float = 0.0  # seconds spent on each message before answering
    tempfail_rate: float = 0.0  # share of messages answered `tempfail_reply`
    tempfail_reply: str = TEMPFAIL  # a 4xx about this recipient: retry it later
    permfail_rate: float = 0.0  # share of messages answered 554
    mode: str = "accept"  # accept | tempfail | busy | permfail | hangup | hang
    reject_recipient: Callable[[str], bool] = lambda address: False  # 550 at RCPT
    defer_recipient: Callable[[str], bool] = lambda address: False  # 451 at RCPT
    # A provider's limits: above `max_rate` messages a second it answers 454; until
    # `quota_spent_until` (time.monotonic()) it answers 550 5.4.5.
    max_rate: float | None = None
    quota_spent_until: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.recent: list[float] = []  # when the last second's messages came

    def over_rate(self) -> bool:
        """Counts this message; True when it is one too many for the last second."""
        if self.max_rate is None:
            return False
        now = time.monotonic()
        self.recent = [t for t in self.recent if now - t < 1.0]
        if len(self.recent) >= self.max_rate:
            return True
        self.recent.append(now)
        return False


@dataclass
class Received:
    """One accepted message. Parsed only when read: a server under a benchmark's
    load spends its CPU answering, not parsing."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes  # the DATA, as parsed from
    accepted_at: float
    raw: bytes = b""  # the DATA as received, for header-injection checks

    @cached_property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)  # policy.default makes one
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part else ""


@dataclass
class MailSink:
    """aiosmtpd handler: records accepted messages, answers as its behaviour says."""

    behaviour: Behaviour = field(default_factory=Behaviour)
    save_dir: Path | None = None
    echo: bool = False
    received: list[Received] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)  # 550s by address
    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: int = 0  # SMTP sessions greeted with EHLO: one per connection
    pipelining: bool = True  # offered in the EHLO reply, as Postfix and Gmail do

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does when there is no hook
        with self.lock:
            self.connections += 1
        if self.pipelining:  # aiosmtpd reads pipelined commands one by one
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if self.behaviour.reject_recipient(address):
            with self.lock:
                self.rejected[address] += 1
            return self.answer("550 5.1.1 Recipient address rejected: no such user")
        if self.behaviour.defer_recipient(address):
            return self.answer(GREYLISTED)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        behaviour = self.behaviour
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if behaviour.mode == "hang":
            await asyncio.sleep(3600)
        if behaviour.mode == "hangup":
            self.answer("hangup")
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        if time.monotonic() < behaviour.quota_spent_until:
            return self.answer(QUOTA_SPENT)
        if behaviour.mode == "busy":
            return self.answer(BUSY)
        with self.lock:
            over_rate = behaviour.over_rate()
        if over_rate:
            return self.answer(THROTTLED)
        roll = behaviour.random.random()
        if behaviour.mode == "tempfail" or roll < behaviour.tempfail_rate:
            return self.answer(behaviour.tempfail_reply)
        if behaviour.mode == "permfail" or roll > 1 - behaviour.permfail_rate:
            return self.answer("554 5.7.1 Message rejected")
        self._record(envelope)
        return self.answer("250 2.0.0 OK: queued")

    def answer(self, reply: str) -> str:
        """Count the reply by its code (or first word), and return it."""
        with self.lock:
            self.answers[reply.split(" ", 1)[0]] += 1
        return reply

    def _record(self, envelope: Envelope) -> None:
        content = envelope.content
        assert isinstance(content, bytes)  # decode_data is off: DATA stays bytes
        item = Received(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            content,
            time.monotonic(),
            envelope.original_content or content,
        )
        self.keep(item)

    def keep(self, item: Received) -> None:
        """One more accepted message: listed, and saved or echoed if asked."""
        with self.lock:
            self.received.append(item)
            count = len(self.received)
        if self.save_dir:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            (self.save_dir / f"{int(time.time() * 1000)}-{count}.eml").write_bytes(
                with_return_path(item)
            )
        if self.echo:
            print(
                f"[smtp] to={','.join(item.rcpt_tos)} subject={item.subject!r}",
                flush=True,
            )

    def messages_to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.received if address in m.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.answers.clear()
            self.connections = 0
            self.rejected.clear()


def server_tls_context(certificate: Certificate | None) -> ssl.SSLContext:
    if certificate is None:
        raise ValueError("a TLS server needs a certificate")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.certfile, certificate.keyfile)
    return context


def authenticator(login: tuple[str, str]) -> Callable[..., AuthResult]:
    """Accepts exactly this user and password (PLAIN or LOGIN)."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        given = (
            (data.login.decode(), data.password.decode())
            if isinstance(data, LoginPassword)
            else None
        )
        # handled=False: aiosmtpd answers a failure with 535 itself.
        return AuthResult(success=given == login, handled=False)

    return authenticate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Certificate:
    """The server's certificate and key files, and the CA a client must trust."""

    certfile: str
    keyfile: str
    cafile: str


class SMTPServer:
    """Runs a MailSink on 127.0.0.1 in a background thread.

    tls="starttls" offers STARTTLS (as port 587 does) and takes AUTH only after
    it; tls="implicit" speaks TLS from the first byte (as port 465 does). With
    `login`, the server requires AUTH with that user and password.
    """

    def __init__(
        self,
        sink: MailSink | None = None,
        port: int = 0,
        *,
        tls: str = "",
        certificate: Certificate | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.sink = sink or MailSink()
        self.port = port or free_port()
        options: dict[str, object] = {}
        context = server_tls_context(certificate) if tls else None
        if tls == "starttls":
            options.update(tls_context=context, require_starttls=True)
        if login:
            options.update(authenticator=authenticator(login), auth_required=True)
        if tls == "implicit":  # the whole session is TLS: no STARTTLS to wait for
            options.update(auth_require_tls=False)
        self._controller = Controller(
            self.sink,
            hostname="127.0.0.1",
            port=self.port,
            ready_timeout=10,
            ssl_context=context if tls == "implicit" else None,
            **options,
        )

    @property
    def behaviour(self) -> Behaviour:
        return self.sink.behaviour

    @property
    def received(self) -> list[Received]:
        return self.sink.received

    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until at least `count` messages arrived; return them."""
        deadline = time.monotonic() + timeout
        while len(self.sink.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.sink.received)

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def with_return_path(item: Received) -> bytes:
    """The message as a mailbox keeps it: the envelope sender written on top as
    Return-Path, as the last MTA does (RFC 5321 4.4), so the signed bounce
    address is there to read when trying bounces under `make run`."""
    newline = b"\r\n" if b"\r\n" in item.content[:1000] else b"\n"
    return b"Return-Path: <" + item.mail_from.encode() + b">" + newline + item.content


def main() -> None:
    """`python -m devtools.smtp`: the local mail catcher of `make run`."""
    import argparse

    parser = argparse.ArgumentParser(description="Local SMTP catcher (aiosmtpd)")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--save-dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    sink = MailSink(save_dir=args.save_dir, echo=True)
    with SMTPServer(sink, port=args.port):
        print(
            f"[smtp] catching mail on 127.0.0.1:{args.port}, saved in {args.save_dir}/"
        )
        threading.Event().wait()


if __name__ == "__main__":
    main()
