"""A small HTTP client for `make image`'s checks: a Host header of our choosing,
cookies kept (CSRF), redirects not followed (their status is what we check)."""

from __future__ import annotations

import base64
import http.client
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


@dataclass
class HttpReply:
    status: int
    body: str


@dataclass
class WebClient:
    """Talks to 127.0.0.1:port while naming the site's host, as a proxy would."""

    address: str
    port: int
    host_header: str
    cookies: SimpleCookie = field(default_factory=SimpleCookie)

    def get(self, path: str) -> HttpReply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> HttpReply:
        return self.request("POST", path, urlencode(form))

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
        headers = {"Host": self.host_header, **(extra or {})}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(
                f"{name}={morsel.value}" for name, morsel in self.cookies.items()
            )
        response = send(self.address, self.port, method, path, headers, body)
        for header in response.headers.get_all("Set-Cookie") or ():
            self.cookies.load(header)
        return HttpReply(response.status, response.body)


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: str


def send(
    address: str,
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str | None = None,
) -> RawResponse:
    connection = http.client.HTTPConnection(address, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        return RawResponse(response.status, response.headers, text)
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
    try:
        response = send(parts.hostname or "", parts.port or 80, "GET", path, headers)
    except OSError:
        return HttpReply(0, "")
    return HttpReply(response.status, response.body)
