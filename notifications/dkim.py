"""DKIM signatures (dkimpy) on every email sent over SMTP, when DKIM_DOMAIN,
DKIM_SELECTOR and DKIM_PRIVATE_KEY (a PEM file's path) are set.

Every header present is signed, relaxed/relaxed, but those a relay may add or
change on the way (Return-Path, Received, ...); From and the one-click
unsubscribe headers are signed once more than they appear, so nobody can add a
second one without breaking the signature (Gmail shows its unsubscribe button
only when List-Unsubscribe-Post is covered). An ESP's API (django-anymail) signs
with the key set up in the ESP's dashboard instead.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dkim
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from dkim.crypto import parse_pem_private_key, parse_public_key

# Signed one extra time: an added instance of these breaks the signature.
OVERSIGNED = (b"from", b"list-unsubscribe", b"list-unsubscribe-post")
CANONICALIZE = (b"relaxed", b"relaxed")


@dataclass(frozen=True)
class Signer:
    domain: str
    selector: str
    private_key: bytes  # PEM, PKCS#1 or PKCS#8

    def sign(self, data: bytes) -> bytes:
        """The message with its DKIM-Signature header on top."""
        message = dkim.DKIM(data, linesep=b"\r\n")
        present: list[bytes] = message.all_sign_headers()
        again = sorted({name.lower() for name in present} & set(OVERSIGNED))
        header: bytes = message.sign(
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            canonicalize=CANONICALIZE,
            include_headers=[*present, *again],
        )
        return header + data

    @property
    def record_name(self) -> str:
        """Where receivers look the public key up."""
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def record(self) -> str:
        """The TXT record to publish at record_name."""
        return f"v=DKIM1; k=rsa; p={public_key_base64(self.private_key)}"

    def publishes_our_key(self, txt: str) -> bool:
        """Whether a DKIM TXT record holds the public half of our private key."""
        tags = dict(
            part.strip().partition("=")[::2] for part in txt.split(";") if "=" in part
        )
        try:
            published = parse_public_key(base64.b64decode(tags.get("p", "")))
        except Exception:
            return False
        ours = parse_pem_private_key(self.private_key)
        return (published["modulus"], published["publicExponent"]) == (
            ours["modulus"],
            ours["publicExponent"],
        )


def process_signer() -> Signer | None:
    """The signer the DKIM_* settings describe, read once per process; None
    when they are not set."""
    return _signer(
        settings.DKIM_DOMAIN, settings.DKIM_SELECTOR, settings.DKIM_PRIVATE_KEY
    )


@cache
def _signer(domain: str, selector: str, key_path: str) -> Signer | None:
    if not (domain and selector and key_path):
        return None
    try:
        key = Path(key_path).read_bytes()
        parse_pem_private_key(key)
    except (OSError, dkim.crypto.UnparsableKeyError) as error:
        raise ImproperlyConfigured(
            f"DKIM_PRIVATE_KEY={key_path} is not a readable RSA private key in PEM "
            f"form ({error}). Make one with: openssl genrsa -out dkim.pem 2048"
        ) from error
    return Signer(domain, selector, key)


def public_key_base64(private_key: bytes) -> str:
    """The public half of a PEM RSA key as DKIM's p= wants it: the DER of a
    SubjectPublicKeyInfo, as `openssl rsa -pubout` writes it, in base64."""
    key = parse_pem_private_key(private_key)
    rsa_public_key = _der(
        0x30, _integer(key["modulus"]) + _integer(key["publicExponent"])
    )
    rsa_encryption = bytes.fromhex(
        "06092a864886f70d0101010500"
    )  # OID 1.2.840.113549.1.1.1, NULL
    info = _der(0x30, _der(0x30, rsa_encryption) + _der(0x03, b"\0" + rsa_public_key))
    return base64.b64encode(info).decode()


def _integer(value: int) -> bytes:
    # A leading zero byte keeps a high bit from reading as a negative number.
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content
