"""Account rules that views, the admin and tests share."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from users.models import Role, User
from users.tokens import account_activation_token


def user_from_uidb64(uidb64: str) -> User | None:
    """The user a link names, or None for anything malformed or unknown."""
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return User._default_manager.get(pk=pk)
    # The same list as django.contrib.auth.views.PasswordResetConfirmView.get_user.
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        return None


def user_from_activation_link(uidb64: str, token: str) -> User | None:
    """The inactive user whose link this is, while the token is still good."""
    user = user_from_uidb64(uidb64)
    if user is None or not account_activation_token.check_token(user, token):
        return None
    return user


def activate_account(user: User) -> bool:
    """Activate the account and make it an Employee; False if it was active already.

    The conditional update lets only one of two racing clicks on a link win.
    """
    with transaction.atomic():
        updated = User._default_manager.filter(pk=user.pk, is_active=False).update(
            is_active=True
        )
        if updated != 1:
            return False
        employees, _ = Group.objects.get_or_create(name=Role.EMPLOYEE)
        user.groups.add(employees)
    user.is_active = True
    return True
