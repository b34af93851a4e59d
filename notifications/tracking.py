"""What an ESP's tracking events mean for a delivery: delivered, bounced,
complained. django-anymail's views take the webhooks (notifications/views.py,
/notifications/webhooks/<esp>/), check their credentials and signatures, and
send its tracking signal; notifications/receivers.py hands each event here.

An event names the message by the ESP's own id, which the batch run recorded at
send (Delivery.provider_message_id). Bounces and complaints go to the same
functions as the inbound reports (notifications/feedback.py), so a report heard
both ways counts once. Events for messages the outbox did not send (a test
message, another application on the same ESP account) are ignored.
"""

from __future__ import annotations

import logging

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.utils import timezone

from notifications.feedback import HARD, SOFT, record_bounce, record_complaint
from notifications.models import Delivery
from notifications.smtp import ENHANCED_CODE

logger = logging.getLogger(__name__)

# The ESP refused to send it for reasons of the address: as good as a hard bounce.
UNDELIVERABLE = {RejectReason.INVALID, RejectReason.BOUNCED}


def record_event(event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Record what the event says on its delivery; False when nothing changed."""
    delivery = delivery_for(event)
    if delivery is None:
        logger.info("%s %s event for a message not ours", esp_name, event.event_type)
        return False
    at = event.timestamp or timezone.now()
    kind = event.event_type
    if kind == EventType.DELIVERED:
        return delivery.note_delivered(at)
    if kind == EventType.COMPLAINED:
        return record_complaint(delivery, f"{esp_name} complaint", at)
    if kind == EventType.BOUNCED:
        return record_bounce(delivery, bounce_kind(event), said(event, esp_name), at)
    if kind == EventType.REJECTED and event.reject_reason in UNDELIVERABLE:
        return record_bounce(delivery, HARD, said(event, esp_name), at)
    return False  # opened, clicked, deferred ...: nothing the outbox keeps


def delivery_for(event: AnymailTrackingEvent) -> Delivery | None:
    if event.message_id in (None, ""):
        return None
    found = Delivery.objects.select_related("recipient")
    return found.filter(provider_message_id=str(event.message_id)).first()


def bounce_kind(event: AnymailTrackingEvent) -> str:
    """Soft when the receiving server's reply says 4.x.x (for now), else hard."""
    code = ENHANCED_CODE.search(f"{event.mta_response or ''} {event.description or ''}")
    return SOFT if code and code.group(1) == "4" else HARD


def said(event: AnymailTrackingEvent, esp_name: str) -> str:
    """The receiving server's words, or the ESP's description of the event."""
    words = event.mta_response or event.description or str(event.reject_reason or "")
    return f"{esp_name}: {' '.join(str(words).split())}"
