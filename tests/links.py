"""The links the worker puts in account emails, made the same way, for tests."""

from __future__ import annotations

from notifications.links import absolute_url
from users.models import AddressChange, User
from users.tokens import (
    activation_token,
    address_restore_token,
    email_change_token,
    encode_uid,
    password_reset_token,
)


def activation_link(user: User) -> str:
    token = activation_token(user)
    return absolute_url("users:activate", uidb64=encode_uid(user), token=token)


def password_reset_link(user: User) -> str:
    token = password_reset_token(user)
    return absolute_url(
        "users:password-reset-confirm", uidb64=encode_uid(user), token=token
    )


def email_change_link(user: User) -> str:
    token = email_change_token(user)
    return absolute_url("users:email-confirm", uidb64=encode_uid(user), token=token)


def email_restore_link(change: AddressChange) -> str:
    token = address_restore_token(change.pk, change.user_id)
    return absolute_url("users:email-restore", token=token)
