"""Who is acting: the signed-in user of the request being served.

Model signals carry no request, yet some receivers must know who made a change:
the task history names them, and nobody is emailed about their own action. The
middleware makes the request's user available to them for the request's length;
outside a request (a shell, a job) there is no actor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from users.models import User

_request: ContextVar[HttpRequest | None] = ContextVar("actor_request", default=None)


def current_actor() -> User | None:
    """The signed-in user of the request being served, if any."""
    request = _request.get()
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None


@contextmanager
def acting_as(request: HttpRequest) -> Iterator[None]:
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


class ActorMiddleware:
    """After AuthenticationMiddleware. request.user stays lazy: a request that
    changes nothing never loads it for this."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(request):
            return self.get_response(request)
