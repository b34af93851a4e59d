"""What the product does when it hears that an email bounced or was marked spam.

Plain functions, called for a bounce or complaint report taken at an inbound
door (notifications/inbound.py) and for an ESP's tracking events alike. Each is
idempotent: the same report heard twice, through one door or two, changes
nothing the second time.

- A bounce moves its delivery from "sent" to "bounced" with the reason. A hard
  bounce (5.x.x) suppresses the address at once; soft ones (4.x.x) once
  INBOUND_SOFT_BOUNCE_LIMIT came within INBOUND_SOFT_BOUNCE_DAYS. Out-of-office
  replies are never bounces: the inbound door ignores them before this.
- A complaint turns off every notification email of that person (the worker
  skips them, notifications/sending.py) until they turn them back on in their
  email settings, which say why. Account emails still go.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.kinds import TO_SOMEONE_ELSE
from notifications.models import Bounce, Complaint, Delivery, Suppression
from users.models import User

logger = logging.getLogger(__name__)

HARD = Bounce.Kind.HARD
SOFT = Bounce.Kind.SOFT


@transaction.atomic
def record_bounce(delivery: Delivery, kind: str, reason: str, at: datetime) -> bool:
    """sent -> bounced, and the address suppressed when the bounce calls for it.

    False, changing nothing, when the delivery is not (or no longer) "sent":
    this bounce was heard before, or the email never went out.
    """
    if kind not in Bounce.Kind.values:
        raise ValueError(f"a bounce is hard or soft, not {kind!r}")
    reason = reason.strip()[:500] or "no reason given"
    if not delivery.bounce(f"{kind} bounce: {reason}", at):
        return False
    address = delivery.address.lower()
    Bounce.objects.create(
        delivery=delivery, address=address, kind=kind, reason=reason, bounced_at=at
    )
    logger.info("Delivery %s bounced (%s): %s", delivery.pk, kind, reason)
    if kind == HARD:
        Suppression.objects.add(address, f"hard bounce: {reason}", delivery)
    elif soft_bounces(address, at) >= settings.INBOUND_SOFT_BOUNCE_LIMIT:
        days = settings.INBOUND_SOFT_BOUNCE_DAYS
        count = settings.INBOUND_SOFT_BOUNCE_LIMIT
        why = f"{count} soft bounces within {days} days, the last: {reason}"
        Suppression.objects.add(address, why, delivery)
    return True


def soft_bounces(address: str, at: datetime) -> int:
    since = at - timedelta(days=settings.INBOUND_SOFT_BOUNCE_DAYS)
    return Bounce.objects.filter(
        address=address, kind=SOFT, bounced_at__gt=since, bounced_at__lte=at
    ).count()


def record_complaint(
    about: User | Delivery, source: str, at: datetime | None = None
) -> bool:
    """Someone marked our email as spam: their notification emails stop.

    `about` is the delivery complained of when the report names it, else the
    person. False when this was heard before: the same delivery's complaint,
    or, for a person alone, a complaint of theirs still standing.
    """
    delivery = about if isinstance(about, Delivery) else None
    if delivery is not None and delivery.kind in TO_SOMEONE_ELSE:
        return complaint_of_an_outsider(delivery, source)
    user_id = delivery.recipient_id if delivery is not None else about.pk
    at = at or timezone.now()
    standing = Complaint.objects.standing().filter(user_id=user_id)
    if delivery is None and standing.exists():
        return False
    try:
        with transaction.atomic():
            Complaint.objects.create(
                user_id=user_id, delivery=delivery, source=source[:60], reported_at=at
            )
    except IntegrityError:  # this delivery's complaint was recorded before
        return False
    logger.info("Complaint (%s): notification emails of %s turned off", source, user_id)
    return True


def complaint_of_an_outsider(delivery: Delivery, source: str) -> bool:
    """The person at that address marked it as spam: nothing more goes to the
    address, and nothing changes for the row's owner."""
    already = Suppression.objects.filter(address__iexact=delivery.address).exists()
    Suppression.objects.add(delivery.address, f"complaint ({source[:60]})", delivery)
    logger.info(
        "Complaint (%s) about delivery %s: address suppressed", source, delivery.pk
    )
    return not already


def turn_emails_back_on(user: User) -> int:
    """The person wants their notification emails again."""
    return Complaint.objects.lift(user.pk)
