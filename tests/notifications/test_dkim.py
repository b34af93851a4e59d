"""DKIM: every email the worker sends over SMTP is signed, and dkimpy verifies the
signature against the public key served by a local DNS server, as a receiver
would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.dns_server import DNSServer
from devtools.smtp import SMTPServer
from notifications.dkim import Signer
from notifications.sending import send_batch
from tests.factories import DeliveryFactory, UserFactory, pks, queued_deliveries
from users.models import User

pytestmark = pytest.mark.django_db
DOMAIN, SELECTOR = "example.com", "tasks2026"


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2048-bit RSA key in PEM, as `openssl genrsa -out dkim.pem 2048` writes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def signing(settings: DjangoSettings, dkim_key: Path) -> Signer:
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.DKIM_PRIVATE_KEY = str(dkim_key)
    return Signer(DOMAIN, SELECTOR, dkim_key.read_bytes())


@pytest.fixture
def dns(signing: Signer) -> Iterator[DNSServer]:
    """The domain's DNS, publishing the public key where receivers look."""
    with DNSServer({signing.record_name: [signing.record]}) as server:
        yield server


def verifies(raw: bytes, dns: DNSServer) -> bool:
    """dkimpy's verdict, the key looked up in the local DNS server."""

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        answer = dns.resolver().resolve(name.decode().rstrip("."), "TXT")
        return b"".join(b"".join(rdata.strings) for rdata in answer)

    return bool(dkim.verify(raw, dnsfunc=lookup))


def signed_headers(raw: bytes) -> set[str]:
    signature = dkim.DKIM(raw).headers[0][1]  # the DKIM-Signature added on top
    tags = dict(
        tag.strip().split("=", 1) for tag in signature.decode().split(";") if "=" in tag
    )
    return {name.strip().lower() for name in "".join(tags["h"].split()).split(":")}


def test_a_notification_is_signed_with_its_unsubscribe_headers_and_verifies(
    smtp: SMTPServer, dns: DNSServer
) -> None:
    [delivery] = queued_deliveries()
    assert send_batch([delivery.pk]).sent == 1
    [received] = smtp.received
    assert received.raw.startswith(
        b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;"
    )
    assert verifies(received.raw, dns)
    assert {
        "from", "to", "subject", "date", "message-id", "list-unsubscribe",
        "list-unsubscribe-post",
    } <= signed_headers(received.raw)  # fmt: skip
    assert f"{SELECTOR}._domainkey.{DOMAIN}" in dns.questions


def test_a_changed_unsubscribe_header_breaks_the_signature(
    smtp: SMTPServer, dns: DNSServer
) -> None:
    [delivery] = queued_deliveries()
    send_batch([delivery.pk])
    raw = smtp.received[0].raw
    # Someone on the way adds a second one-click target: the From and the
    # unsubscribe headers are signed once more than they appear.
    tampered = raw.replace(
        b"List-Unsubscribe-Post:",
        b"List-Unsubscribe-Post: x\r\nList-Unsubscribe-Post:",
        1,
    )
    assert verifies(raw, dns)
    assert not verifies(tampered, dns)


def test_account_emails_are_signed_too(smtp: SMTPServer, dns: DNSServer) -> None:
    user: User = UserFactory(is_active=False)
    deliveries = list(user.deliveries.all())
    assert send_batch(pks(deliveries)).sent == 1
    assert verifies(smtp.received[0].raw, dns)


def test_without_the_dkim_settings_nothing_is_signed(smtp: SMTPServer) -> None:
    delivery = DeliveryFactory()
    send_batch([delivery.pk])
    assert b"DKIM-Signature" not in smtp.received[0].raw
