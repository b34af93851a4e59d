"""Activation, password-reset, email-change and address-restore tokens; the worker
puts them in links."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from users.models import User


class AccountActivationTokenGenerator(PasswordResetTokenGenerator):
    """Valid for PASSWORD_RESET_TIMEOUT; useless once the account was activated.

    Its own salt keeps activation and password-reset tokens apart. The hash covers
    is_active and activated_at, so activating spends every link sent so far, for
    good: an account an Admin deactivates is inactive again, but its activated_at
    stays. It covers the email too, so a link sent to an address an admin has since
    corrected stops working. (A never-activated account hashes as before
    activated_at existed, so links sent before it was added still work.)
    """

    key_salt = "users.tokens.AccountActivationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        email = getattr(user, "email", "")
        activated_at = getattr(user, "activated_at", None)
        activated = "" if activated_at is None else int(activated_at.timestamp())
        state = f"{user.is_active}{activated}"
        return f"{user.pk}{user.password}{state}{email}{timestamp}"

    def was_issued_before_activation(self, user: User, token: str) -> bool:
        """Whether `token` is a genuine link of this account from before activation.

        However old: the expiry does not matter here. Lets the activation page tell a
        deactivated person to contact an Admin without telling a stranger with a
        made-up link anything about the account.
        """
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        as_issued = copy.copy(user)
        as_issued.is_active, as_issued.activated_at = False, None
        return any(
            constant_time_compare(
                self._make_token_with_timestamp(as_issued, timestamp, secret), token
            )
            for secret in [self.secret, *self.secret_fallbacks]
        )


account_activation_token = AccountActivationTokenGenerator()


class PasswordResetLinkTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset token (its salt and hash, so a link sent before
    still works), valid for PASSWORD_RESET_LINK_TIMEOUT: a link that changes
    the password lasts an hour, not the days an activation link does."""

    def check_token(self, user: User | None, token: str | None) -> bool:
        if not super().check_token(user, token):
            return False
        issued = base36_to_int(str(token).split("-")[0])  # read by super() already
        age = self._num_seconds(self._now()) - issued
        return bool(age <= settings.PASSWORD_RESET_LINK_TIMEOUT)


password_reset_token_generator = PasswordResetLinkTokenGenerator()


class EmailChangeTokenGenerator(PasswordResetTokenGenerator):
    """Confirms a move to the address waiting in User.pending_email.

    Valid for PASSWORD_RESET_TIMEOUT. The hash covers the current address and the
    waiting one, so the link is spent once the address changes, and a newer
    request (or a cancelled one) voids it; it covers the password too, so
    changing the password voids a change someone else asked for.
    """

    key_salt = "users.tokens.EmailChangeTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        current = getattr(user, "email", "")
        waiting = getattr(user, "pending_email", "")
        return f"{user.pk}{user.password}{current}{waiting}{timestamp}"


email_change_token_generator = EmailChangeTokenGenerator()


# The units a link's validity is said in, largest first.
UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


def lasts(seconds: int) -> str:
    """How long a link works, as the emails and pages say it: "3 days",
    "1 hour", "90 minutes"; in the largest unit it is a whole number of, and
    otherwise in whole minutes, never more than it is."""
    for unit, size in UNITS:
        if seconds >= size and seconds % size == 0:
            return counted(seconds // size, unit)
    return counted(max(seconds // 60, 1), "minute")


def counted(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def encode_uid(user: User) -> str:
    """The uid as Django's password reset encodes it."""
    return urlsafe_base64_encode(force_bytes(user.pk))


def activation_token(user: User) -> str:
    return account_activation_token.make_token(user)


def password_reset_token(user: User) -> str:
    return password_reset_token_generator.make_token(user)


def email_change_token(user: User) -> str:
    return email_change_token_generator.make_token(user)


# The restore link of an AddressChange names the change and its account, signed
# and dated. It does not hash the password or the current address: whoever took
# the account may have changed both, and the link must still give it back.
# Spent once used (AddressChange.spent_at, users.accounts.restore_address).
ADDRESS_RESTORE_SALT = "users.tokens.address_restore"


def address_restore_token(change_id: int, user_id: int) -> str:
    return signing.dumps([change_id, user_id], salt=ADDRESS_RESTORE_SALT)


def read_address_restore_token(token: str) -> tuple[int, int] | None:
    """(change id, account id) of a genuine restore link younger than
    PASSWORD_RESET_TIMEOUT; None for anything else."""
    try:
        change_id, user_id = signing.loads(
            token, salt=ADDRESS_RESTORE_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT
        )
        return int(change_id), int(user_id)
    except (signing.BadSignature, TypeError, ValueError):
        return None


# An invitation's link names the invitation and the time it was sent, signed
# and dated: sending it again (Invitation.sent_at moves) spends the older link,
# and accepting or revoking the invitation spends every link
# (users.accounts.invitation_from_link).
INVITATION_SALT = "users.tokens.invitation"


def invitation_token(invitation_id: int, sent_at: int) -> str:
    return signing.dumps([invitation_id, sent_at], salt=INVITATION_SALT)


def read_invitation_token(token: str) -> tuple[int, int] | None:
    """(invitation id, when it was sent) of a genuine link younger than
    PASSWORD_RESET_TIMEOUT; None for anything else."""
    try:
        invitation_id, sent_at = signing.loads(
            token, salt=INVITATION_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT
        )
        return int(invitation_id), int(sent_at)
    except (signing.BadSignature, TypeError, ValueError):
        return None
