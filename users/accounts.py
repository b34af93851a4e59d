"""Account rules that views, the admin and tests share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from users.models import AddressChange, Invitation, Role, User
from users.signals import email_change_requested, email_changed, invitation_sent
from users.tokens import (
    account_activation_token,
    email_change_token_generator,
    read_address_restore_token,
    read_invitation_token,
)


class EmailChangeOutcome(models.TextChoices):
    """What confirming a new email address did."""

    CHANGED = "changed"
    TAKEN = "taken"  # another account has used the address since the request
    INVALID = "invalid"  # confirmed, replaced or cancelled in the meantime


class RestoreOutcome(models.TextChoices):
    """What following an address-restore link did."""

    RESTORED = "restored"
    TAKEN = "taken"  # another account has used the old address since
    INVALID = "invalid"  # used, or spent by the restore of an earlier change


class LinkOutcome(models.TextChoices):
    """What following an activation link did."""

    READY = "ready"  # genuine and good: confirming (a POST) activates
    ACTIVATED = "activated"
    DEACTIVATED = "deactivated"  # a genuine link of an account an Admin switched off
    INVALID = "invalid"  # tampered, expired, used, or for an unknown account


def find_account(identifier: str) -> User | None:
    """The account a sign-in names: by username (exactly), else by email (any case).

    A username wins over an email address: sign-up refuses "@" in new usernames,
    so only an account made before that rule could shadow an address. Email
    addresses are unique whatever their case, so at most one account matches.
    """
    if not identifier:
        return None
    manager = User._default_manager
    by_username = manager.filter(username=identifier).first()
    if by_username is not None or "@" not in identifier:
        return by_username
    return manager.filter(email__iexact=identifier).first()


def user_from_uidb64(uidb64: str) -> User | None:
    """The user a link names, or None for anything malformed or unknown."""
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return User._default_manager.get(pk=pk)
    # The same list as django.contrib.auth.views.PasswordResetConfirmView.get_user.
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        return None


def read_activation_link(uidb64: str, token: str) -> tuple[LinkOutcome, User | None]:
    """What following this link would do, without doing it: READY (with the
    never-activated account), DEACTIVATED or INVALID.

    A deactivated account stays off whatever link is used; a genuine one
    (however old) learns it was deactivated, anything else reads as invalid.
    """
    user = user_from_uidb64(uidb64)
    if user is None:
        return LinkOutcome.INVALID, None
    if user.is_deactivated:
        genuine = is_genuine(user, token)
        return (LinkOutcome.DEACTIVATED if genuine else LinkOutcome.INVALID), None
    if can_activate(user, token):
        return LinkOutcome.READY, user
    return LinkOutcome.INVALID, None


def follow_activation_link(uidb64: str, token: str) -> tuple[LinkOutcome, User | None]:
    """Activate a never-activated account whose link this is, while it is good.

    The account comes back only when it was activated now.
    """
    outcome, user = read_activation_link(uidb64, token)
    if outcome != LinkOutcome.READY:
        return outcome, None
    if user is not None and activate_account(user):
        return LinkOutcome.ACTIVATED, user
    return LinkOutcome.INVALID, None


def user_from_activation_link(uidb64: str, token: str) -> User | None:
    """The never-activated user whose link this is, while the token is good."""
    user = user_from_uidb64(uidb64)
    return user if user is not None and can_activate(user, token) else None


def can_activate(user: User, token: str) -> bool:
    """Never activated, and the token is this account's and still good."""
    return not user.was_activated and account_activation_token.check_token(user, token)


def is_genuine(user: User, token: str) -> bool:
    """A link made for this account: before its activation (old) or since (new)."""
    tokens = account_activation_token
    return tokens.was_issued_before_activation(user, token) or tokens.check_token(
        user, token
    )


