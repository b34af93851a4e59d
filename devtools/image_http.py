"""A small HTTP client for `make image`'s checks: a Host header of our choosing,
HTTPS to an address under the site's name, cookies kept (CSRF), redirects not
followed (their status is what we check)."""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


@dataclass
class HttpReply:
    status: int
    body: str
    headers: http.client.HTTPMessage = field(default_factory=http.client.HTTPMessage)


@dataclass
class WebClient:
    """Talks to address:port as a browser does to the site `host`: over HTTPS
    (trusting `tls`, checking the certificate names `host`) when `tls` is given,
    with the site's Origin on every POST, as CSRF checks over HTTPS want."""

    address: str
    port: int
    host: str
    tls: ssl.SSLContext | None = None
    cookies: SimpleCookie = field(default_factory=SimpleCookie)

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def get(self, path: str, extra: dict[str, str] | None = None) -> HttpReply:
        return self.request("GET", path, extra=extra)

    def post(
        self, path: str, form: dict[str, str], extra: dict[str, str] | None = None
    ) -> HttpReply:
        headers = {"Origin": self.origin, **(extra or {})}
        return self.request("POST", path, urlencode(form), extra=headers)

    def status(self, path: str) -> int:
        """The status of a GET, 0 while nothing answers on the port."""
        try:
            return self.get(path).status
        except OSError:
            return 0

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> HttpReply:
        headers = {"Host": self.host, **(extra or {})}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(
                f"{name}={morsel.value}" for name, morsel in self.cookies.items()
            )
        connection = self.connection()
        reply = exchange(connection, method, path, headers, body)
        for header in reply.headers.get_all("Set-Cookie") or ():
            self.cookies.load(header)
        return reply

    def connection(self) -> http.client.HTTPConnection:
        if self.tls is None:
            return http.client.HTTPConnection(self.address, self.port, timeout=10)
        return SiteConnection(self.address, self.port, self.host, self.tls)


class SiteConnection(http.client.HTTPSConnection):
    """HTTPS to an address, the TLS handshake naming the site (SNI, and the name
    the certificate is checked against)."""

    def __init__(
        self, address: str, port: int, site: str, context: ssl.SSLContext
    ) -> None:
        super().__init__(address, port, timeout=10, context=context)
        self.site, self.site_context = site, context

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self.site_context.wrap_socket(raw, server_hostname=self.site)


def exchange(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str | None = None,
) -> HttpReply:
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        return HttpReply(response.status, text, response.headers)
    finally:
        connection.close()


def fetch(url: str, credentials: str | None = None) -> HttpReply:
    """GET a URL, with basic auth when `credentials` ("user:password") are given.

    A refused connection answers status 0, so callers can poll until it listens.
    """
    parts = urlsplit(url)
    headers = {"Host": parts.netloc}
    if credentials:
        token = base64.b64encode(credentials.encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port or 80, timeout=10
    )
    try:
        return exchange(connection, "GET", path, headers)
    except OSError:
        return HttpReply(0, "")
