"""What the product does when it hears that an email bounced or was marked spam,
from an ESP's tracking webhook (notifications/tracking.py).

A minimal version, with the signatures of issue 23's (the inbound reports:
DSNs and ARF complaints), which supersedes it on merge:
- a bounce moves its delivery from "sent" to "bounced" with the reason, once; a
  hard one (5.x.x, or none said) suppresses the address;
- a complaint turns off every notification email of that person (their email
  settings then show each kind off); account emails still go.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from notifications.kinds import PREFERENCE_KINDS
from notifications.models import Delivery, Suppression
from notifications.preferences import Mode, modes_of, set_modes
from users.models import User

logger = logging.getLogger(__name__)

HARD, SOFT = "hard", "soft"


def record_bounce(delivery: Delivery, kind: str, reason: str, at: datetime) -> bool:
    """sent -> bounced, and the address suppressed for a hard bounce. False,
    changing nothing, when the delivery is not (or no longer) "sent"."""
    if kind not in (HARD, SOFT):
        raise ValueError(f"a bounce is hard or soft, not {kind!r}")
    reason = reason.strip()[:500] or "no reason given"
    if not delivery.bounce(f"{kind} bounce: {reason}", at):
        return False
    logger.info("Delivery %s bounced (%s): %s", delivery.pk, kind, reason)
    if kind == HARD:
        Suppression.objects.add(delivery.address, f"hard bounce: {reason}", delivery)
    return True


def record_complaint(
    about: User | Delivery, source: str, at: datetime | None = None
) -> bool:
    """Someone marked our email as spam: their notification emails stop. False,
    changing nothing, when they were all off already."""
    user = about.recipient if isinstance(about, Delivery) else about
    if all(mode == Mode.OFF for mode in modes_of(user).values()):
        return False
    set_modes(user, dict.fromkeys(PREFERENCE_KINDS, Mode.OFF))
    when = at or timezone.now()
    logger.info(
        "Complaint (%s) at %s: notification emails of %s turned off",
        source,
        when,
        user.pk,
    )
    return True