def activate_account(user: User) -> bool:
    """First activation: active, activated now, an Employee. False if done before.

    The conditional update lets only one of two racing clicks on a link win, and
    never touches an account that was activated once (an Admin's deactivation
    stands).
    """
    now = timezone.now()
    with transaction.atomic():
        updated = User._default_manager.filter(
            pk=user.pk, is_active=False, activated_at__isnull=True
        ).update(is_active=True, activated_at=now)
        if updated != 1:
            return False
        employees, _ = Group.objects.get_or_create(name=Role.EMPLOYEE)
        user.groups.add(employees)
    user.is_active, user.activated_at = True, now
    return True


def delete_unactivated_accounts(joined_before: datetime, batch: int = 500) -> int:
    """Delete the accounts never activated that signed up before `joined_before`,
    so that an address someone else signed up with is free for its owner again.

    Never an account activated once: an Admin's deactivation keeps the account.
    In batches, each a short transaction; one activated meanwhile is left alone.
    """
    never_activated = User._default_manager.filter(
        is_active=False, activated_at__isnull=True, date_joined__lt=joined_before
    )
    deleted = 0
    while ids := list(never_activated.values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            _, per_model = never_activated.filter(pk__in=ids).delete()
        deleted += per_model.get(User._meta.label, 0)
    return deleted


def reactivate_account(user: User) -> bool:
    """An Admin switches a deactivated account back on; its roles stay as they were."""
    updated = User._default_manager.filter(
        pk=user.pk, is_active=False, activated_at__isnull=False
    ).update(is_active=True)
    user.is_active = user.is_active or updated == 1
    return updated == 1


def email_taken(email: str, by_other_than: User | None = None) -> bool:
    """Whether an account (other than this one) has the address, in any case."""
    accounts = User._default_manager.filter(email__iexact=email)
    if by_other_than is not None:
        accounts = accounts.exclude(pk=by_other_than.pk)
    return accounts.exists()


def request_email_change(user: User, new_email: str) -> None:
    """Wait for `new_email` to be confirmed; the worker emails both addresses.

    The new address gets a link that confirms the change, the current one is
    told a change was asked for. A newer request replaces an older one, whose
    link stops working.
    """
    with transaction.atomic():
        user.pending_email = new_email
        user.save(update_fields=["pending_email"])
        email_change_requested.send(sender=User, user=user)


def cancel_email_change(user: User) -> bool:
    """Forget the waiting address; its link stops working. False if none waited."""
    cancelled = User._default_manager.filter(pk=user.pk).exclude(pending_email="")
    changed = cancelled.update(pending_email="") == 1
    user.pending_email = ""
    return changed


def user_from_email_change_link(uidb64: str, token: str) -> User | None:
    """The active account whose waiting address this link confirms, while good."""
    user = user_from_uidb64(uidb64)
    if user is None or not user.is_active or not user.pending_email:
        return None
    return user if email_change_token_generator.check_token(user, token) else None


def confirm_email_change(user: User) -> EmailChangeOutcome:
    """Move the account to its waiting address, once; the address it leaves is
    then told, with a link that takes the account back (email_changed).

    The conditional update lets one of two racing confirmations win; an address
    another account took in the meantime is given up.
    """
    old_email, new_email = user.email, user.pending_email
    waiting = User._default_manager.filter(
        pk=user.pk, email=old_email, pending_email=new_email
    )
    if email_taken(new_email, by_other_than=user):
        waiting.update(pending_email="")
        return EmailChangeOutcome.TAKEN
    try:
        with transaction.atomic():
            if waiting.update(email=new_email, pending_email="") != 1:
                return EmailChangeOutcome.INVALID
            user.email, user.pending_email = new_email, ""
            change = AddressChange.objects.create(
                user=user, old_email=old_email, new_email=new_email
            )
            email_changed.send(sender=User, user=user, change=change)
    except IntegrityError:  # taken between the check and the update
        user.email, user.pending_email = old_email, new_email
        return EmailChangeOutcome.TAKEN
    return EmailChangeOutcome.CHANGED


def change_from_restore_link(token: str) -> AddressChange | None:
    """The change a restore link undoes, while the link is genuine, young enough
    and unspent, and its account active."""
    named = read_address_restore_token(token)
    if named is None:
        return None
    change_id, user_id = named
    change = (
        AddressChange.objects.select_related("user")
        .filter(pk=change_id, user_id=user_id, spent_at__isnull=True)
        .first()
    )
    return change if change is not None and change.user.is_active else None


def restore_address(change: AddressChange) -> RestoreOutcome:
    """Give the account back the address `change` left, once.

    Whoever moved the account may have its password: the password is voided
    (unusable), which signs every session out, and a waiting change is
    forgotten. The restore links of this change and of every later one are
    spent, so the address it was moved to cannot move it again.
    """
    try:
        with transaction.atomic():
            user = User._default_manager.select_for_update().get(pk=change.user_id)
            since = AddressChange.objects.filter(
                user=user, pk__gte=change.pk, spent_at__isnull=True
            )
            if not since.filter(pk=change.pk).exists():  # restored meanwhile
                return RestoreOutcome.INVALID
            if email_taken(change.old_email, by_other_than=user):
                return RestoreOutcome.TAKEN
            since.update(spent_at=timezone.now())
            user.email, user.pending_email = change.old_email, ""
            user.set_unusable_password()
            user.save(update_fields=["email", "pending_email", "password"])
    except IntegrityError:  # taken between the check and the update
        return RestoreOutcome.TAKEN
    change.user = user
    return RestoreOutcome.RESTORED


# The team -------------------------------------------------------------------------


class TeamRefusal(Exception):
    """A change to the team that would leave it without an Admin, or an Admin
    switching themselves off: the message says why, for the team page."""


def assignable_people() -> QuerySet[User]:
    """Who may be assigned a task, mentioned or added as a watcher: active, and
    approved by an Admin (someone who signed up themselves waits for that)."""
    return User._default_manager.filter(
        is_active=True, approved_at__isnull=False
    ).order_by("first_name", "last_name", "username")


def waiting_for_approval() -> QuerySet[User]:
    """Active people who signed up themselves and are not approved yet."""
    return User._default_manager.filter(
        is_active=True, approved_at__isnull=True
    ).order_by("date_joined", "pk")


def approve_account(user: User) -> bool:
    """An Admin lets someone who signed up be assigned; False if done before."""
    now = timezone.now()
    updated = User._default_manager.filter(pk=user.pk, approved_at__isnull=True)
    approved = updated.update(approved_at=now) == 1
    if approved:
        user.approved_at = now
    return approved


def active_admins() -> QuerySet[User]:
    admins = Q(is_superuser=True) | Q(groups__name=Role.ADMIN)
    return User._default_manager.filter(admins, is_active=True).distinct()


def is_last_admin(user: User) -> bool:
    """Whether no other active Admin is left. Called inside a transaction, it
    locks the Admins' rows, so two Admins removing each other at once cannot
    both pass."""
    admins = User._default_manager.filter(pk__in=active_admins().values("pk"))
    others = admins.exclude(pk=user.pk).select_for_update()
    return not list(others.values_list("pk", flat=True))


def set_role(user: User, role: str) -> None:
    """Give this person exactly one role. A superuser stays an Admin whatever
    their groups say (Django's flag, changed only in the admin)."""
    if role not in Role.values:
        raise TeamRefusal("Choose Admin, Manager or Employee.")
    with transaction.atomic():
        if role != Role.ADMIN and user.is_admin and is_last_admin(user):
            raise TeamRefusal(
                f"{user} is the only Admin: make someone else Admin first."
            )
        roles = Group.objects.filter(name__in=Role.values)
        user.groups.remove(*roles)
        user.groups.add(Group.objects.get_or_create(name=role)[0])


def deactivate_account(user: User, *, by: User) -> bool:
    """Switch an activated account off: it can no longer sign in, and no
    activation link switches it back on (only reactivate_account does)."""
    if user.pk == by.pk:
        raise TeamRefusal("You cannot deactivate your own account.")
    with transaction.atomic():
        if user.is_admin and is_last_admin(user):
            raise TeamRefusal(
                f"{user} is the only Admin: make someone else Admin first."
            )
        updated = User._default_manager.filter(
            pk=user.pk, is_active=True, activated_at__isnull=False
        ).update(is_active=False)
    user.is_active = user.is_active and updated != 1
    return updated == 1


# Invitations ------------------------------------------------------------------


class InvitationOutcome(models.TextChoices):
    """What accepting an invitation did."""

    ACCEPTED = "accepted"
    TAKEN = "taken"  # an account has the address by now
    INVALID = "invalid"  # accepted, revoked or sent again in the meantime


def pending_invitations() -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def invite(
    email: str, role: str, *, by: User, first_name: str = "", last_name: str = ""
) -> Invitation:
    """Record the invitation; the worker emails its link (invitation_sent)."""
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            role=role,
            first_name=first_name,
            last_name=last_name,
            invited_by=by,
        )
        invitation_sent.send(sender=User, user=by, invitation=invitation)
    return invitation


