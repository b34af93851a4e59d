"""manage.py check_email against real local servers: every step, or the one that
failed, in words an operator understands; and the sending domain's SPF, DKIM and
DMARC records, read from a local DNS server."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.dns_server import DNSServer
from devtools.esp import PostmarkAPI
from devtools.smtp import Certificate, SMTPServer, free_port
from notifications.dkim import Signer
from tests.support.esp import esp_settings
from tests.support.mail import LOGIN


def check(to: str = "ops@example.com") -> str:
    out = StringIO()
    call_command("check_email", "--to", to, "--no-dns", stdout=out)
    return out.getvalue()


def test_every_step_of_a_starttls_path_with_auth(
    email_settings: DjangoSettings, certificate: Certificate
) -> None:
    email_settings.EMAIL_USE_TLS = True
    with SMTPServer(tls="starttls", certificate=certificate, login=LOGIN) as server:
        email_settings.EMAIL_PORT = server.port
        output = check()
        [received] = server.received
    assert "STARTTLS, signing in as mailer" in output
    for step in ("connect: ok", "STARTTLS: ok", "AUTH: ok", "test message: ok"):
        assert step in output
    assert "All good" in output
    assert received.rcpt_tos == ["ops@example.com"]


def test_a_wrong_password_is_named_as_the_failing_step(
    email_settings: DjangoSettings, certificate: Certificate
) -> None:
    email_settings.EMAIL_USE_SSL = True
    email_settings.EMAIL_HOST_PASSWORD = "wrong"
    with SMTPServer(tls="implicit", certificate=certificate, login=LOGIN) as server:
        email_settings.EMAIL_PORT = server.port
        with pytest.raises(CommandError) as error:
            check()
    assert str(error.value).startswith("AUTH failed: 535")


def test_plain_smtp_to_an_implicit_tls_port_gets_the_hint(
    email_settings: DjangoSettings, certificate: Certificate
) -> None:
    email_settings.EMAIL_TIMEOUT = 0.5  # the greeting never comes: wait less
    with SMTPServer(tls="implicit", certificate=certificate, login=LOGIN) as server:
        email_settings.EMAIL_PORT = server.port
        with pytest.raises(CommandError) as error:
            check()
    assert "connect failed: No SMTP greeting" in str(error.value)
    assert "EMAIL_USE_SSL=True" in str(error.value)


# The sending domain's DNS ---------------------------------------------------------


def check_dns(dns: DNSServer) -> str:
    out = StringIO()
    call_command("check_email", "--nameserver", dns.address, stdout=out)
    return out.getvalue()


@pytest.fixture
def signing(settings: DjangoSettings, tmp_path: Path) -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    settings.DEFAULT_FROM_EMAIL = "Tasks <tasks@example.org>"
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = "example.org", "s1"
    settings.DKIM_PRIVATE_KEY = str(path)
    return Signer("example.org", "s1", path.read_bytes())


@pytest.fixture
def relay(email_settings: DjangoSettings) -> Iterator[SMTPServer]:
    email_settings.EMAIL_HOST_USER = email_settings.EMAIL_HOST_PASSWORD = ""
    with SMTPServer() as server:
        email_settings.EMAIL_PORT = server.port
        yield server


def test_every_record_in_place_is_said_so(relay: SMTPServer, signing: Signer) -> None:
    records = {
        "example.org": ["v=spf1 include:_spf.relay.example ~all", "other=thing"],
        signing.record_name: [signing.record],
        "_dmarc.example.org": ["v=DMARC1; p=quarantine"],
    }
    with DNSServer(records) as dns:
        output = check_dns(dns)
    assert "SPF: ok: v=spf1 include:_spf.relay.example ~all" in output
    assert (
        "DKIM: ok: s1._domainkey.example.org holds DKIM_PRIVATE_KEY's public key"
        in output
    )
    assert "DMARC: ok: _dmarc.example.org: v=DMARC1; p=quarantine" in output
    assert "To fix in DNS" not in output


def test_missing_records_are_named_with_what_to_publish(
    relay: SMTPServer, signing: Signer
) -> None:
    with DNSServer({}) as dns:
        output = check_dns(dns)
    assert "SPF: missing: No SPF record at example.org." in output
    assert (
        "No DKIM key at s1._domainkey.example.org. Publish this TXT record "
        f"there: {signing.record}" in output
    )
    assert "DMARC: missing: No DMARC record at _dmarc.example.org." in output
    assert "To fix in DNS: SPF, DKIM, DMARC." in output


def test_a_published_key_that_is_not_ours_is_caught(
    relay: SMTPServer, signing: Signer
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stale = Signer("example.org", "s1", pem).record  # an old key, say
    with DNSServer({signing.record_name: [stale]}) as dns:
        output = check_dns(dns)
    assert (
        "is not the public half of DKIM_PRIVATE_KEY, so every signature fails" in output
    )


def test_two_spf_records_and_a_parent_s_dmarc_policy(
    relay: SMTPServer, settings: DjangoSettings
) -> None:
    settings.DEFAULT_FROM_EMAIL = "tasks@mail.example.net"
    records = {
        "mail.example.net": ["v=spf1 a -all", "v=spf1 mx -all"],
        "_dmarc.example.net": ["v=DMARC1; p=reject"],
    }
    with DNSServer(records) as dns:
        output = check_dns(dns)
    assert "2 SPF records at mail.example.net" in output
    assert "DMARC: ok: _dmarc.example.net: v=DMARC1; p=reject" in output
    assert (
        "DKIM: note: DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY are not set"
        in output
    )
    assert "To fix in DNS: SPF." in output


def test_a_silent_nameserver_is_reported_not_fatal(relay: SMTPServer) -> None:
    # Not the operator's 3 s: a nameserver that never answers takes all of it.
    output = check_dns_at(f"127.0.0.1:{free_port()}", "--dns-timeout", "0.3")
    assert "SPF: could not check: DNS did not answer" in output


def check_dns_at(nameserver: str, *options: str) -> str:
    out = StringIO()
    call_command("check_email", "--nameserver", nameserver, *options, stdout=out)
    return out.getvalue()


def test_the_fallback_relay_is_checked_too(email_settings: DjangoSettings) -> None:
    email_settings.EMAIL_HOST_USER = email_settings.EMAIL_HOST_PASSWORD = ""
    with SMTPServer() as primary, SMTPServer() as fallback:
        email_settings.EMAIL_PORT = primary.port
        email_settings.EMAIL_FALLBACK_HOST = "127.0.0.1"
        email_settings.EMAIL_FALLBACK_PORT = fallback.port
        email_settings.EMAIL_FALLBACK_USE_TLS = False
        output = check()
        assert (len(primary.received), len(fallback.received)) == (1, 1)
    assert "The fallback relay (EMAIL_FALLBACK_*):" in output
    assert output.count("All good") == 2


def test_an_esp_takes_the_test_message_through_its_api(
    settings: DjangoSettings,
) -> None:
    with PostmarkAPI() as api:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = esp_settings(api)
        output = check()
        [received] = api.received
    assert "Checking EMAIL_BACKEND anymail.backends.postmark.EmailBackend" in output
    assert "All good: Postmark: sent " in output
    assert received.rcpt_tos == ["ops@example.com"]


def test_an_esp_refusing_the_token_is_named(settings: DjangoSettings) -> None:
    with PostmarkAPI() as api:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {**esp_settings(api), "POSTMARK_SERVER_TOKEN": "wrong"}
        with pytest.raises(CommandError) as error:
            check()
    assert str(error.value).startswith(
        "test message failed: Postmark 401: Bad or missing Server API token."
    )
