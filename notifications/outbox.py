"""Recording deliveries: the only way anything asks for an email.

Called by the receivers in notifications/signals.py and by the users app's forms
and views. Records rows in the caller's transaction and dispatches on commit; it
renders nothing, sends nothing and makes no token.
"""

from __future__ import annotations

from users.models import User


def record_activation_email(user: User, *, resend: bool = False) -> bool:
    """Record an activation email for an inactive user.

    Returns False (and records nothing) when the user is already active or an
    activation email was recorded for them within the resend window.
    """
    raise NotImplementedError("implemented with the notification pipeline (issue 5)")


def record_password_reset_email(user: User) -> bool:
    """Record a password-reset email; False when one was recorded very recently."""
    raise NotImplementedError("implemented with the notification pipeline (issue 5)")
