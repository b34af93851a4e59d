"""Mail merge: an email about a task built once per batch for everyone it tells
the same thing, then filled in for each reader.

Everyone told of one change to a task, for one reason, in one time zone, reads
the same email but for a few values of their own: the links signed for them
(the task's link marks their delivery read, the unsubscribe and mute links name
them), their address, Reply-To and Message-ID. Rendering three templates, the
calendar event and the MIME for each reader was most of a worker's time per
email (bench/RESULTS.md). A Draft is that email rendered once, with a marker in
place of each personal value; filling it is a few string replacements, in the
strings any transport reads and in the finished bytes the SMTP client sends.

A draft whose markers did not come through the MIME intact (a body Django
chose to encode quoted-printable: a line over 998 characters), or a reader
whose values could not go in as they are (an address that is not ASCII), gets
the message Django builds; tests/notifications/test_merge.py checks that a
filled draft is byte for byte the email built for the reader alone.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from email.policy import compat32
from typing import TYPE_CHECKING, Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.utils.html import escape

if TYPE_CHECKING:
    from notifications.models import Delivery

# The values of a reader's own, by the name their context and headers use.
LINKS = ("link", "unsubscribe_link", "mute_link")
HEADERS = ("Message-ID", "List-Unsubscribe")
# The header line each value that is a whole header stands on.
HEADER_LINES = {"to": "To", "reply_to": "Reply-To"} | {name: name for name in HEADERS}
# How Django's MIME classes write headers (the standard library's compat32).
POLICY = compat32.clone(linesep="\r\n")
# Markers differ from run to run, so no title or comment can spell one.
NONCE = secrets.token_hex(6)
LINE_LIMIT = 998  # RFC 5322: characters per line, CRLF excluded
FOLD_AT = POLICY.max_line_length or 0  # a longer header line is folded


def marker(name: str) -> str:
    return f"m{NONCE}{name.replace('_', '').replace('-', '').lower()}"


ADDRESSES = ("to", "reply_to")
MARKERS = {name: marker(name) for name in (*LINKS, *HEADERS)} | {
    # An address, as Django's header code reads one.
    name: f"{marker(name)}@merge.invalid"
    for name in ADDRESSES
}


class MergedMessage(EmailMultiAlternatives):
    """A filled draft: the fields any transport reads, and `raw`, the finished
    message (CRLF lines) the SMTP client sends as it is, when it could be made."""

    raw: bytes | None = None

    def raw_bytes(self) -> bytes:
        if self.raw is not None:
            return self.raw
        # Django's MIME classes take a linesep; the standard library's do not.
        return self.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]


@dataclass
class Draft:
    """One email with a marker for each personal value: its fields, and its
    bytes when every marker came through the MIME as it went in."""

    message: EmailMultiAlternatives
    raw: bytes | None

    def fill(self, values: dict[str, str], from_email: str) -> MergedMessage:
        text = {MARKERS[name]: value for name, value in values.items()}
        html = {MARKERS[name]: str(escape(value)) for name, value in values.items()}
        draft = self.message
        message = MergedMessage(
            draft.subject,
            replaced(str(draft.body), text),
            from_email=from_email,
            to=[replaced(address, text) for address in draft.to],
            reply_to=[replaced(address, text) for address in draft.reply_to],
            headers={k: replaced(v, text) for k, v in draft.extra_headers.items()},
        )
        for content, mimetype in draft.alternatives:
            message.attach_alternative(replaced(str(content), html), mimetype)
        message.attachments = list(draft.attachments)
        message.raw = self.filled_raw(values, html)
        return message

    def filled_raw(self, values: dict[str, str], html: dict[str, str]) -> bytes | None:
        """The bytes, filled; None when a value cannot go in unchanged (Django
        would have encoded it) or a line grew past the limit. A header is
        folded as the email package folds it."""
        if self.raw is None:
            return None
        if any(not value.isascii() or "\n" in value for value in values.values()):
            return None
        raw = self.raw
        for name, value in values.items():
            mark = MARKERS[name]
            if name in HEADER_LINES:
                header = HEADER_LINES[name]
                line = header_line(header, value)
                raw = raw.replace(f"{header}: {mark}\r\n".encode(), line)
                continue
            # A link's marker stands in the text (as is) and the HTML (escaped)
            # alike: it goes in as one, so only when escaping leaves it as is.
            if html[mark] != value:
                return None
            raw = raw.replace(mark.encode(), value.encode())
        if max(map(len, raw.split(b"\r\n"))) > LINE_LIMIT:
            return None
        return own_boundaries(raw)


def header_line(header: str, value: str) -> bytes:
    """The header as the email package writes it: as it is when it fits in a
    line (an ASCII value, as filled_raw checked), else folded as it folds it."""
    line = f"{header}: {value}"
    if len(line) <= FOLD_AT and "\r" not in value:
        return f"{line}\r\n".encode()
    return POLICY.fold_binary(header, value)


BOUNDARY = re.compile(rb'boundary="(={15}[0-9]+==)"')


def own_boundaries(raw: bytes) -> bytes:
    """The message with MIME boundaries of its own, made as the email package
    makes them: no two readers' emails share the draft's."""
    for boundary in set(BOUNDARY.findall(raw)):
        fresh = boundary
        while fresh in raw:
            token = secrets.randbelow(sys.maxsize)
            fresh = f"{'=' * 15}{token:019d}==".encode()
        raw = raw.replace(boundary, fresh)
    return raw


def replaced(text: str, values: dict[str, str]) -> str:
    for mark, value in values.items():
        text = text.replace(mark, value)
    return text


class Drafts:
    """A batch's drafts, by what makes two readers' emails the same."""

    def __init__(self) -> None:
        self.drafts: dict[str, Draft] = {}

    def message(
        self,
        delivery: Delivery,
        values: dict[str, str],
        sender: str,
        write: Callable[[dict[str, str]], EmailMultiAlternatives],
    ) -> MergedMessage:
        """This reader's email: `values` filled into the draft for its group,
        which `write` builds (given the markers) the first time. The envelope
        `sender` is theirs too (a signed bounce address), never in the bytes."""
        key = draft_key(delivery, sorted(values))
        draft = self.drafts.get(key)
        if draft is None:
            markers = {name: MARKERS[name] for name in values}
            draft = self.drafts[key] = drafted(write(markers), markers)
        return draft.fill(values, sender)


def drafted(message: EmailMultiAlternatives, markers: dict[str, str]) -> Draft:
    """The draft of this message, with its bytes if each marker is in them as
    often as the fields hold it, a header's alone on its line."""
    raw: bytes | None = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    fields = fields_text(message)
    for name, mark in markers.items():
        assert raw is not None
        if name in HEADER_LINES:
            whole = f"{HEADER_LINES[name]}: {mark}\r\n".encode()
            intact = raw.count(whole) == raw.count(mark.encode()) == 1
        else:
            intact = raw.count(mark.encode()) == fields.count(mark)
        if not intact:
            raw = None
            break
    return Draft(message, raw)


def fields_text(message: EmailMultiAlternatives) -> str:
    """Every field a marker may stand in, as one text to count them in."""
    parts: list[Any] = [message.body, *message.to, *message.reply_to]
    parts += list(message.extra_headers.values())
    parts += [content for content, _mimetype in message.alternatives]
    return "\n".join(str(part) for part in parts)


def draft_key(delivery: Delivery, personal: list[str]) -> str:
    """What the shared part of an email depends on: its kind and the change it
    tells (the row's snapshot, which names the task), why its reader is told,
    their time zone (dates and times are written in it) and which personal
    values it has."""
    zone = str(delivery.recipient.zone)
    shared = [delivery.kind, delivery.reason, zone, delivery.context, personal]
    return json.dumps(shared, sort_keys=True, default=str)


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as the SMTP client sends it: a filled draft's bytes, or
    Django's MIME of any other."""
    if isinstance(message, MergedMessage):
        return message.raw_bytes()
    return message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
