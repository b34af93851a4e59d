"""The SMTP client against real local servers (plain, STARTTLS, implicit TLS, with
AUTH), and the table that says what a failed send means, reply by reply."""

from __future__ import annotations

import errno
import smtplib
import socket
import threading
from collections.abc import Iterator

import pytest
from django.core.mail import EmailMessage
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import Certificate, SMTPServer, free_port
from notifications.smtp import (
    Failure,
    SMTPClient,
    TransportError,
    Verdict,
    classify,
)
from tests.support.mail import LOGIN

RETRY, REJECTED = Verdict.RETRY, Verdict.REJECTED
UNKNOWN, BUSY = Verdict.UNKNOWN_RECIPIENT, Verdict.PROVIDER_BUSY
DOMAIN_BUSY = Verdict.DOMAIN_BUSY


def reply(code: int, text: str) -> Failure:
    return Failure.from_error(smtplib.SMTPDataError(code, text.encode()))


def at_rcpt(code: int, text: str) -> Failure:
    refused = {"someone@example.com": (code, text.encode())}
    return Failure.from_error(smtplib.SMTPRecipientsRefused(refused))


class TestProviderReplies:
    """The real words of Gmail, Microsoft 365 and Amazon SES."""

    @pytest.mark.parametrize(
        ("failure", "verdict"),
        [
            # Gmail
            (reply(550, "5.4.5 Daily user sending quota exceeded."), BUSY),
            (reply(550, "5.4.5 Daily SMTP relay limit exceeded for user."), BUSY),
            (reply(421, "4.7.0 Try again later, closing connection."), BUSY),
            (
                reply(454, "4.7.0 Too many login attempts, please try again later."),
                BUSY,
            ),
            (
                at_rcpt(
                    550,
                    "5.1.1 The email account that you tried to reach does not exist.",
                ),
                UNKNOWN,
            ),
            (
                at_rcpt(
                    450,
                    "4.2.1 The user you are trying to contact is receiving "
                    "mail too quickly.",
                ),
                RETRY,
            ),
            (
                at_rcpt(
                    452,
                    "4.2.2 The email account that you tried to reach is over quota.",
                ),
                RETRY,
            ),
            (
                at_rcpt(
                    552,
                    "5.2.2 The email account that you tried to reach is over quota.",
                ),
                REJECTED,
            ),
            (reply(535, "5.7.8 Username and Password not accepted."), REJECTED),
            (
                reply(
                    552,
                    "5.7.0 This message was blocked because its content "
                    "presents a potential security issue.",
                ),
                REJECTED,
            ),
            # Microsoft 365
            (
                reply(
                    554,
                    "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceeded"
                    "Exception; Failed to process message",
                ),
                BUSY,
            ),
            (
                reply(432, "4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded"),
                BUSY,
            ),
            (
                at_rcpt(
                    550,
                    "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
                    "found by SMTP address lookup",
                ),
                UNKNOWN,
            ),
            (
                reply(
                    535,
                    "5.7.139 Authentication unsuccessful, SmtpClient"
                    "Authentication is disabled for the Tenant.",
                ),
                REJECTED,
            ),
            (
                reply(
                    550,
                    "5.7.708 Service unavailable. Access denied, traffic not "
                    "accepted from this IP.",
                ),
                REJECTED,
            ),
            # Amazon SES
            (reply(454, "Throttling failure: Maximum sending rate exceeded."), BUSY),
            (reply(454, "Throttling failure: Daily message quota exceeded."), BUSY),
            (reply(451, "Temporary service failure"), BUSY),
            (reply(554, "Message rejected: Email address is not verified."), REJECTED),
            (reply(535, "Authentication Credentials Invalid"), REJECTED),
            # A destination's own server, answering RCPT: that domain, for now
            (at_rcpt(451, "4.7.1 Greylisted, please try again later"), DOMAIN_BUSY),
            (
                at_rcpt(
                    421,
                    "4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred "
                    "due to unexpected volume or user complaints",
                ),
                DOMAIN_BUSY,
            ),
            (
                at_rcpt(451, "4.7.500 Server busy. Please try again later. (S77714)"),
                DOMAIN_BUSY,
            ),
            # ... but our own quota, even at RCPT, pauses everything
            (at_rcpt(550, "5.4.5 Daily user sending quota exceeded."), BUSY),
            # Others
            (at_rcpt(550, "No such user here"), UNKNOWN),
            (at_rcpt(554, "5.7.1 Recipient address rejected: Access denied"), REJECTED),
            (reply(471, "Please try again later"), RETRY),
        ],
    )
    def test_each_reply_means_what_the_provider_says(
        self, failure: Failure, verdict: Verdict
    ) -> None:
        assert classify(failure) is verdict

    def test_the_reason_kept_is_the_servers_own_words(self) -> None:
        failure = at_rcpt(550, "5.1.1 no such user")
        assert failure.reason == "someone@example.com: 550 5.1.1 no such user"
        assert failure.enhanced == "5.1.1"


