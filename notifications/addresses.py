"""Signed addresses on INBOUND_DOMAIN: where mail about our mail comes back.

    bounces+<token>@INBOUND_DOMAIN  every email's envelope sender (VERP): names
                                    its delivery, so a bounce says which one
    reply+<token>@INBOUND_DOMAIN    task emails' Reply-To: names the person and
                                    the task a reply is a comment on

A token is its payload and a signature (django.core.signing, a salt per use, so
a bounce token is no reply token), in lower-case letters and digits only: some
servers lower-case local parts, and every part of the address is read lower-cased.
The signature is 120 bits of HMAC-SHA256 in base32; the whole local part stays
well under RFC 5321's 64 characters. Tokens do not expire: a bounce may come
days later, and a reply to an old email is checked against who may see the task
now. A token signed with another SECRET_KEY (another deployment) does not verify.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email.utils import getaddresses

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_str

BOUNCES = "bounces"
REPLY = "reply"
SALTS = {BOUNCES: "notifications.inbound.bounce", REPLY: "notifications.inbound.reply"}
SIGNATURE_BYTES = 15  # 120 bits: 24 base32 characters, no padding
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
LOCAL_PART_MAX = 64  # RFC 5321, 4.5.3.1.1


class AddressSigner(signing.Signer):
    """Django's Signer (SECRET_KEY_FALLBACKS included) with a signature that
    survives a server lower-casing it: truncated HMAC in lower-case base32."""

    def signature(self, value: str | bytes, key: str | bytes | None = None) -> str:
        digest = salted_hmac(
            force_str(self.salt) + "signer", value, key or self.key, algorithm="sha256"
        ).digest()[:SIGNATURE_BYTES]
        return base64.b32encode(digest).decode().lower()


def signer(use: str) -> AddressSigner:
    return AddressSigner(sep=".", salt=SALTS[use])


def base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = DIGITS[digit] + text
        if not number:
            return text


def from_base36(text: str) -> int:
    if not text or len(text) > 13 or any(c not in DIGITS for c in text):
        raise ValueError(f"not a short base-36 number: {text!r}")
    return int(text, 36)


def address(use: str, payload: str) -> str:
    local = f"{use}+{signer(use).sign(payload)}"
    assert len(local) <= LOCAL_PART_MAX, local
    return f"{local}@{settings.INBOUND_DOMAIN}"


def bounce_address(delivery_id: int) -> str:
    """The envelope sender of one delivery."""
    return address(BOUNCES, base36(delivery_id))


def reply_address(user_id: int, task_id: int) -> str:
    """Where one person's reply about one task goes."""
    return address(REPLY, f"{base36(user_id)}-{base36(task_id)}")


@dataclass(frozen=True)
class BounceTo:
    delivery_id: int


@dataclass(frozen=True)
class ReplyTo:
    user_id: int
    task_id: int


Signed = BounceTo | ReplyTo


def read_address(text: str) -> Signed | None:
    """What a genuine address of ours names; None for anything else (another
    domain, another deployment's token, a forged or altered one)."""
    local, at, domain = text.strip().strip("<>").lower().rpartition("@")
    if not at or not settings.INBOUND_DOMAIN or domain != settings.INBOUND_DOMAIN:
        return None
    use, plus, token = local.partition("+")
    if not plus or use not in SALTS or len(local) > LOCAL_PART_MAX:
        return None
    try:
        payload = signer(use).unsign(token)
        if use == BOUNCES:
            return BounceTo(from_base36(payload))
        user, task = payload.split("-")
        return ReplyTo(from_base36(user), from_base36(task))
    except (signing.BadSignature, ValueError):
        return None


def is_ours(text: str) -> bool:
    """An address on INBOUND_DOMAIN, or the product's From address: mail from
    one of them is our own coming back, and is never answered."""
    found = getaddresses([text])
    if not found:
        return False
    sender = found[0][1].lower()
    own = {a.lower() for _, a in getaddresses([settings.DEFAULT_FROM_EMAIL])}
    inbound = bool(settings.INBOUND_DOMAIN) and sender.endswith(
        "@" + settings.INBOUND_DOMAIN
    )
    return sender in own or inbound
