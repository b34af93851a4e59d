"""The daily digest: one email per person per day, at the time they chose in
their time zone, listing every notification held for it since the last one.

A digest is a delivery like any other (recorded once, claimed, sent at least
once, swept when stuck). Recording it and bundling the held rows into it is one
transaction (Delivery.objects.record_digest), so an event held a moment later
waits for the next digest, and none is in two digests, or in none. A beat job
runs record_due_digests every few minutes; one that was missed (beat down at
the hour) is caught up on the next run.

Daylight-saving changes need nothing more: the hour is compared with the
reader's wall clock, so an hour a change skips is taken at the next that exists
(the first run after the jump), and an hour that comes twice sends once (one
digest per person and day, by its unique key). Nobody gets an empty digest: no
row is recorded when nothing is held (and one whose items were all read in the
app since is skipped). A digest lists at most 50 items (contexts.DIGEST_LIMIT)
and says how many more.
"""

from __future__ import annotations

from datetime import datetime, time

from notifications.models import Delivery, DigestSchedule
from users.models import User

DEFAULT_TIME = time(8, 0)


def record_due_digests(now: datetime) -> list[int]:
    """Record the digests due at `now`; return their ids, to publish."""
    waiting = Delivery.objects.held().values("recipient_id")
    people = User.objects.filter(pk__in=waiting)
    schedules = dict(
        DigestSchedule.objects.filter(user__in=people).values_list("user_id", "send_at")
    )
    ids = []
    for person in people:
        local = now.astimezone(person.zone)
        if local.time() >= schedules.get(person.pk, DEFAULT_TIME):
            digest = Delivery.objects.record_digest(person.pk, local.date())
            if digest is not None:
                ids.append(digest.pk)
    return ids