def send_invitation_again(invitation: Invitation, *, by: User) -> bool:
    """A new link, valid from now; the one sent before stops working."""
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        pending = pending_invitations().filter(pk=invitation.pk)
        if pending.update(sent_at=now) != 1:
            return False
        invitation.sent_at = now
        invitation_sent.send(sender=User, user=by, invitation=invitation)
    return True


def revoke_invitation(invitation: Invitation) -> bool:
    """Its link stops working; False when it was accepted or revoked before."""
    now = timezone.now()
    revoked = pending_invitations().filter(pk=invitation.pk).update(revoked_at=now)
    return revoked == 1


def invitation_stamp(invitation: Invitation) -> int:
    """When the invitation was last sent, as its link carries it."""
    return int(invitation.sent_at.timestamp())


def invitation_from_link(token: str) -> Invitation | None:
    """The pending invitation a link names, while the link is genuine, young
    enough and the latest sent; None for anything else."""
    named = read_invitation_token(token)
    if named is None:
        return None
    invitation_id, stamp = named
    invitation = pending_invitations().filter(pk=invitation_id).first()
    if invitation is None or invitation_stamp(invitation) != stamp:
        return None
    if not still_standing(invitation):
        return None
    return invitation


def still_standing(invitation: Invitation) -> bool:
    """An invitation lasts PASSWORD_RESET_TIMEOUT from when it was sent (not
    from when the worker wrote its link), and only while the Admin who sent
    it still has an active account."""
    lasts = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    young = timezone.now() - invitation.sent_at <= lasts
    inviter = invitation.invited_by
    return young and (inviter is None or inviter.is_active)


def accept_invitation(invitation: Invitation, account: User) -> InvitationOutcome:
    """Create the invited person's account (unsaved `account`, its password set),
    active, approved, with the role the invitation gives; once.

    The row lock lets one of two racing acceptances win.
    """
    try:
        with transaction.atomic():
            locked = Invitation.objects.select_for_update().filter(
                pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
            )
            if not list(locked):
                return InvitationOutcome.INVALID
            if email_taken(invitation.email):
                return InvitationOutcome.TAKEN
            account.email, account.is_active = invitation.email, True
            account.save()  # active from the start: activated and approved now
            account.groups.add(Group.objects.get_or_create(name=invitation.role)[0])
            locked.update(accepted_at=timezone.now(), account=account)
    except IntegrityError:  # the address or username was taken meanwhile
        return InvitationOutcome.TAKEN
    return InvitationOutcome.ACCEPTED
