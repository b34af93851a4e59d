"""manage.py check_email against real local servers: every step, or the one that
failed, in words an operator understands."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import Certificate, SMTPServer
from tests.support.mail import LOGIN


def check(to: str = "ops@example.com") -> str:
    out = StringIO()
    call_command("check_email", "--to", to, stdout=out)
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
