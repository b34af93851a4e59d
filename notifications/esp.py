"""Sending through a Django email backend other than SMTP: an ESP's HTTP API
through django-anymail (Amazon SES, Postmark, Mailgun, SendGrid, Brevo, ...), or
development's console and the tests' locmem backend.

The batch run uses it as it uses the SMTP client (notifications/relays.py): one
message at a time, the backend opened once and kept for the process (anymail
keeps its HTTP session, so its connections, open between batches), and every
refusal raised, for the rules in notifications/smtp.py to read.
"""

from __future__ import annotations

from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import AnymailRecipientsRefused
from django.core.mail import EmailMessage, get_connection

from notifications.smtp import Accepted, TransportError

# Recipient statuses (anymail_status) of an address the ESP will not send to.
REFUSED = frozenset({"invalid", "rejected"})


class BackendTransport:
    """EMAIL_BACKEND, whatever it is, behind the SMTP client's interface."""

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self.opened = False

    def begin_batch(self) -> None:
        """Nothing to check: an HTTP session redials by itself."""

    def send(self, message: EmailMessage) -> Accepted:
        if not self.opened:
            self.backend.open()  # kept open: send_messages then leaves it so
            self.opened = True
        if not self.backend.send_messages([message]):
            raise TransportError(
                f"{type(self.backend).__module__} sent nothing (a pre_send "
                "receiver cancelled it, or the message has no recipient)",
                permanent=True,
            )
        if isinstance(self.backend, AnymailBaseBackend):
            return accepted_by_esp(self.backend, message)
        return Accepted(f"accepted by {type(self.backend).__module__}")

    def close(self) -> None:
        self.backend.close()
        self.opened = False


def accepted_by_esp(backend: AnymailBaseBackend, message: EmailMessage) -> Accepted:
    """The ESP's status and message id (its webhooks name the message by it).

    Anymail raises AnymailRecipientsRefused itself unless IGNORE_RECIPIENT_STATUS
    is set; an address the ESP refuses is refused here either way.
    """
    status = message.anymail_status  # type: ignore[attr-defined]
    if status.status and status.status <= REFUSED:
        raise AnymailRecipientsRefused(email_message=message, backend=backend)
    message_id = "" if status.message_id is None else str(status.message_id)
    said = ", ".join(sorted(status.status or {"unknown"}))
    return Accepted(f"{backend.esp_name}: {said} {message_id}".strip(), message_id)
