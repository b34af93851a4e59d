"""Sign-in by username or email address, for every page that authenticates."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from users.accounts import find_account
from users.models import User


class UsernameOrEmailBackend(ModelBackend):
    """Django's ModelBackend, finding the account with users.accounts.find_account.

    django-axes counts failures per account whichever identifier is typed
    (users.protection.account_key), so an attacker gains nothing by switching
    between a username and its email address.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = find_account(username)
        if user is None:
            # As ModelBackend does: hash anyway, so timing does not tell whether
            # the account exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
