"""Sign-in lockout: three budgets of failures, and only one a sign-in gives back.

django-axes records each failure under (account, client address) and locks at
AXES_FAILURE_LIMIT for that pair; this handler adds two wider budgets, counted
over the same rows within the cool-off:

| budget                       | setting                       | default |
|------------------------------|-------------------------------|---------|
| one account from one client  | SIGN_IN_FAILURE_LIMIT         | 5       |
| one client, any accounts     | SIGN_IN_CLIENT_FAILURE_LIMIT  | 20      |
| one account, from any client | SIGN_IN_ACCOUNT_FAILURE_LIMIT | 50      |

A successful sign-in clears only the failures of the account that signed in,
from the client it signed in from (AXES_LOCKOUT_PARAMETERS names that pair, and
axes resets by it): signing in to one's own account gives back nothing spent
against another. The account's own budget is ten times the pair's, so a stranger
needs many addresses to lock a chosen person (an Admin included) out, and one
address with a few tries locks nobody out but itself.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """AXES_HANDLER: axes' database handler, with the client's and the account's
    budgets on top of the (account, client) pair it counts itself."""

    def get_failures(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """The pair's failures, or the whole limit once a wider budget is spent
        (axes locks when this reaches AXES_FAILURE_LIMIT)."""
        pair: int = super().get_failures(request, credentials)
        if wider_budget_spent(request, credentials):
            limit: int = get_failure_limit(request, credentials)
            return max(pair, limit)
        return pair


def wider_budget_spent(
    request: HttpRequest, credentials: dict[str, Any] | None
) -> bool:
    recent = AccessAttempt.objects.filter(
        attempt_time__gte=get_cool_off_threshold(request)
    )
    address = getattr(request, "axes_ip_address", None)
    if address and failures(recent.filter(ip_address=address)) >= (
        settings.SIGN_IN_CLIENT_FAILURE_LIMIT
    ):
        return True
    username = get_client_username(request, credentials)
    return bool(username) and failures(recent.filter(username=username)) >= (
        settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT
    )


def failures(attempts: QuerySet[AccessAttempt]) -> int:
    total = attempts.aggregate(total=Sum("failures_since_start"))["total"]
    return int(total or 0)
