"""`manage.py receive_email`: the pipe door. One message on standard input, as
an MTA's pipe transport hands it (Postfix: docs/inbound.md), taken by
notifications/inbound.py; the exit status tells the MTA what became of it
(sysexits.h):

    0  (EX_OK)        taken, or deliberately ignored (auto-replies, our own mail)
    65 (EX_DATAERR)   larger than INBOUND_MAX_MESSAGE_BYTES or broken MIME: bounced
    67 (EX_NOUSER)    no genuine address of ours: bounced as unknown
    75 (EX_TEMPFAIL)  not taken now (the database is down): the MTA tries again
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from notifications.inbound import Outcome, Verdict, receive

logger = logging.getLogger(__name__)
EX_OK, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 0, 65, 67, 75
EXIT_CODES = {
    Verdict.TAKEN: EX_OK,
    Verdict.IGNORED: EX_OK,
    Verdict.REFUSED: EX_OK,
    Verdict.UNKNOWN_ADDRESS: EX_NOUSER,
    Verdict.UNREADABLE: EX_DATAERR,
    Verdict.TRY_LATER: EX_TEMPFAIL,
}
CHUNK = 1 << 16


class Command(BaseCommand):
    help = "Take one message on standard input (an MTA's pipe transport)."
    # Started once per message: no checks, which may reach the network.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="the envelope recipient (Postfix: ${recipient}); may repeat. "
            "Without it, the Delivered-To, X-Original-To, To and Cc headers.",
        )
        parser.add_argument(
            "--sender", default="", help="the envelope sender (Postfix: ${sender})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = receive(read_stdin(), options["recipient"], options["sender"])
        except Exception:  # a bug must not lose the message: the MTA keeps it
            logger.exception("receive_email failed; the MTA will try again")
            sys.exit(EX_TEMPFAIL)
        if not outcome.accepted:
            self.stderr.write(said(outcome))
        sys.exit(EXIT_CODES[outcome.verdict])


def read_stdin() -> bytes:
    """The message, read to its end (an MTA writing into a closed pipe counts a
    failure), kept only up to one byte past the size limit."""
    keep = settings.INBOUND_MAX_MESSAGE_BYTES + 1
    chunks: list[bytes] = []
    kept = 0
    while chunk := sys.stdin.buffer.read(CHUNK):
        if kept < keep:
            chunks.append(chunk[: keep - kept])
            kept += len(chunks[-1])
    return b"".join(chunks)


def said(outcome: Outcome) -> str:
    words = {
        Verdict.UNKNOWN_ADDRESS: "No such address here",
        Verdict.UNREADABLE: "Message refused",
        Verdict.TRY_LATER: "Cannot take mail now, try again later",
    }
    return f"{words[outcome.verdict]}: {outcome.reason}"
