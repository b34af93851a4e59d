"""Site-wide answers: htmx requests the server cannot answer with a fragment go to
a whole page; a view's 404 is the product's page, also with DEBUG on."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found

from ui.http import is_htmx

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class HtmxWholePageMiddleware:
    """A redirect (to sign in, once a session expired) would otherwise have the
    sign-in page swapped into a part of the current one, and an error (a 403
    after someone was unassigned) would show nothing at all. htmx is told to go
    to the redirect's target, or to reload the page and show the error there."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_htmx(request):
            return response
        if response.status_code in REDIRECTS:
            navigate = HttpResponse(status=204)
            navigate["HX-Redirect"] = response["Location"]
            return navigate
        if response.status_code >= 400:
            response["HX-Refresh"] = "true"
        return response


class FriendlyNotFoundMiddleware:
    """A link to something that is gone (a deleted task: every old assignment
    email links to its task) gets the product's 404 page with a way back, also
    with DEBUG on, as under `make run`. A URL that matches no pattern still gets
    Django's technical page there, which is what a developer wants to see."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
