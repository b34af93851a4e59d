"""What a message that came back to a bounce address says.

In this order, the first that fits:
1. an RFC 3464 delivery status notification (multipart/report, delivery-status),
   read with the standard library: failed with 5.x.x is a hard bounce, failed
   with 4.x.x a soft one, "delayed" only a warning (the server still tries);
2. an RFC 5965 ARF feedback report (multipart/report, feedback-report) of type
   abuse or fraud: a complaint;
3. an auto-reply (out of office, vacation): never a bounce;
4. a bounce in a provider's own format (Exim's "Mail delivery failed", qmail,
   old Exchange...), read by flufl.bounce, but only from a message that looks
   like a bounce, so that a person's words are never taken for one;
5. anything else: not a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime

from django.utils import timezone
from flufl.bounce import all_failures

from notifications.smtp import ENHANCED_CODE


@dataclass(frozen=True)
class BounceReport:
    kind: str  # "hard" or "soft" (Bounce.Kind)
    reason: str  # the remote server's words, or the status code
    recipient: str  # the address the report says failed ("" if unsaid)
    at: datetime


@dataclass(frozen=True)
class ComplaintReport:
    source: str


@dataclass(frozen=True)
class NotABounce:
    """Nothing to record: a delay warning, an auto-reply, anything else."""

    why: str
    auto_reply: bool = False


Report = BounceReport | ComplaintReport | NotABounce

# Auto-replies (RFC 3834 and what mail programs do short of it), as GitLab and
# Discourse tell them; X-Auto-Response-Suppress is Exchange's mark on its own.
AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[ -]?(reply|response)"
    r"|auto:|away from|on vacation|vacation reply|abwesenheit|r[ée]ponse automatique"
    r"|respuesta autom[áa]tica)",
    re.IGNORECASE,
)
BULK_PRECEDENCE = re.compile(r"bulk|junk|list|auto_reply", re.IGNORECASE)
# Bounces that are not RFC 3464: who sends them and how they are titled.
BOUNCER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status notification|failure|has failed|failed)"
    r"|returned mail|failure notice|mail delivery failed|non-?delivery",
    re.IGNORECASE,
)
SMTP_REPLY = re.compile(r"\b[45]\d\d[ -][^\r\n]{3,200}")


def read(message: EmailMessage) -> Report:
    """What this message, sent to one of our bounce addresses, reports."""
    report = delivery_status(message) or feedback(message)
    if report is not None:
        return report
    if is_auto_reply(message) and not looks_like_bounce(message):
        why = "an auto-reply (out of office): never counted as a bounce"
        return NotABounce(why, auto_reply=True)
    if looks_like_bounce(message):
        return provider_bounce(message) or NotABounce("a bounce naming no recipient")
    return NotABounce("not a delivery report")


# 1. RFC 3464 ---------------------------------------------------------------------


def delivery_status(message: Message) -> Report | None:
    """The first recipient a DSN reports failed or delayed; None if no DSN."""
    found = False
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        found = True
        blocks = [b for b in part.get_payload() if isinstance(b, Message)]
        for block in blocks[1:]:  # the first holds the per-message fields
            report = recipient_report(block)
            if report is not None:
                return report
    return NotABounce("a delivery report of no failure") if found else None


def recipient_report(block: Message) -> Report | None:
    action = str(block.get("Action", "")).strip().lower()
    if action.startswith("delayed"):
        return NotABounce("a delay warning: the remote server is still trying")
    if not action.startswith(("failed", "error")):
        return None  # delivered, relayed, expanded
    status = str(block.get("Status", "")).strip()
    diagnostic = said_once(str(block.get("Diagnostic-Code", "")))
    code = status or enhanced_code(diagnostic)
    reason = diagnostic if status in diagnostic else f"{status} {diagnostic}"
    return BounceReport(
        kind="soft" if code.startswith("4") else "hard",
        reason=reason.strip() or "the remote server refused it",
        recipient=reported_address(block),
        at=moment(block.get("Last-Attempt-Date")),
    )


def said_once(diagnostic: str) -> str:
    """A diagnostic on one line, without its type and the code repeated at the
    start of each line of a multi-line reply ("550-5.1.1 ... 550 5.1.1 ...")."""
    text = " ".join(diagnostic.split())
    text = re.sub(r"^(smtp|x-[\w-]+);\s*", "", text, flags=re.IGNORECASE)
    return CONTINUATION.sub("", text)


# "550-5.1.1 " and "550 5.1.1 " after the first line of a multi-line reply.
CONTINUATION = re.compile(r"(?<=\s)[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\s+")


def reported_address(block: Message) -> str:
    for name in ("Original-Recipient", "Final-Recipient"):
        value = str(block.get(name, ""))
        if ";" in value:
            return value.split(";", 1)[1].strip().strip("<>").lower()
    return ""


# 2. RFC 5965 ---------------------------------------------------------------------


def feedback(message: Message) -> Report | None:
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = feedback_fields(part)
        kind = fields.get("feedback-type", "").strip().lower()
        if kind not in ("abuse", "fraud"):
            return NotABounce(f"a feedback report of type {kind or 'unknown'}")
        reporter = fields.get("reporting-mta", "") or fields.get("user-agent", "")
        reporter = reporter.split(";")[-1].strip()
        source = f"ARF {kind} report" + (f" from {reporter}" if reporter else "")
        return ComplaintReport(source[:60])
    return None


def feedback_fields(part: Message) -> dict[str, str]:
    """The report's fields, lower-cased: parsed as a message (one header block),
    or left as text by a parser that did not."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return {k.lower(): str(v) for k, v in payload[0].items()}
    text = payload if isinstance(payload, str) else ""
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}


