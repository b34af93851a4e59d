"""The SMTP client: a connection kept open, a send that keeps the server's final
reply, and one table of rules that says what a failed send means, whether an SMTP
server refused it or an ESP's HTTP API (through django-anymail) did.

The batch run (notifications/sending.py) only orchestrates: it sends through the
relays of notifications/relays.py and asks this module what went wrong.
"""

from __future__ import annotations

import errno
import functools
import re
import smtplib
import socket
import ssl
import time
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests
from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.core.mail.message import sanitize_address
from django.utils.functional import cached_property

from notifications.dkim import Signer
from notifications.merge import wire_bytes

# After this many dropped connections in a batch the client stops dialling and
# fails fast, so one batch does not wait out a dead server once per message.
MAX_CONNECTION_FAILURES = 3
# A connection idle this long is checked (NOOP) before a batch uses it: servers
# drop idle clients, and a broken pipe mid-message would cost that message an
# attempt.
IDLE_BEFORE_NOOP = 5.0


@dataclass(frozen=True)
class Accepted:
    """The relay took the message."""

    reply: str  # the SMTP server's final reply, or the ESP's status and id
    provider_message_id: str = ""  # the ESP's id, which its webhooks name


class EmailBackend(DjangoSMTPBackend):
    """Django's SMTP backend with certificates always verified.

    Django verifies the server's certificate against the system's CAs, except
    when a client certificate is configured: then its context trusts no CA at
    all. Here both hold, and EMAIL_SSL_CAFILE adds a private CA.
    """

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=settings.EMAIL_SSL_CAFILE or None)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile or None)
        return context


class StaleConnection(smtplib.SMTPServerDisconnected):
    """The connection broke before MAIL was answered: nothing of the message was
    sent, so it may be sent again over a new connection."""


