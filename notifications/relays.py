"""The ways out of the worker: the primary relay (EMAIL_BACKEND: an SMTP server,
or an ESP's API through django-anymail) and, with EMAIL_FALLBACK_HOST set, a
fallback SMTP relay that carries the mail while the primary cannot be reached
or keeps answering busy.

Both are kept per worker process, their connections open between batches. Which
one a send goes by is decided with its turn (notifications/pace.py), from a state
every worker shares in Redis; the batch run (notifications/sending.py) reports
what the primary did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import requests
from anymail.exceptions import AnymailError
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.utils.module_loading import import_string
from urllib3.exceptions import ConnectTimeoutError

from notifications.dkim import process_signer
from notifications.esp import BackendTransport
from notifications.models import Delivery
from notifications.smtp import Accepted, SMTPClient, TransportError

PRIMARY, FALLBACK = Delivery.Relay.PRIMARY.value, Delivery.Relay.FALLBACK.value
# A turn by the primary while the fallback carries the mail: one process tries
# whether the primary is back, and says how it went.
PROBE = "probe"
# What a failed send raises, whichever the relay: an SMTP reply or a broken
# connection (OSError), an ESP's refusal (AnymailError), an address that cannot
# be written (ValueError, UnicodeError).
SEND_ERRORS = (OSError, ValueError, UnicodeError, AnymailError)


class Transport(Protocol):
    def begin_batch(self) -> None: ...
    def send(self, message: EmailMessage) -> Accepted: ...
    def close(self) -> None: ...


@dataclass
class Relays:
    primary: Transport
    fallback: SMTPClient | None = None

    def by(self, relay: str) -> Transport:
        """The transport a turn names (a probe goes by the primary)."""
        if relay == FALLBACK and self.fallback is not None:
            return self.fallback
        return self.primary

    def begin_batch(self) -> None:
        self.primary.begin_batch()
        if self.fallback is not None:
            self.fallback.begin_batch()

    def close(self) -> None:
        self.primary.close()
        if self.fallback is not None:
            self.fallback.close()


_relays: dict[tuple[object, ...], Relays] = {}


def process_relays() -> Relays:
    """This process's relays for the configured settings, kept across jobs: one
    connection per worker process and relay instead of one per job."""
    key = (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_USE_TLS,
        settings.EMAIL_USE_SSL,
        settings.EMAIL_HOST_USER,
        settings.EMAIL_TIMEOUT,
        repr(getattr(settings, "ANYMAIL", {})),
        *fallback_settings().values(),
        settings.DKIM_DOMAIN,
        settings.DKIM_SELECTOR,
        settings.DKIM_PRIVATE_KEY,
    )
    relays = _relays.get(key)
    if relays is None:
        close_process_relays()  # the settings changed: the old servers are not ours
        relays = _relays[key] = open_relays()
    relays.begin_batch()
    return relays


def close_process_relays() -> None:
    """QUIT every kept connection (worker shutdown, or new settings)."""
    for relays in _relays.values():
        relays.close()
    _relays.clear()


def open_relays() -> Relays:
    signer = process_signer()
    backend = import_string(settings.EMAIL_BACKEND)
    primary: Transport = (
        SMTPClient(signer)
        if issubclass(backend, DjangoSMTPBackend)
        else BackendTransport()
    )
    fallback = fallback_settings()
    return Relays(primary, SMTPClient(signer, **fallback) if fallback else None)


def fallback_settings() -> dict[str, Any]:
    """The fallback relay's connection, as Django's SMTP backend takes it; empty
    when EMAIL_FALLBACK_HOST is not set."""
    if not settings.EMAIL_FALLBACK_HOST:
        return {}
    return {
        "host": settings.EMAIL_FALLBACK_HOST,
        "port": settings.EMAIL_FALLBACK_PORT,
        "username": settings.EMAIL_FALLBACK_USER,
        "password": settings.EMAIL_FALLBACK_PASSWORD,
        "use_tls": settings.EMAIL_FALLBACK_USE_TLS,
        "use_ssl": settings.EMAIL_FALLBACK_USE_SSL,
        "timeout": settings.EMAIL_TIMEOUT,
        # The primary's client certificate is not the fallback's.
        "ssl_certfile": "",
        "ssl_keyfile": "",
    }


def never_sent(error: BaseException) -> bool:
    """Nothing of the message reached the relay (no session could be had, or
    the connection was never made), so another relay may take it at once."""
    if isinstance(error, TransportError):
        return True
    cause = error.__cause__  # anymail's error wraps the requests exception
    if isinstance(cause, requests.ConnectionError) and cause.args:
        return isinstance(getattr(cause.args[0], "reason", None), ConnectTimeoutError)
    return False
