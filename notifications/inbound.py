"""One intake for mail that comes back, behind three doors that give one result.

    manage.py receive_email          an MTA's pipe transport (standard input)
    manage.py serve_inbound_smtp     inbound SMTP (make run: INBOUND_SMTP_PORT)
    django-anymail's inbound signal  an ESP's inbound webhook (receivers.py)

Each door hands receive() the raw message and what its envelope says, and turns
the Outcome into its own words (an exit code, an SMTP reply, an HTTP status).

- Refused before anything is read, leaving no trace but a log line: a message
  larger than INBOUND_MAX_MESSAGE_BYTES or with a broken MIME tree (UNREADABLE),
  or sent to no genuine address of ours: another domain, a forged or altered
  token, another deployment's token (UNKNOWN_ADDRESS).
- Taken once: per (Message-ID, address), in one transaction with what it does,
  so the same message through any door again, or at the same moment, changes
  nothing (InboundMessage).
- To a bounce address (notifications/reports.py): a bounce marks its delivery
  bounced and may suppress the address, a complaint turns off the person's
  notification emails (notifications/feedback.py); auto-replies and anything
  else are ignored.
- To a reply address: a comment, or a refusal (notifications/replies.py).
- The database unreachable: TRY_LATER, and the sender's server tries again.
"""

from __future__ import annotations

import email.errors
import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from notifications import reports
from notifications.addresses import BounceTo, ReplyTo, Signed, read_address
from notifications.feedback import record_bounce, record_complaint
from notifications.models import Delivery, InboundMessage
from notifications.replies import reply_text, sender, take_reply
from tasks.models import Comment
from users.models import User

logger = logging.getLogger(__name__)
Kind = InboundMessage.Kind
Outcome_ = InboundMessage.Outcome

# A MIME tree deeper or larger than any mail program writes is someone's attack
# on the parser, not a reply.
MAX_MIME_DEPTH = 12
MAX_MIME_PARTS = 300
BROKEN = (
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
)
# What parsing or reading a hostile message can raise in the standard library.
PARSE_ERRORS = (
    email.errors.MessageError,
    RecursionError,
    ValueError,
    TypeError,
    IndexError,
    LookupError,
    AttributeError,
    UnicodeError,
)
# Where a message says whom it was for when its envelope is not given.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


class Verdict(StrEnum):
    TAKEN = "taken"  # done (a comment, a bounce, a complaint), or taken before
    IGNORED = "ignored"  # read and deliberately left: auto-replies, our own mail
    REFUSED = "refused"  # a reply that may not be posted; its person is told
    UNKNOWN_ADDRESS = "unknown_address"  # no genuine address of ours
    UNREADABLE = "unreadable"  # too large or a broken MIME tree: never taken
    TRY_LATER = "try_later"  # the database cannot be reached


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reason: str

    @property
    def accepted(self) -> bool:
        """The sender's server is done with it (taken, ignored or refused)."""
        return self.verdict in (Verdict.TAKEN, Verdict.IGNORED, Verdict.REFUSED)


class Unreadable(Exception):
    pass


@dataclass(frozen=True)
class Handled:
    """What one message did at one address, as InboundMessage keeps it."""

    kind: str
    outcome: str
    reason: str
    user: User | None = None
    delivery: Delivery | None = None
    comment: Comment | None = None


def receive(
    raw: bytes, recipients: Sequence[str] = (), envelope_sender: str = ""
) -> Outcome:
    """Take one message for these envelope recipients (when the door knows
    them; else the addresses its headers name). The envelope sender, when the
    door knows it, is only logged: a message is judged by what it says."""
    try:
        message = parse(raw)
        addresses = ours(recipients or header_recipients(message))
    except Unreadable as problem:
        return refuse(Outcome(Verdict.UNREADABLE, str(problem)), envelope_sender)
    if not addresses:
        unknown = Outcome(Verdict.UNKNOWN_ADDRESS, "no address of ours in it")
        return refuse(unknown, envelope_sender)
    outcomes = [take(message, address, signed) for address, signed in addresses]
    return max(outcomes, key=lambda outcome: SEVERITY[outcome.verdict])


SEVERITY = {verdict: rank for rank, verdict in enumerate(Verdict)}


def refuse(outcome: Outcome, envelope_sender: str) -> Outcome:
    logger.warning(
        "Inbound message from <%s> refused (%s): %s",
        envelope_sender,
        outcome.verdict,
        outcome.reason,
    )
    return outcome


# Reading the message ---------------------------------------------------------------


def parse(raw: bytes) -> EmailMessage:
    """The message, or Unreadable when it is too large or its MIME is broken."""
    limit = settings.INBOUND_MAX_MESSAGE_BYTES
    if len(raw) > limit:
        raise Unreadable(f"larger than {limit:,} bytes ({len(raw):,})")
    try:
        message = BytesParser(_class=EmailMessage, policy=policy.default).parsebytes(
            raw
        )
        check_tree(message)
        # Header values are parsed when first read: read the ones used here now.
        for name in (
            "From",
            "Subject",
            "Message-ID",
            "Auto-Submitted",
            *RECIPIENT_HEADERS,
        ):
            str(message.get(name, ""))
        reply_text(message)
    except PARSE_ERRORS as error:
        raise Unreadable(
            f"the message cannot be read ({type(error).__name__})"
        ) from error
    return message


