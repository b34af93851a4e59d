"""What the tests check at the SMTP server, and the login its TLS variants take."""

from __future__ import annotations

from devtools.smtp import Received, SMTPServer
from notifications.models import Delivery
from tests.support.waiting import wait_until

LOGIN = ("mailer", "app-password-for-tests")  # what the servers of these tests take
UNFINISHED = (Delivery.Status.QUEUED, Delivery.Status.SENDING)


def outbox_settled() -> bool:
    """No delivery is queued or being sent. Only a claim sends, and it takes only
    queued rows: until someone asks again (a resend, a digest), no worker sends
    anything more, so a duplicate would have arrived by now."""
    return not Delivery.objects.filter(status__in=UNFINISHED).exists()


def arrived(smtp: SMTPServer, count: int, timeout: float = 30) -> list[Received]:
    """Exactly `count` messages: wait for them, then until the outbox has settled,
    and check that no more came."""
    smtp.wait_for(count, timeout=timeout)
    wait_until(outbox_settled, timeout, "every delivery sent or given up")
    assert len(smtp.received) == count, [m.subject for m in smtp.received]
    return list(smtp.received)
