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
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Behaviour:
    """How the server answers. Fields may be changed while it runs."""

    delay: float = 0.0  # seconds spent on each message before answering
    tempfail_rate: float = 0.0  # share of messages answered 451
    permfail_rate: float = 0.0  # share of messages answered 554
    mode: str = "accept"  # accept | tempfail | permfail | hangup | hang
    reject_recipient: Callable[[str], bool] = lambda address: False  # 550 at RCPT
    seed: int | None = None

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    accepted_at: float
    raw: bytes = b""  # the DATA as received, for header-injection checks

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
            return self._answer("550 5.1.1 Recipient address rejected: no such user")
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
            self._answer("hangup")
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        roll = behaviour.random.random()
        if behaviour.mode == "tempfail" or roll < behaviour.tempfail_rate:
            return self._answer("451 4.3.0 Temporary failure, try again later")
        if behaviour.mode == "permfail" or roll > 1 - behaviour.permfail_rate:
            return self._answer("554 5.7.1 Message rejected")
        self._record(envelope)
        return self._answer("250 2.0.0 OK: queued")

    def _answer(self, reply: str) -> str:
        with self.lock:
            self.answers[reply.split(" ", 1)[0]] += 1
        return reply

    def _record(self, envelope: Envelope) -> None:
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        item = Received(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            message,
            time.monotonic(),
            envelope.original_content or envelope.content,
        )
        with self.lock:
            self.received.append(item)
            count = len(self.received)
        if self.save_dir:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            (self.save_dir / f"{int(time.time() * 1000)}-{count}.eml").write_bytes(
                envelope.content
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPServer:
    """Runs a MailSink on 127.0.0.1 in a background thread."""

    def __init__(self, sink: MailSink | None = None, port: int = 0) -> None:
        self.sink = sink or MailSink()
        self.port = port or free_port()
        self._controller = Controller(
            self.sink, hostname="127.0.0.1", port=self.port, ready_timeout=10
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
