"""Accounts under attack: who the client is, lockout and rate-limit answers.

django-axes (sign-in lockout) and django-ratelimit (sign-up, resend, reset, email
change) do the counting; this module tells them the client's address and the
account an attempt is against, and renders what a locked-out or rate-limited
visitor sees.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil
from django_ratelimit.core import _split_rate
from django_ratelimit.decorators import ratelimit

from users.accounts import find_account

TOO_MANY_REQUESTS = 429
View = Callable[..., HttpResponseBase]
RATE_ATTRIBUTE = "rate_limit"  # the rate a limited request was held to


def client_address(request: HttpRequest) -> str:
    """The client's IP address, as the one counted for lockout and rate limits.

    Behind our reverse proxy (BEHIND_PROXY) it is the last X-Forwarded-For entry:
    the address the proxy saw. Earlier entries come from the client and can be
    made up. Published directly, only the socket's address counts.
    """
    if settings.BEHIND_PROXY:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")[-1]
        if is_ip_address(forwarded.strip()):
            return forwarded.strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def account_key(
    request: HttpRequest | None, credentials: dict[str, Any] | None
) -> str | None:
    """The name django-axes counts a sign-in attempt under (AXES_USERNAME_CALLABLE).

    The account's username, whichever identifier was typed (its username or
    its email address in any case), so that per-account lockout holds however
    the account is named. What names no account is counted as typed, an email
    address lower-cased. Axes asks several times per request: the answer is
    kept on the request.
    """
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = request.POST.get("username")
    if not typed:
        return None
    known: dict[str, str] = getattr(request, "_axes_account_keys", {})
    if typed not in known:
        account = find_account(str(typed))
        known[typed] = account.username if account else _as_counted(str(typed))
        if request is not None:
            request._axes_account_keys = known  # type: ignore[attr-defined]
    return known[typed]


def _as_counted(typed: str) -> str:
    return typed.lower() if "@" in typed else typed


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """django-axes' lockout answer: what happened and when to try again.

    The same page whether or not the username exists, and for the admin's
    sign-in too.
    """
    minutes = int(get_cool_off(request).total_seconds() // 60)
    response = render(
        request, "users/locked_out.html", {"minutes": minutes}, status=TOO_MANY_REQUESTS
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def limit_per_client(group: str, rate_setting: str) -> Callable[[View], View]:
    """Counts a view's POSTs per client address; past the rate, rate_limited answers.

    The rate is read from settings at each request, so an operator's value holds.
    """

    def rate(_group: str, request: HttpRequest) -> str:
        rate = str(getattr(settings, rate_setting))
        setattr(request, RATE_ATTRIBUTE, rate)  # for rate_limited's answer
        return rate

    decorator: Callable[[View], View] = ratelimit(
        group=group, key="ip", rate=rate, method="POST"
    )
    return decorator


def limit_per_account(group: str, rate_setting: str) -> Callable[[View], View]:
    """Counts a signed-in person's POSTs, from wherever they come; past the rate,
    rate_limited answers. Put it below login_required.

    For what a stolen session could abuse (guessing the current password) or
    what spends everyone's email (comments and status changes email people).
    """

    def rate(_group: str, request: HttpRequest) -> str:
        rate = str(getattr(settings, rate_setting))
        setattr(request, RATE_ATTRIBUTE, rate)  # for rate_limited's answer
        return rate

    decorator: Callable[[View], View] = ratelimit(
        group=group, key="user", rate=rate, method="POST"
    )
    return decorator


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer (RATELIMIT_VIEW): a page saying when to retry."""
    _, period = _split_rate(getattr(request, RATE_ATTRIBUTE, "1/h"))
    now = timezone.now()
    wait = timeuntil(now + timedelta(seconds=period), now)
    return render(
        request, "users/rate_limited.html", {"wait": wait}, status=TOO_MANY_REQUESTS
    )
