"""django-anymail pointed at the suite's stand-in for an ESP's API."""

from __future__ import annotations

from devtools.esp import PostmarkAPI
from devtools.smtp import SMTPServer

# What the worker code sends to in the tests that must pass over both ways out.
MailServer = SMTPServer | PostmarkAPI


def esp_settings(api: PostmarkAPI, timeout: float = 2) -> dict[str, object]:
    """django-anymail's settings for the Postmark stand-in, as project.settings
    builds them from ESP_API_KEY and ESP_API_URL."""
    return {
        "POSTMARK_SERVER_TOKEN": api.token,
        "POSTMARK_API_URL": api.url,
        "REQUESTS_TIMEOUT": timeout,
    }