class TransportError(OSError):
    """No SMTP session could be had: the reason in words an operator understands."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


# What a failure means --------------------------------------------------------------


class Verdict(StrEnum):
    RETRY = "retry"  # this message, later: one attempt spent
    REJECTED = "rejected"  # this message or recipient, never: fail the delivery
    UNKNOWN_RECIPIENT = "unknown_recipient"  # fail, and suppress the address
    PROVIDER_BUSY = "provider_busy"  # pause all sending a while; nobody's fault
    DOMAIN_BUSY = "domain_busy"  # pause sending to the recipient's domain a while


ENHANCED_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class Failure:
    """A failed send reduced to what the rules look at."""

    code: int | None  # the SMTP reply code, when the server answered at all
    text: str  # the server's own words, or the error's
    error: BaseException
    status: int | None = None  # the HTTP status, when an ESP's API answered

    @classmethod
    def from_error(cls, error: BaseException) -> Failure:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            replies = error.recipients.items()
            text = "; ".join(
                f"{to}: {code} {_text(msg)}" for to, (code, msg) in replies
            )
            # One recipient per message here; were there more, the worst decides.
            return cls(max(code for _, (code, _) in replies), text, error)
        if isinstance(error, smtplib.SMTPResponseException):
            text = f"{error.smtp_code} {_text(error.smtp_error)}"
            return cls(error.smtp_code, text, error)
        if isinstance(error, TransportError):
            return cls(None, error.reason, error)
        if isinstance(error, AnymailError):
            return cls(None, _esp_text(error), error, error.status_code)
        return cls(None, f"{type(error).__name__}: {error}", error)

    @property
    def reason(self) -> str:
        """What last_error keeps."""
        return self.text[:500]

    @property
    def enhanced(self) -> str:
        """The enhanced status code (RFC 3463) in the reply, e.g. "5.1.1", or ""."""
        found = ENHANCED_CODE.search(self.text)
        return ".".join(found.groups()) if found else ""


@dataclass(frozen=True)
class Rule:
    """A failure matches when every condition given matches."""

    verdict: Verdict
    why: str
    codes: range | frozenset[int] | None = None  # SMTP reply codes
    enhanced: re.Pattern[str] | None = None  # matched against "5.1.1"
    text: re.Pattern[str] | None = None  # searched in the reply
    errors: tuple[type[BaseException], ...] = ()
    errnos: frozenset[int] = frozenset()
    statuses: range | frozenset[int] | None = None  # an ESP API's HTTP statuses

    def matches(self, failure: Failure) -> bool:
        checks = [
            self.codes is None or failure.code in self.codes,
            self.statuses is None or failure.status in self.statuses,
            self.enhanced is None or bool(self.enhanced.fullmatch(failure.enhanced)),
            self.text is None or bool(self.text.search(failure.text)),
            not self.errors or isinstance(failure.error, self.errors),
            not self.errnos or getattr(failure.error, "errno", None) in self.errnos,
        ]
        return all(checks)


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


# Words of replies without an enhanced code: "550 No such user here".
UNKNOWN_USER = _words(
    r"user unknown",
    r"unknown user",
    r"no such (user|mailbox|recipient)",
    r"does not exist",
    r"recipient not found",
    r"invalid recipient",
)
# The sender's quota or rate, never the recipient's mailbox ("is over quota").
SENDER_QUOTA_OR_RATE = _words(
    r"sending quota",
    r"submission ?quota",
    r"message quota",
    r"relay limit",
    r"rate limit",
    r"sending rate",
    r"throttl",
    r"too many (messages|emails)",
    r"out of credits",  # Postmark's "Not allowed to send: ... run out of credits"
)
BUSY_CODES = frozenset({421, 432, 450, 451, 452, 454})
# An ESP's API that could not be reached or did not answer in time (anymail's
# error is then also the requests exception).
ESP_UNREACHABLE = (requests.ConnectionError, requests.Timeout)

# First match wins; a failure no rule matches is REJECTED: retrying an error we
# do not understand for hours helps nobody. The order matters: an unknown address
# first; then our own quota or rate in the provider's words (Microsoft says it
# with 5.2.0); then a reply about one recipient's mailbox (x.1.x, x.2.x: full,
# receiving too fast), which is that delivery's even where its code alone would
# mean the provider is busy; then a busy reply to RCPT, which is the recipient's
# domain's (greylisting, a destination throttling us), before a busy reply to
# anything else, which is the relay's. An ESP's API answers in HTTP: 429 is its
# rate limit, 5xx its own trouble, and a refused recipient (invalid, or on the
# ESP's suppression list after a bounce or complaint) is as good as unknown.
# SMTPException is an OSError, so network errors are named one by one, never
# "any OSError".
RULES: tuple[Rule, ...] = (
    Rule(
        Verdict.UNKNOWN_RECIPIENT,
        "the recipient's address does not exist",
        codes=range(500, 600),
        enhanced=re.compile(r"5\.1\.(1|2|3|6|10)"),
    ),
    Rule(
        Verdict.UNKNOWN_RECIPIENT,
        "the recipient's address does not exist",
        codes=range(500, 600),
        enhanced=re.compile(r"|5\.0\.0"),
        text=UNKNOWN_USER,
    ),
    Rule(
        Verdict.PROVIDER_BUSY,
        "our sending quota is spent or the provider limits our rate",
        codes=range(400, 600),
        text=SENDER_QUOTA_OR_RATE,
    ),
    Rule(
        Verdict.REJECTED,
        "this recipient's mailbox refuses it for good (full, disabled, moved)",
        codes=range(500, 600),
        enhanced=re.compile(r"5\.[12]\.\d+"),
    ),
    Rule(
        Verdict.RETRY,
        "this recipient's mailbox cannot take it now (full, receiving too fast)",
        codes=range(400, 500),
        enhanced=re.compile(r"4\.[12]\.\d+"),
    ),
    Rule(
        Verdict.DOMAIN_BUSY,
        "the recipient's domain asks us to slow down: try its emails later",
        codes=BUSY_CODES,
        errors=(smtplib.SMTPRecipientsRefused,),
    ),
    Rule(
        Verdict.PROVIDER_BUSY,
        "the provider is busy or throttling: try everything later",
        codes=BUSY_CODES,
    ),
    Rule(Verdict.RETRY, "the server asks to try this one later", codes=range(400, 500)),
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
    # An ESP's HTTP API, through django-anymail.
    Rule(
        Verdict.UNKNOWN_RECIPIENT,
        "the ESP refuses this address: invalid, or it bounced or complained before",
        errors=(AnymailRecipientsRefused,),
    ),
    Rule(
        Verdict.PROVIDER_BUSY,
        "the ESP limits our rate: try everything later",
        statuses=frozenset({429}),
    ),
    Rule(
        Verdict.PROVIDER_BUSY,
        "our sending quota at the ESP is spent",
        errors=(AnymailAPIError,),
        text=SENDER_QUOTA_OR_RATE,
    ),
    Rule(
        Verdict.RETRY,
        "the ESP's servers failed: try this one later",
        statuses=range(500, 600),
    ),
    Rule(
        Verdict.RETRY,
        "the ESP's API could not be reached or did not answer in time",
        errors=ESP_UNREACHABLE,
    ),
)


def classify(failure: Failure) -> Verdict:
    if isinstance(failure.error, TransportError):
        return Verdict.REJECTED if failure.error.permanent else Verdict.RETRY
    rule = matching_rule(failure)
    return rule.verdict if rule else Verdict.REJECTED


def matching_rule(failure: Failure) -> Rule | None:
    return next((rule for rule in RULES if rule.matches(failure)), None)


def meaning(failure: Failure) -> str:
    """What the failure means, in words, for an operator."""
    if isinstance(failure.error, TransportError):
        return failure.error.reason
    rule = matching_rule(failure)
    return f"{failure.reason}: {rule.why if rule else 'an error nothing here expects'}"


def unanswered(failure: Failure) -> bool:
    """The relay gave no answer at all: no session could be had, or the
    connection was refused, dropped or timed out. (A reply, even a refusal, is
    an answer: the relay is there.)"""
    no_reply = failure.code is None and failure.status is None
    if isinstance(failure.error, TransportError):
        return True  # whatever stopped the session, this relay cannot be used
    return no_reply and classify(failure) is Verdict.RETRY


def _esp_text(error: AnymailError) -> str:
    """An ESP's refusal in one line: who, the HTTP status and the ESP's words."""
    esp = error.esp_name or "The ESP"
    if isinstance(error, AnymailRecipientsRefused) and error.email_message:
        status = getattr(error.email_message, "anymail_status", None)
        recipients = status.recipients.items() if status else ()
        refused = "; ".join(f"{to}: {each.status}" for to, each in recipients)
        said = ": ".join(filter(None, [esp, _api_words(error.response)]))
        return f"{refused or 'every recipient refused'} ({said})"
    if error.status_code is None:
        cause = error.__cause__ or error
        return f"{esp}: {type(cause).__name__}: {cause}"
    return f"{esp} {error.status_code}: {_api_words(error.response)}".rstrip(": ")


def _api_words(response: object) -> str:
    """The message of an ESP's JSON answer, or its body in one line. (Not every
    ESP's backend answers over requests: Amazon SES's speaks boto3.)"""
    if not isinstance(response, requests.Response):
        return ""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        words = body.get("Message") or body.get("message") or body.get("error")
        if isinstance(words, str):
            return " ".join(words.split())
    return " ".join(response.text.split())[:300]


# Sending ---------------------------------------------------------------------------


class SMTPClient:
    """One SMTP connection, opened on first use and kept for the next batches of
    the same process (notifications/relays.py), checked with a NOOP when it has
    been idle.

    A refusal of one message leaves the connection usable; a broken socket or a
    421 drops it, and the next send dials again (a few times per batch at most).
    Without arguments it speaks to EMAIL_HOST with the EMAIL_* settings; the
    fallback relay passes its own (host, port, username, password, use_tls,
    use_ssl). With a signer every message is DKIM-signed as it is sent.
    """

    def __init__(self, signer: Signer | None = None, **relay: Any) -> None:
        backend = get_connection(
            "notifications.smtp.EmailBackend" if relay else None,
            fail_silently=False,
            **relay,
        )
        if not isinstance(backend, DjangoSMTPBackend):
            raise TypeError(f"{settings.EMAIL_BACKEND} is not an SMTP backend")
        self.backend = backend
        self.signer = signer
        self.failures = 0
        self.last_error: BaseException | None = None
        self.last_used = 0.0

    def begin_batch(self) -> None:
        """A new batch may dial again, and gets a connection known to be alive."""
        self.failures, self.last_error = 0, None
        idle = time.monotonic() - self.last_used
        if self._connected() and idle > IDLE_BEFORE_NOOP and not self._alive():
            self.close()

    def send(self, message: EmailMessage) -> Accepted:
        """Send one message; return the server's final reply to it."""
        if self.failures >= MAX_CONNECTION_FAILURES and self.last_error:
            raise self.last_error
        self.last_used = time.monotonic()
        reused = self._connected()
        try:
            return Accepted(self._send_over(self._connection(), message))
        except StaleConnection:
            if not reused:
                raise
            # A kept connection the server closed meanwhile: nothing of this
            # message reached it, so dialling again and sending is safe.
            return Accepted(self._send_over(self._connection(), message))

    def _send_over(self, smtp: smtplib.SMTP, message: EmailMessage) -> str:
        try:
            return self.transact(smtp, message, self.signer)
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
        self.backend.connection = None

    def _connected(self) -> bool:
        return self.backend.connection is not None

    def _alive(self) -> bool:
        """NOOP answered 250: the server has not dropped us while we were idle."""
        connection = self.backend.connection
        try:
            return connection is not None and connection.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def _connection(self) -> smtplib.SMTP:
        if self.backend.connection is None:
            open_session(self.backend)
        assert self.backend.connection is not None  # open_session raises otherwise
        return self.backend.connection

    def _drop(self, error: BaseException) -> None:
        self.failures += 1
        self.last_error = error
        self.close()

    @staticmethod
    def transact(
        smtp: smtplib.SMTP, message: EmailMessage, signer: Signer | None = None
    ) -> str:
        """MAIL, RCPT, DATA as smtplib.sendmail does, keeping the final reply (the
        server's queue id), and leaving the session ready for the next message."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = envelope_address(message.from_email, encoding)
        recipients = [envelope_address(a, encoding) for a in message.recipients()]
        data = wire_bytes(message)
        if signer is not None:
            data = signer.sign(data)
        try:
            smtp.ehlo_or_helo_if_needed()
            pipelining = can_pipeline(smtp, sender, recipients)
            if pipelining:
                replies = _pipelined_envelope(smtp, sender, recipients[0])
                code, reply = replies[0]
            else:
                code, reply = smtp.mail(sender)
        except OSError as error:  # before MAIL was answered: nothing was sent
            raise StaleConnection(str(error)) from error
        try:
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            if pipelining:
                code, reply = _pipelined_data(smtp, recipients[0], replies, data)
            else:
                code, reply = _one_by_one(smtp, recipients, data)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            with suppress(smtplib.SMTPServerDisconnected):
                smtp.rset()
            raise
        return f"{code} {_text(reply)}"


def open_session(backend: DjangoSMTPBackend) -> None:
    """Connect, secure and sign in, or raise TransportError saying what failed.

    Replies (a refused login, say) stay SMTPResponseExceptions: the rules table
    reads their codes.
    """
    try:
        backend.open()
    except (smtplib.SMTPResponseException, TransportError):
        raise
    except OSError as error:
        raise explain_session_failure(backend, error) from error


def explain_session_failure(
    backend: DjangoSMTPBackend, error: OSError
) -> TransportError:
    where = f"{backend.host}:{backend.port}"
    mode = (
        "implicit TLS"
        if backend.use_ssl
        else "STARTTLS"
        if backend.use_tls
        else "plain"
    )
    if isinstance(error, ssl.SSLCertVerificationError):
        return TransportError(
            f"The certificate of {where} does not verify ({error.verify_message}); "
            "nothing was sent. Fix the server's certificate or trust its CA with "
            "EMAIL_SSL_CAFILE.",
            permanent=True,
        )
    if isinstance(error, ssl.SSLError):
        return TransportError(_tls_mismatch(where, backend, error), permanent=True)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return TransportError(_missing_extension(where, backend, error), permanent=True)
    if _no_greeting(error):
        hint = (
            " If this port speaks implicit TLS (usually 465), set EMAIL_USE_SSL=True."
            if not backend.use_ssl
            else ""
        )
        return TransportError(
            f"No SMTP greeting from {where} within {backend.timeout} s ({mode}).{hint}",
            permanent=False,
        )
    return TransportError(
        f"Could not connect to {where} ({mode}): {type(error).__name__}: {error}",
        permanent=False,
    )


def _no_greeting(error: OSError) -> bool:
    timed_out = isinstance(error, TimeoutError) or "timed out" in str(error)
    return timed_out and isinstance(
        error, TimeoutError | smtplib.SMTPServerDisconnected
    )


def _tls_mismatch(where: str, backend: DjangoSMTPBackend, error: ssl.SSLError) -> str:
    what = error.reason or str(error)
    if backend.use_ssl:
        return (
            f"TLS handshake with {where} failed ({what}): the server does not speak "
            "implicit TLS on this port. For STARTTLS (usually port 587) set "
            "EMAIL_USE_TLS=True and EMAIL_USE_SSL=False."
        )
    return f"STARTTLS with {where} failed ({what})."


def _missing_extension(
    where: str, backend: DjangoSMTPBackend, error: smtplib.SMTPNotSupportedError
) -> str:
    if "STARTTLS" in str(error):
        return (
            f"{where} does not offer STARTTLS. Use the provider's STARTTLS port "
            "(usually 587), or EMAIL_USE_SSL=True for implicit TLS (usually 465)."
        )
    return (
        f"{where} offers no SMTP AUTH on this connection ({error}). Most providers "
        "offer it only over TLS: set EMAIL_USE_TLS or EMAIL_USE_SSL."
    )


@functools.lru_cache(maxsize=4096)
def envelope_address(address: str, encoding: str) -> str:
    """An address as the envelope carries it (Django's sanitize_address, which
    parses it whole: the same sender and readers come back email after email)."""
    return sanitize_address(address, encoding)


@functools.lru_cache(maxsize=4096)
def quoted(address: str) -> str:
    """<address>, as MAIL and RCPT write it (smtplib.quoteaddr, which parses
    it whole: the same sender and readers come back email after email)."""
    return smtplib.quoteaddr(address)


def can_pipeline(smtp: smtplib.SMTP, sender: str, recipients: list[str]) -> bool:
    """Whether MAIL, RCPT and DATA may go in one write (RFC 2920): the server
    offered PIPELINING to our EHLO, and the envelope is one plain ASCII
    recipient, as every email of ours."""
    envelope = [sender, *recipients]
    ascii_only = all(address.isascii() for address in envelope)
    return bool(smtp.has_extn("pipelining")) and len(recipients) == 1 and ascii_only


def _pipelined_envelope(
    smtp: smtplib.SMTP, sender: str, recipient: str
) -> list[tuple[int, bytes]]:
    """MAIL, RCPT and DATA written at once; their three replies, in order."""
    commands = f"MAIL FROM:{quoted(sender)}\r\nRCPT TO:{quoted(recipient)}\r\nDATA\r\n"
    smtp.send(commands)
    return [smtp.getreply() for _ in range(3)]


def _pipelined_data(
    smtp: smtplib.SMTP, recipient: str, replies: list[tuple[int, bytes]], data: bytes
) -> tuple[int, bytes]:
    """After an accepted MAIL: RCPT's and DATA's replies, then the message and
    the server's final reply. A refused recipient fails DATA too (no valid
    recipient), so nothing of the message is written."""
    code, reply = replies[1]
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = replies[2]
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    smtp.send(_dot_stuffed(data))
    return smtp.getreply()


def _one_by_one(
    smtp: smtplib.SMTP, recipients: list[str], data: bytes
) -> tuple[int, bytes]:
    """After an accepted MAIL, without pipelining: RCPT per recipient, DATA."""
    refused = _refused_recipients(smtp, recipients)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return smtp.data(data)  # raises SMTPDataError itself unless 354


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA sends it (RFC 5321 4.5.2, as smtplib.data does)."""
    starts_a_line = data.startswith(b".") or b"\n." in data
    stuffed = re.sub(rb"(?m)^\.", b"..", data) if starts_a_line else data
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


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
