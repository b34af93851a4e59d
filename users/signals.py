"""What the users app announces. notifications/ listens and records the emails.

Sign-up needs no signal of its own: a new inactive account is a post_save of
User. Each is sent with sender=User and user=<the account>.
"""

from __future__ import annotations

from django.dispatch import Signal

# Someone asked for a new activation link for this never-activated account.
activation_requested = Signal()
# Someone asked to reset this account's password.
password_reset_requested = Signal()
# The account holder asked to move to the address now in user.pending_email: the
# new address is sent a link to confirm, the current one is told.
email_change_requested = Signal()
# The account moved to its new address, confirmed from there (change=<the
# users.models.AddressChange>): the address it left is told, with a link that
# takes the account back.
email_changed = Signal()
# An Admin invited someone, or sent their invitation again (invitation=<the
# users.models.Invitation>; user=<the Admin>): its address is sent the link.
invitation_sent = Signal()
