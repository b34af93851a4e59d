"""`manage.py check_email --to you@example.com`: try the whole path to the relay
the worker uses, step by step, and say what failed in words; then the sending
domain's SPF, DKIM and DMARC records, and what is missing.

It reads the same settings as the worker (EMAIL_BACKEND; for SMTP, EMAIL_HOST,
EMAIL_PORT, EMAIL_USE_TLS or EMAIL_USE_SSL, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD;
the EMAIL_FALLBACK_* relay; DKIM_*) and, with --to, sends one test message by
each relay, outside the outbox: nothing is recorded.
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

from notifications.dkim import process_signer
from notifications.dns_checks import DNS_TIMEOUT, OK, Lookup, check_records, from_domain
from notifications.esp import BackendTransport
from notifications.relays import SEND_ERRORS, fallback_settings
from notifications.smtp import Failure, SMTPClient, explain_session_failure, meaning


class Command(BaseCommand):
    help = (
        "Connect, secure, sign in and send one test message, as the worker would; "
        "then check the sending domain's SPF, DKIM and DMARC records."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to", help="where the test message goes (none: no test message)"
        )
        parser.add_argument(
            "--nameserver",
            default="",
            help="ask this DNS server (HOST or HOST:PORT) instead of the system's",
        )
        parser.add_argument(
            "--dns-timeout",
            type=float,
            default=DNS_TIMEOUT,
            help="seconds to wait for DNS answers before saying it did not answer"
            f" (default {DNS_TIMEOUT:g})",
        )
        parser.add_argument(
            "--no-dns", action="store_true", help="skip the SPF, DKIM and DMARC checks"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        to = options["to"]
        backend = get_connection(fail_silently=False)
        if isinstance(backend, EmailBackend):
            self.check_relay(backend, to)
        else:
            self.check_backend(to)
        fallback = fallback_settings()
        if fallback:
            self.stdout.write("The fallback relay (EMAIL_FALLBACK_*):")
            self.check_relay(SMTPClient(**fallback).backend, to)
        if not options["no_dns"]:
            self.check_dns(options["nameserver"], options["dns_timeout"])

    def check_relay(self, backend: EmailBackend, to: str | None) -> None:
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
        if not to:
            smtp.quit()
            self.stdout.write(
                self.style.SUCCESS("All good so far (add --to to send a test message).")
            )
            return
        message, signer = test_message(to), process_signer()
        reply = self.step(
            "test message", backend, lambda: SMTPClient.transact(smtp, message, signer)
        )
        smtp.quit()
        signed = ", DKIM-signed" if signer else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"All good: the server took the message{signed} ({reply})."
            )
        )

    def check_backend(self, to: str | None) -> None:
        """An ESP's API (anymail), or a development backend: one test message."""
        self.stdout.write(f"Checking EMAIL_BACKEND {settings.EMAIL_BACKEND}")
        if not to:
            self.stdout.write("  nothing to try without sending: add --to")
            return
        transport = BackendTransport()
        try:
            accepted = transport.send(test_message(to))
        except SEND_ERRORS as error:
            raise CommandError(
                f"test message failed: {meaning(Failure.from_error(error))}"
            ) from None
        finally:
            transport.close()
        self.stdout.write("  test message: ok")
        self.stdout.write(self.style.SUCCESS(f"All good: {accepted.reply}."))

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

    def check_dns(self, nameserver: str, timeout: float) -> None:
        domain = from_domain()
        asked = nameserver or "the system's resolver"
        self.stdout.write(
            f"DNS records of {domain} (DEFAULT_FROM_EMAIL), from {asked}:"
        )
        findings = check_records(domain, process_signer(), Lookup(nameserver, timeout))
        for finding in findings:
            style = self.style.SUCCESS if finding.status == OK else self.style.WARNING
            self.stdout.write(
                f"  {finding.record}: " + style(f"{finding.status}: {finding.says}")
            )
        problems = [finding.record for finding in findings if finding.problem]
        if problems:
            self.stdout.write(
                self.style.WARNING(
                    f"To fix in DNS: {', '.join(problems)}. Until then receivers may "
                    "send this mail to spam or refuse it."
                )
            )


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
        "The worker's path to the relay works: this message came through it.\n",
        settings.DEFAULT_FROM_EMAIL,
        [to],
    )
