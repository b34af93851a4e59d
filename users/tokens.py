"""Activation and password-reset tokens; the worker puts them in links."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import (
    PasswordResetTokenGenerator,
    default_token_generator,
)
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


class AccountActivationTokenGenerator(PasswordResetTokenGenerator):
    """Valid for PASSWORD_RESET_TIMEOUT; useless once the account is active.

    Its own salt keeps activation and password-reset tokens apart. The hash covers
    is_active, so activating spends every link sent so far, and the email, so a
    link sent to an address an admin has since corrected stops working.
    """

    key_salt = "users.tokens.AccountActivationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        email = getattr(user, "email", "")
        return f"{user.pk}{user.password}{user.is_active}{email}{timestamp}"


account_activation_token = AccountActivationTokenGenerator()


def encode_uid(user: AbstractBaseUser) -> str:
    """The uid as Django's password reset encodes it."""
    return urlsafe_base64_encode(force_bytes(user.pk))


def activation_token(user: AbstractBaseUser) -> str:
    return account_activation_token.make_token(user)


def password_reset_token(user: AbstractBaseUser) -> str:
    return default_token_generator.make_token(user)
