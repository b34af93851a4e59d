"""A browser-like HTTP session on the stdlib: cookies, CSRF token, no redirects."""

from __future__ import annotations

import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

TIMEOUT = 120.0  # the seed-style row blocks for 2 s per recipient inside a request


@dataclass
class Response:
    status: int
    body: str
    location: str
    elapsed: float  # seconds, request sent to body read


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 3xx itself is the answer a benchmark times


class Session:
    """One user's cookies against one server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(
        self, method: str, path: str, fields: list[tuple[str, str]] | None = None
    ) -> Response:
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        url = self.base_url + path  # always http://127.0.0.1:<port>
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        start = time.perf_counter()
        try:
            with self._opener.open(request, timeout=TIMEOUT) as answer:
                body = answer.read().decode(errors="replace")
                status, headers = answer.status, answer.headers
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            status, headers = error.code, error.headers
        elapsed = time.perf_counter() - start
        return Response(status, body, headers.get("Location", ""), elapsed)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def csrf_token(self) -> str:
        return next((c.value or "" for c in self.jar if c.name == "csrftoken"), "")

    def post(self, path: str, fields: list[tuple[str, str]]) -> Response:
        """POST a form as a browser would: fetch the page first for the CSRF cookie."""
        if not self.csrf_token():
            self.get(path)
        return self.request(
            "POST", path, [("csrfmiddlewaretoken", self.csrf_token()), *fields]
        )

    def sign_in(self, username: str, password: str) -> None:
        answer = self.post(
            "/users/sign-in/", [("username", username), ("password", password)]
        )
        if answer.status != 302:
            raise RuntimeError(f"sign-in as {username} answered {answer.status}")