class TestConnectionErrors:
    @pytest.mark.parametrize(
        ("error", "verdict"),
        [
            (smtplib.SMTPServerDisconnected("gone"), RETRY),
            (TimeoutError("timed out"), RETRY),
            (ConnectionResetError(), RETRY),
            (ConnectionRefusedError(), RETRY),
            (OSError(errno.ENETUNREACH, "Network is unreachable"), RETRY),
            (OSError("other"), REJECTED),
            (smtplib.SMTPException("no AUTH"), REJECTED),
            (TransportError("no greeting", permanent=False), RETRY),
            (TransportError("TLS mismatch", permanent=True), REJECTED),
        ],
    )
    def test_network_errors_are_retried_and_the_rest_are_not(
        self, error: BaseException, verdict: Verdict
    ) -> None:
        assert classify(Failure.from_error(error)) is verdict


# Against real servers --------------------------------------------------------------


@pytest.fixture
def server(
    request: pytest.FixtureRequest, certificate: Certificate
) -> Iterator[SMTPServer]:
    """A server speaking the TLS mode the test names: @pytest.mark.parametrize."""
    tls = getattr(request, "param", "")
    with SMTPServer(tls=tls, certificate=certificate, login=LOGIN) as running:
        yield running


def message() -> EmailMessage:
    return EmailMessage("Hello", "Body", "noreply@example.com", ["ann@example.com"])


def send(settings: DjangoSettings, port: int) -> str:
    settings.EMAIL_PORT = port
    client = SMTPClient()
    try:
        return client.send(message()).reply
    finally:
        client.close()


@pytest.mark.parametrize("server", ["starttls"], indirect=True)
def test_starttls_with_auth_sends(
    email_settings: DjangoSettings, server: SMTPServer
) -> None:
    email_settings.EMAIL_USE_TLS = True
    assert send(email_settings, server.port).startswith("250")
    [received] = server.received
    assert received.rcpt_tos == ["ann@example.com"]


@pytest.mark.parametrize("server", ["implicit"], indirect=True)
def test_implicit_tls_with_auth_sends(
    email_settings: DjangoSettings, server: SMTPServer
) -> None:
    email_settings.EMAIL_USE_SSL = True
    assert send(email_settings, server.port).startswith("250")
    assert len(server.received) == 1


@pytest.mark.parametrize("server", ["implicit"], indirect=True)
def test_plain_smtp_to_an_implicit_tls_port_says_so_within_the_timeout(
    email_settings: DjangoSettings, server: SMTPServer
) -> None:
    email_settings.EMAIL_TIMEOUT = 0.5  # the greeting never comes: wait less
    with pytest.raises(TransportError) as error:
        send(email_settings, server.port)
    assert "No SMTP greeting" in error.value.reason
    assert "EMAIL_USE_SSL=True" in error.value.reason
    assert not error.value.permanent


@pytest.mark.parametrize("server", ["starttls"], indirect=True)
def test_implicit_tls_to_a_starttls_port_says_so(
    email_settings: DjangoSettings, server: SMTPServer
) -> None:
    email_settings.EMAIL_USE_SSL = True
    with pytest.raises(TransportError) as error:
        send(email_settings, server.port)
    assert "does not speak implicit TLS" in error.value.reason
    assert error.value.permanent


