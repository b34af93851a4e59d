"""What each person wants emailed, and the signed links that change it.

Every kind of notification is sent right away, gathered in a daily digest, or
not at all, as its recipient chose; account emails (activation, password reset)
are always sent. The worker applies the choice when it takes a delivery, so a
choice made after an event still counts for it.

Unsubscribe links (RFC 8058) carry a signed token naming one person and one kind:
it cannot be forged, nor turned to another person or kind, and it needs no
sign-in, as a mail client's one-click POST has none.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core import signing

from notifications.kinds import PREFERENCE_KINDS
from notifications.models import Delivery, DigestSchedule, Preference
from users.models import User

Mode = Preference.Mode
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
DIGEST = Delivery.Kind.DIGEST  # a digest's link turns off every kind it gathers


def modes_for(deliveries: Iterable[Delivery]) -> dict[tuple[int, str], str]:
    """(recipient id, kind) -> mode for these deliveries, in one query. Missing
    pairs are IMMEDIATE."""
    rows = list(deliveries)
    users = {row.recipient_id for row in rows}
    kinds = {row.kind for row in rows if row.kind in PREFERENCE_KINDS}
    if not users or not kinds:
        return {}
    chosen = Preference.objects.filter(user_id__in=users, kind__in=kinds)
    return {(p.user_id, p.kind): p.mode for p in chosen}


def modes_of(user: User) -> dict[str, str]:
    """Every preference kind -> this person's mode."""
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "mode"))
    return {kind: chosen.get(kind, Mode.IMMEDIATE) for kind in PREFERENCE_KINDS}


def set_modes(user: User, modes: dict[str, str]) -> None:
    for kind, mode in modes.items():
        Preference.objects.update_or_create(
            user=user, kind=kind, defaults={"mode": mode}
        )


def turn_off(user_id: int, kind: str) -> list[str]:
    """Unsubscribe: this kind off, or, for a digest, every kind it gathers.
    Returns the kinds turned off: none for an account deleted since the email
    (an old link still answers; nothing will be sent to it anyway)."""
    if not User._default_manager.filter(pk=user_id).exists():
        return []
    if kind == DIGEST:
        gathered = Preference.objects.filter(user_id=user_id, mode=Mode.DIGEST)
        kinds = list(gathered.values_list("kind", flat=True))
    else:
        kinds = [kind]
    for each in kinds:
        Preference.objects.update_or_create(
            user_id=user_id, kind=each, defaults={"mode": Mode.OFF}
        )
    return kinds


def digest_schedule(user: User) -> DigestSchedule:
    return DigestSchedule.objects.get_or_create(user=user)[0]


SIGNER = signing.Signer(salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind: str) -> str:
    """Signed, never expiring: an old email's link still unsubscribes."""
    return SIGNER.sign_object([user_id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) from a genuine token, None for anything else."""
    try:
        user_id, kind = SIGNER.unsign_object(token)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or kind not in (*PREFERENCE_KINDS, DIGEST):
        return None
    return user_id, kind