def check_tree(message: Message) -> None:
    for parts, (part, depth) in enumerate(walk(message, 0), start=1):
        if depth > MAX_MIME_DEPTH or parts > MAX_MIME_PARTS:
            raise Unreadable(
                "its MIME tree is deeper or larger than any mail program writes"
            )
        broken = [d for d in part.defects if isinstance(d, BROKEN)]
        if broken:
            raise Unreadable(f"its MIME tree is broken ({type(broken[0]).__name__})")


def walk(part: Message, depth: int) -> Iterator[tuple[Message, int]]:
    """Every part with its depth, without recursion (a hostile tree is deep)."""
    stack = [(part, depth)]
    while stack:
        current, level = stack.pop()
        yield current, level
        if level > MAX_MIME_DEPTH:
            continue
        payload = current.get_payload()
        if isinstance(payload, list):
            stack.extend(
                (child, level + 1) for child in payload if isinstance(child, Message)
            )


def header_recipients(message: Message) -> list[str]:
    values = [str(v) for name in RECIPIENT_HEADERS for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def ours(recipients: Sequence[str]) -> list[tuple[str, Signed]]:
    """The genuine addresses of ours among these, each once, lower-cased."""
    found: dict[str, Signed] = {}
    for recipient in recipients:
        address = recipient.strip().strip("<>").lower()
        signed = read_address(address)
        if signed is not None:
            found.setdefault(address, signed)
    return list(found.items())


def message_key(message: EmailMessage) -> str:
    """Its Message-ID; for a message without one, a digest of what makes it
    that message (the same through every door)."""
    found = re.search(r"<[^<>\s]{1,250}>", str(message.get("Message-ID", "")))
    if found:
        return found.group(0)
    said = [str(message.get(name, "")) for name in ("From", "Date", "Subject")]
    digest = hashlib.sha256("\n".join([*said, reply_text(message)]).encode())
    return f"sha256:{digest.hexdigest()}"


# Taking it -------------------------------------------------------------------------


def take(message: EmailMessage, address: str, signed: Signed) -> Outcome:
    key = message_key(message)
    try:
        with transaction.atomic():
            if InboundMessage.objects.filter(message_id=key, address=address).exists():
                return Outcome(Verdict.TAKEN, "taken before: the same message again")
            handled = handle(message, signed)
            keep(key, address, message, handled)
    except IntegrityError:  # taken a moment ago through another door
        return Outcome(Verdict.TAKEN, "taken before: the same message again")
    except (OperationalError, InterfaceError) as error:
        logger.warning("Inbound message not taken, the database failed: %s", error)
        return Outcome(Verdict.TRY_LATER, "the database cannot be reached")
    logger.info(
        "Inbound %s to %s: %s (%s)",
        handled.kind,
        address,
        handled.outcome,
        handled.reason,
    )
    return Outcome(VERDICTS[handled.outcome], handled.reason)


VERDICTS: dict[str, Verdict] = {
    Outcome_.COMMENTED: Verdict.TAKEN,
    Outcome_.BOUNCED: Verdict.TAKEN,
    Outcome_.COMPLAINED: Verdict.TAKEN,
    Outcome_.IGNORED: Verdict.IGNORED,
    Outcome_.REFUSED: Verdict.REFUSED,
}


def handle(message: EmailMessage, signed: Signed) -> Handled:
    if isinstance(signed, ReplyTo):
        reply = take_reply(message, signed)
        return Handled(
            Kind.REPLY, reply.outcome, reply.reason, reply.user, comment=reply.comment
        )
    return take_report(message, signed)


def take_report(message: EmailMessage, to: BounceTo) -> Handled:
    delivery = (
        Delivery.objects.select_related("recipient").filter(pk=to.delivery_id).first()
    )
    if delivery is None:
        return Handled(
            Kind.OTHER, Outcome_.IGNORED, "the delivery it names was deleted since"
        )
    report = reports.read(message)
    user = delivery.recipient
    if isinstance(report, reports.BounceReport):
        bounced = record_bounce(delivery, report.kind, report.reason, report.at)
        outcome = Outcome_.BOUNCED if bounced else Outcome_.IGNORED
        reason = f"{report.kind} bounce: {report.reason}"
        if not bounced:
            reason = (
                f"a bounce of a delivery that is {delivery.status}: {report.reason}"
            )
        return Handled(Kind.BOUNCE, outcome, reason, user, delivery)
    if isinstance(report, reports.ComplaintReport):
        complained = record_complaint(delivery, report.source)
        outcome = Outcome_.COMPLAINED if complained else Outcome_.IGNORED
        return Handled(Kind.COMPLAINT, outcome, report.source, user, delivery)
    kind = Kind.AUTO_REPLY if report.auto_reply else Kind.OTHER
    if message.get_content_type() == "multipart/report":
        kind = Kind.BOUNCE  # a delivery report of no failure, a delay warning
    return Handled(kind, Outcome_.IGNORED, report.why, user, delivery)


def keep(key: str, address: str, message: Message, handled: Handled) -> None:
    InboundMessage.objects.create(
        message_id=key,
        address=address,
        sender=sender(message)[:254],
        kind=handled.kind,
        outcome=handled.outcome,
        reason=handled.reason[:500],
        user=handled.user,
        delivery=handled.delivery,
        comment=handled.comment,
    )
