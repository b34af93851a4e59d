"""`manage.py check_email --to you@example.com`: try the whole path to the SMTP
server the worker uses, step by step, and say what failed in words.

It reads the same settings as the worker (EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS
or EMAIL_USE_SSL, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD) and sends one test
message, outside the outbox: nothing is recorded.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.utils import DNS_NAME
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.smtp import Failure, SMTPClient, explain_session_failure, meaning


class Command(BaseCommand):
    help = "Connect, secure, sign in and send one test message, as the worker would."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, help="where the test message goes")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = get_connection(fail_silently=False)
        if not isinstance(backend, EmailBackend):
            raise CommandError(f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}, not SMTP.")
        self.stdout.write(f"Checking {describe(backend)}")
        smtp = self.step("connect", backend, lambda: connect(backend))
        if backend.use_ssl:
            self.stdout.write("  implicit TLS: the certificate was verified")
        if backend.use_tls:
            self.step(
                "STARTTLS", backend, lambda: smtp.starttls(context=backend.ssl_context)
            )
        if backend.username:
            self.step(
                "AUTH", backend, lambda: smtp.login(backend.username, backend.password)
            )
        message = test_message(options["to"])
        reply = self.step(
            "test message", backend, lambda: SMTPClient.transact(smtp, message)
        )
        smtp.quit()
        self.stdout.write(
            self.style.SUCCESS(f"All good: the server took the message ({reply}).")
        )

    def step(self, name: str, backend: EmailBackend, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
            raise CommandError(
                f"{name} failed: {meaning(Failure.from_error(error))}"
            ) from None
        except OSError as error:
            reason = explain_session_failure(backend, error).reason
            raise CommandError(f"{name} failed: {reason}") from None
        self.stdout.write(f"  {name}: ok")
        return result


def describe(backend: EmailBackend) -> str:
    mode = (
        "implicit TLS"
        if backend.use_ssl
        else "STARTTLS"
        if backend.use_tls
        else "no TLS"
    )
    login = f", signing in as {backend.username}" if backend.username else ", no login"
    return f"{backend.host}:{backend.port} ({mode}{login}), timeout {backend.timeout} s"


def connect(backend: EmailBackend) -> smtplib.SMTP:
    params: dict[str, Any] = {
        "local_hostname": DNS_NAME.get_fqdn(),
        "timeout": backend.timeout,
    }
    if backend.use_ssl:
        params["context"] = backend.ssl_context
    return backend.connection_class(backend.host, backend.port, **params)


def test_message(to: str) -> EmailMessage:
    return EmailMessage(
        "Test message from Tasks",
        "The worker's path to the SMTP server works: this message came through it.\n",
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )
