"""Request helpers every app's views share."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme


def is_htmx(request: HttpRequest) -> bool:
    """Sent by htmx, which swaps the answer into part of the page."""
    return request.headers.get("HX-Request") == "true"


def form_data(request: HttpRequest) -> QueryDict | None:
    """What to bind a form to: the POST data, or None for a GET.

    `request.POST or None` would take an empty POST for a fresh GET.
    """
    return request.POST if request.method == "POST" else None


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The POSTed `next` when it is a URL of this site, else the fallback."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else fallback


def paginate(request: HttpRequest, items: QuerySet[Any], per_page: int) -> Page[Any]:
    """The page of items ?page= asks for (the last one past the end)."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