@pytest.mark.parametrize("server", ["starttls"], indirect=True)
def test_an_untrusted_certificate_is_refused(
    email_settings: DjangoSettings, server: SMTPServer
) -> None:
    email_settings.EMAIL_USE_TLS = True
    email_settings.EMAIL_SSL_CAFILE = None  # the private CA is not trusted
    with pytest.raises(TransportError) as error:
        send(email_settings, server.port)
    assert "does not verify" in error.value.reason
    assert server.received == []


@pytest.mark.parametrize("server", ["starttls"], indirect=True)
def test_a_wrong_password_is_the_servers_refusal(
    email_settings: DjangoSettings, server: SMTPServer
) -> None:
    email_settings.EMAIL_USE_TLS = True
    email_settings.EMAIL_HOST_PASSWORD = "wrong"
    with pytest.raises(smtplib.SMTPAuthenticationError) as error:
        send(email_settings, server.port)
    assert classify(Failure.from_error(error.value)) is REJECTED


def test_a_refused_connection_names_the_server(email_settings: DjangoSettings) -> None:
    with pytest.raises(TransportError) as error:
        send(email_settings, free_port())
    assert "Could not connect to 127.0.0.1:" in error.value.reason
    assert classify(Failure.from_error(error.value)) is RETRY


def test_a_batch_goes_over_one_connection(email_settings: DjangoSettings) -> None:
    email_settings.EMAIL_HOST_USER = email_settings.EMAIL_HOST_PASSWORD = ""
    with SMTPServer() as plain:
        email_settings.EMAIL_PORT = plain.port
        client = SMTPClient()
        replies = [client.send(message()).reply for _ in range(3)]
        client.close()
    assert [r[:3] for r in replies] == ["250"] * 3
    assert plain.sink.connections == 1


# PIPELINING (RFC 2920) ---------------------------------------------------------------


class PipeliningOnlyServer:
    """A server that offers PIPELINING and answers MAIL, RCPT and DATA only once
    all three have arrived: a client waiting for MAIL's reply before RCPT
    would wait until its timeout. Records what it read."""

    def __init__(self, rcpt_reply: bytes = b"250 2.1.5 Ok") -> None:
        self.rcpt_reply = rcpt_reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.envelope = b""
        self.message = b""
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"220 test ESMTP\r\n")
            lines.readline()  # EHLO
            connection.sendall(b"250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            self.envelope = b"".join(lines.readline() for _ in range(3))
            accepted = self.rcpt_reply.startswith(b"250")
            data = b"354 Go ahead" if accepted else b"554 5.5.1 No valid recipients"
            connection.sendall(b"250 2.1.0 Ok\r\n" + self.rcpt_reply + b"\r\n")
            connection.sendall(data + b"\r\n")
            if not accepted:
                lines.readline()  # RSET
                connection.sendall(b"250 Ok\r\n")
                return
            while not self.message.endswith(b"\r\n.\r\n"):
                self.message += lines.readline()
            connection.sendall(b"250 2.0.0 Ok: queued as PIPE1\r\n")


def pipelined_send(settings: DjangoSettings, server: PipeliningOnlyServer) -> str:
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = server.port, 5
    client = SMTPClient()
    try:
        body = EmailMessage("Hello", ".A line with a dot\n", "noreply@example.com",
                            ["ann@example.com"])  # fmt: skip
        return client.send(body).reply
    finally:
        client.backend.connection = None  # the test server hangs up by itself


def test_mail_rcpt_and_data_go_in_one_write_where_the_server_offers_it(
    email_settings: DjangoSettings,
) -> None:
    server = PipeliningOnlyServer()
    assert pipelined_send(email_settings, server) == "250 2.0.0 Ok: queued as PIPE1"
    assert server.envelope == (
        b"MAIL FROM:<noreply@example.com>\r\nRCPT TO:<ann@example.com>\r\nDATA\r\n"
    )
    assert b"\r\n..A line with a dot\r\n" in server.message  # dot-stuffed


def test_a_recipient_refused_in_a_pipeline_is_refused_and_nothing_is_sent(
    email_settings: DjangoSettings,
) -> None:
    server = PipeliningOnlyServer(rcpt_reply=b"550 5.1.1 User unknown")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        pipelined_send(email_settings, server)
    assert classify(Failure.from_error(refused.value)) is UNKNOWN
    assert server.message == b""
