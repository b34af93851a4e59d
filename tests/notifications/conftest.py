"""Fixtures for the notifications tests: TLS for the local SMTP servers, and
what the app announces to the worker app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import Certificate
from notifications.signals import deliveries_due
from tests.support.broker import Announcement
from tests.support.mail import LOGIN


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A private CA and a certificate for 127.0.0.1 that it signed."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    paths = {name: folder / f"{name}.pem" for name in ("cert", "key", "ca")}
    server.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    server.private_key_pem.write_to_path(str(paths["key"]))
    ca.cert_pem.write_to_path(str(paths["ca"]))
    return Certificate(str(paths["cert"]), str(paths["key"]), str(paths["ca"]))


@pytest.fixture
def email_settings(
    settings: DjangoSettings, certificate: Certificate
) -> DjangoSettings:
    settings.EMAIL_BACKEND = "notifications.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_TIMEOUT = 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = LOGIN
    settings.EMAIL_SSL_CAFILE = certificate.cafile
    return settings


@pytest.fixture
def announced() -> Iterator[list[Announcement]]:
    """What deliveries_due announces while the test runs, in order."""
    calls: list[Announcement] = []

    def listen(
        delivery_ids: list[int], urgent: bool, countdown: float, **kwargs: Any
    ) -> None:
        calls.append((list(delivery_ids), urgent, countdown))

    deliveries_due.connect(listen, dispatch_uid="tests.announced")
    yield calls
    deliveries_due.disconnect(dispatch_uid="tests.announced")