# 3. Auto-replies -----------------------------------------------------------------


def is_auto_reply(message: Message) -> bool:
    """Written by a program, not a person: RFC 3834's Auto-Submitted (anything
    but "no"), the older X-Autoreply and Precedence marks, Exchange's own, or
    an out-of-office subject."""
    submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    suppress = str(message.get("X-Auto-Response-Suppress", ""))
    return (
        not submitted.startswith("no")
        or any(message.get(name) for name in ("X-Autoreply", "X-Autorespond"))
        or bool(BULK_PRECEDENCE.search(str(message.get("Precedence", ""))))
        or bool(re.search(r"OOF|AutoReply", suppress, re.IGNORECASE))
        or bool(AUTO_SUBJECT.search(str(message.get("Subject", ""))))
    )


# 4. Non-standard bounces -------------------------------------------------------


def looks_like_bounce(message: Message) -> bool:
    """From a mailer daemon, naming failed recipients, or titled as a bounce."""
    sender = parseaddr(str(message.get("From", "")))[1]
    return bool(
        message.get("X-Failed-Recipients")
        or BOUNCER.match(sender)
        or BOUNCE_SUBJECT.search(subject(message))
    )


def provider_bounce(message: Message) -> BounceReport | None:
    temporary, permanent = all_failures(message)
    failed = permanent or temporary
    if not failed:
        return None
    text = plain_text(message)
    found = SMTP_REPLY.search(text)
    reason = (
        " ".join(found.group(0).split()) if found else "the remote server refused it"
    )
    return BounceReport(
        kind="hard" if permanent else "soft",
        reason=reason,
        recipient=sorted(failed)[0].decode("ascii", "replace").lower(),
        at=timezone.now(),
    )


# Helpers -------------------------------------------------------------------------


def subject(message: Message) -> str:
    return str(message.get("Subject", ""))


def enhanced_code(text: str) -> str:
    found = ENHANCED_CODE.search(text)
    return ".".join(found.groups()) if found else ""


def moment(value: object) -> datetime:
    """When a report says the last attempt failed, or now when it does not say
    (or says it so that it cannot be read)."""
    try:
        when = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None or timezone.is_naive(when):
        return timezone.now()
    return when


def plain_text(message: Message) -> str:
    """The text of a message's text/plain parts, as far as they decode."""
    texts = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    texts.append(payload.decode(charset, "replace"))
                except LookupError:  # a charset Python does not know
                    texts.append(payload.decode("utf-8", "replace"))
    return "\n".join(texts)
