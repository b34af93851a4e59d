"""The SMTP client: a connection kept open, a send that keeps the server's final
reply, and one table of rules that says what a failed send means.

The batch run (notifications/sending.py) only orchestrates: it asks this module
to send a message and to classify what went wrong.
"""

from __future__ import annotations

import errno
import smtplib
import socket
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

# After this many dropped connections a client stops dialling and fails fast,
# so one batch does not wait out a dead server once per message.
MAX_CONNECTION_FAILURES = 3


# What a failure means --------------------------------------------------------------


class Verdict(StrEnum):
    RETRY = "retry"  # worth another try later: one attempt spent
    REJECTED = "rejected"  # refused for good: fail the delivery now


@dataclass(frozen=True)
class Failure:
    """A failed send reduced to what the rules look at."""

    code: int | None  # the SMTP reply code, when the server answered at all
    text: str  # the server's own words, or the error's
    error: BaseException

    @classmethod
    def from_error(cls, error: BaseException) -> Failure:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            replies = error.recipients.items()
            text = "; ".join(
                f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in replies
            )
            # One recipient per message here; were there more, the worst decides.
            return cls(max(code for _, (code, _) in replies), text, error)
        if isinstance(error, smtplib.SMTPResponseException):
            text = f"{error.smtp_code} {_text(error.smtp_error)}"
            return cls(error.smtp_code, text, error)
        return cls(None, f"{type(error).__name__}: {error}", error)

    @property
    def reason(self) -> str:
        """What last_error keeps."""
        return self.text[:500]


@dataclass(frozen=True)
class Rule:
    verdict: Verdict
    why: str
    codes: range | None = None
    errors: tuple[type[BaseException], ...] = ()
    errnos: frozenset[int] = frozenset()

    def matches(self, failure: Failure) -> bool:
        if self.codes is not None:
            return failure.code in self.codes
        if self.errors:
            return isinstance(failure.error, self.errors)
        return getattr(failure.error, "errno", None) in self.errnos


# First match wins. A failure no rule matches is REJECTED: retrying an error we
# do not understand (a bad address, a refused TLS certificate, no AUTH on the
# server) for hours helps nobody. SMTPException is an OSError, so "any OSError"
# would also retry permanent 5xx replies: network errors are named one by one.
RULES: tuple[Rule, ...] = (
    Rule(Verdict.RETRY, "the server asks to try again later", codes=range(400, 500)),
    Rule(Verdict.REJECTED, "the server refused it for good", codes=range(500, 600)),
    Rule(
        Verdict.RETRY,
        "the connection dropped, timed out or was refused",
        errors=(
            smtplib.SMTPServerDisconnected,
            TimeoutError,
            ConnectionError,
            socket.gaierror,
        ),
    ),
    Rule(
        Verdict.RETRY,
        "the network is unreachable for now",
        errnos=frozenset(
            {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
        ),
    ),
)


def classify(failure: Failure) -> Verdict:
    for rule in RULES:
        if rule.matches(failure):
            return rule.verdict
    return Verdict.REJECTED


# Sending ---------------------------------------------------------------------------


class SMTPClient:
    """One SMTP connection, opened on first use and reused until close().

    A refusal of one message leaves the connection usable; a broken socket or a
    421 drops it, and the next send dials again (a few times at most).
    """

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self.failures = 0
        self.last_error: BaseException | None = None

    def send(self, message: EmailMessage) -> str:
        """Send one message; return the server's final reply to it."""
        if self.failures >= MAX_CONNECTION_FAILURES and self.last_error:
            raise self.last_error
        if not isinstance(self.backend, SMTPBackend):
            return self._hand_over(message)
        try:
            return self._transact(self._connection(self.backend), message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
            if getattr(error, "smtp_code", None) == 421:  # "closing connection"
                self._drop(error)
            raise  # a refusal of this message: the connection is still good
        except OSError as error:  # the socket or the session broke: redial next time
            self._drop(error)
            raise

    def close(self) -> None:
        # The connection may already be dead: any socket error on QUIT is moot.
        with suppress(OSError):
            self.backend.close()
        if isinstance(self.backend, SMTPBackend):
            self.backend.connection = None

    def _hand_over(self, message: EmailMessage) -> str:
        """A console or locmem backend (development, other apps' tests)."""
        self.backend.send_messages([message])
        return f"accepted by {type(self.backend).__module__}"

    @staticmethod
    def _connection(backend: SMTPBackend) -> smtplib.SMTP:
        if backend.connection is None:
            backend.open()
        assert backend.connection is not None  # open() raises when it cannot
        return backend.connection

    def _drop(self, error: BaseException) -> None:
        self.failures += 1
        self.last_error = error
        self.close()

    @staticmethod
    def _transact(smtp: smtplib.SMTP, message: EmailMessage) -> str:
        """MAIL, RCPT, DATA as smtplib.sendmail does, keeping the final reply (the
        server's queue id), and leaving the session ready for the next message."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in message.recipients()]
        # Django's MIME classes take a linesep; the standard library's do not.
        data = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        smtp.ehlo_or_helo_if_needed()
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused = _refused_recipients(smtp, recipients)
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
            code, reply = smtp.data(data)  # raises SMTPDataError itself unless 354
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            with suppress(smtplib.SMTPServerDisconnected):
                smtp.rset()
            raise
        return f"{code} {_text(reply)}"


def _refused_recipients(
    smtp: smtplib.SMTP, recipients: list[str]
) -> dict[str, tuple[int, bytes]]:
    refused = {}
    for address in recipients:
        code, reply = smtp.rcpt(address)
        if code not in (250, 251):
            refused[address] = (code, reply)
    return refused


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
