"""A notification's link followed from its email: ?n=<token> (links.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from notifications import inbox
from notifications.links import READ_PARAMETER


class ReadFromEmailMiddleware:
    """Marks the email's item read ("opened from the email") for its
    recipient, signed in, then sends them to the same address without the
    token (out of the address bar, the history, a reload).

    Signed out, the page's own sign-in redirect keeps the token in `next` and
    brings it back here once signed in. Someone else's token, or a forged
    one, marks nothing; the token never signs anyone in. A HEAD request (a
    link scanner's) changes nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request.GET.get(READ_PARAMETER)
        if token is None or request.method != "GET":
            return self.get_response(request)
        if not request.user.is_authenticated:
            return self.get_response(request)
        inbox.read_from_email(request.user.pk, token)
        return HttpResponseRedirect(without_token(request))


def without_token(request: HttpRequest) -> str:
    """This request's path and query, but the token: always a path of this
    site (a path starting "//" would be read as another host)."""
    query = request.GET.copy()
    query.pop(READ_PARAMETER, None)
    path = "/" + request.path.lstrip("/")
    return f"{path}?{query.urlencode()}" if query else path
