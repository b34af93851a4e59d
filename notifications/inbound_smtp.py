"""The inbound SMTP door: an aiosmtpd server whose handler hands each message
to notifications/inbound.py and answers with what became of it.

Addresses are checked at RCPT, before any data is sent: only a genuine address
of ours is taken (550 5.1.1 for anything else). A message larger than
INBOUND_MAX_MESSAGE_BYTES is refused by aiosmtpd itself (552). The database
work runs in one thread of the listener's own, with connections checked before
and after each message, as a request's are; its connection is closed when the
listener stops.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from notifications.addresses import read_address
from notifications.inbound import Outcome, Verdict, receive

# One message names at most this many of our addresses: more is not a reply.
MAX_RECIPIENTS = 10
REPLIES = {
    Verdict.TAKEN: "250 2.0.0 OK: taken",
    Verdict.IGNORED: "250 2.0.0 OK: ignored (an auto-reply, or nothing to do)",
    Verdict.REFUSED: "250 2.0.0 OK: not posted, its sender is told why",
    Verdict.UNKNOWN_ADDRESS: "550 5.1.1 No such address here",
    Verdict.UNREADABLE: "554 5.6.0 Message refused: {reason}",
    Verdict.TRY_LATER: "451 4.3.0 Cannot take mail now, try again later",
}


def smtp_reply(outcome: Outcome) -> str:
    reason = " ".join(outcome.reason.split())[:200]
    return REPLIES[outcome.verdict].format(reason=reason)


def take(content: bytes, recipients: list[str], sender: str) -> Outcome:
    close_old_connections()
    try:
        return receive(content, recipients, sender)
    finally:
        close_old_connections()


class InboundHandler:
    def __init__(self) -> None:
        self.database_thread = ThreadPoolExecutor(1, thread_name_prefix="inbound-db")

    def close(self) -> None:
        """Close the database thread's connection (kept for CONN_MAX_AGE), then
        the thread."""
        self.database_thread.submit(connections.close_all).result()
        self.database_thread.shutdown()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if read_address(address) is None:
            return "550 5.1.1 No such address here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)  # decode_data is off
        sender = envelope.mail_from or ""
        in_database_thread = sync_to_async(
            take, thread_sensitive=False, executor=self.database_thread
        )
        outcome = await in_database_thread(content, list(envelope.rcpt_tos), sender)
        return smtp_reply(outcome)


class InboundController(Controller):
    handler: InboundHandler

    def stop(self, *args: Any, **kwargs: Any) -> None:
        super().stop(*args, **kwargs)
        self.handler.close()


def inbound_server(host: str, port: int) -> InboundController:
    """The listener, not started: start() and stop() it, once."""
    return InboundController(
        InboundHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.INBOUND_MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        ident="Tasks inbound",
        ready_timeout=10,
    )
