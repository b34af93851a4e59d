"""Settings helpers for the ways out beyond one SMTP relay: django-anymail's
settings for the ESP that EMAIL_BACKEND names, and EMAIL_DOMAIN_RATE_LIMITS."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

ANYMAIL_BACKENDS = "anymail.backends."
# What each ESP calls its API key and its webhooks' signing key in anymail's
# settings, where it is not API_KEY and none (basic auth alone).
KEY_NAMES = {
    "postmark": "SERVER_TOKEN",
    "mailtrap": "API_TOKEN",
    "scaleway": "SECRET_KEY",
}
SIGNING_KEY_NAMES = {
    "mailgun": "WEBHOOK_SIGNING_KEY",
    "resend": "SIGNING_SECRET",
    "mailersend": "SIGNING_SECRET",
    "postal": "WEBHOOK_KEY",
}


def esp_of(backend: str) -> str:
    """anymail.backends.postmark.EmailBackend -> "postmark"; "" for others."""
    if not backend.startswith(ANYMAIL_BACKENDS):
        return ""
    return backend.removeprefix(ANYMAIL_BACKENDS).partition(".")[0]


def anymail_settings(
    backend: str,
    *,
    api_key: str,
    api_url: str,
    webhook_secret: str,
    webhook_signing_key: str,
    timeout: float,
) -> dict[str, object]:
    """The ANYMAIL setting, under the names anymail gives them for this ESP
    (its settings are named <ESP>_<NAME>: POSTMARK_SERVER_TOKEN, ...)."""
    esp = esp_of(backend)
    prefix = esp.upper()
    found: dict[str, object] = {"REQUESTS_TIMEOUT": timeout}
    if webhook_secret:
        found["WEBHOOK_SECRET"] = webhook_secret
    if not esp:
        return found
    named = {
        KEY_NAMES.get(esp, "API_KEY"): api_key,
        "API_URL": api_url,
        SIGNING_KEY_NAMES.get(esp, "WEBHOOK_SIGNING_KEY"): webhook_signing_key,
    }
    found |= {f"{prefix}_{name}": value for name, value in named.items() if value}
    return found


def parse_domain_rates(value: str) -> dict[str, float]:
    """ "outlook.com=5, gmail.com=20" -> {"outlook.com": 5.0, "gmail.com": 20.0}."""
    rates: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        domain, _, rate = (part.strip() for part in item.partition("="))
        rates[domain.lower()] = _positive(rate) if domain else 0.0
        if not rates[domain.lower()]:
            raise ImproperlyConfigured(
                f"EMAIL_DOMAIN_RATE_LIMITS: {item!r} is not domain=messages per "
                "second, as in outlook.com=5,gmail.com=20."
            )
    return rates


def _positive(number: str) -> float:
    """The number, or 0.0 when it is not a positive one."""
    try:
        return max(float(number), 0.0)
    except ValueError:
        return 0.0
