"""Activation tokens and the links built from FRONTEND_URL (the worker has no request)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


class AccountActivationTokenGenerator(PasswordResetTokenGenerator):
    """Valid for PASSWORD_RESET_TIMEOUT; useless once the account is active."""

    key_salt = "users.tokens.AccountActivationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        return f"{user.pk}{user.password}{user.is_active}{timestamp}"


account_activation_token = AccountActivationTokenGenerator()


def encode_uid(user: AbstractBaseUser) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def activation_link(user: AbstractBaseUser) -> str:
    path = reverse(
        "users:activate",
        kwargs={"uidb64": encode_uid(user), "token": account_activation_token.make_token(user)},
    )
    return settings.FRONTEND_URL + path


def password_reset_link(user: AbstractBaseUser) -> str:
    path = reverse(
        "users:password-reset-confirm",
        kwargs={"uidb64": encode_uid(user), "token": default_token_generator.make_token(user)},
    )
    return settings.FRONTEND_URL + path
