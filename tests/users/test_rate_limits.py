"""Per-client rate limits on sign-up, activation resend and password reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from devtools.smtp import free_port
from tests.factories import UserFactory
from users.models import User

LIMIT = 3
LIMITED = "Too many requests from your network"
ONE, OTHER = "192.0.2.10", "192.0.2.20"


@pytest.fixture
def rate_limits(settings: object) -> Iterator[None]:
    """Limits on, LIMIT per hour, counters in the test's Redis starting at zero."""
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_SIGN_UP = f"{LIMIT}/h"
    settings.RATELIMIT_ACCOUNT_EMAILS = f"{LIMIT}/h"
    counters = caches["ratelimit"]
    counters.delete_pattern("*")
    yield
    counters.delete_pattern("*")


def sign_up(client: Client, index: int) -> object:
    name, password = f"newcomer{index}", "Str0ng#Pass"
    return client.post(reverse("users:sign-up"), {
        "username": name, "first_name": "New", "last_name": "Comer",
        "email": f"{name}@example.com", "password1": password, "password2": password,
    })  # fmt: skip


def post_email(client: Client, url_name: str) -> object:
    return client.post(reverse(url_name), {"email": "someone@example.com"})


@pytest.mark.django_db
@pytest.mark.usefixtures("rate_limits")
class TestRateLimits:
    def test_sign_up_past_the_limit_gets_a_page_saying_when_to_retry(self) -> None:
        client = Client(REMOTE_ADDR=ONE)
        answers = [sign_up(client, index).status_code for index in range(LIMIT + 1)]
        limited = sign_up(client, 99)
        assert answers[:LIMIT] == [302] * LIMIT
        assert limited.status_code == 429
        assert LIMITED in limited.text
        assert "try again within 1\xa0hour" in limited.text
        assert not User.objects.filter(username="newcomer99").exists()

    def test_the_limit_is_per_client_address(self) -> None:
        for index in range(LIMIT + 1):
            sign_up(Client(REMOTE_ADDR=ONE), index)
        assert sign_up(Client(REMOTE_ADDR=OTHER), 50).status_code == 302

    def test_looking_at_the_forms_is_never_limited(self) -> None:
        client = Client(REMOTE_ADDR=ONE)
        for index in range(LIMIT + 1):
            sign_up(client, index)
        assert client.get(reverse("users:sign-up")).status_code == 200

    @pytest.mark.parametrize(
        "url_name", ["users:activation-resend", "users:password-reset"]
    )
    def test_account_email_forms_are_limited(self, url_name: str) -> None:
        UserFactory(email="someone@example.com")
        client = Client(REMOTE_ADDR=ONE)
        answers = [post_email(client, url_name).status_code for _ in range(LIMIT)]
        limited = post_email(client, url_name)
        assert answers == [302] * LIMIT
        assert limited.status_code == 429
        assert LIMITED in limited.text

    def test_behind_a_proxy_the_address_it_saw_counts(self, settings: object) -> None:
        settings.BEHIND_PROXY = True
        proxy = "10.0.0.2"

        def through_proxy(claimed: str, seen: str, index: int) -> int:
            client = Client(
                REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"{claimed}, {seen}"
            )
            return sign_up(client, index).status_code

        # A client making up a new address each time is still one client.
        answers = [through_proxy(f"10.9.9.{i}", ONE, i) for i in range(LIMIT + 1)]
        assert answers[-1] == 429
        assert through_proxy("10.9.9.9", OTHER, 60) == 302

    def test_published_directly_a_forwarded_header_changes_nothing(self) -> None:
        answers = [
            sign_up(Client(REMOTE_ADDR=ONE, HTTP_X_FORWARDED_FOR=f"10.1.1.{i}"), i)
            for i in range(LIMIT + 1)
        ]
        assert answers[-1].status_code == 429


@pytest.mark.django_db
def test_with_redis_down_the_pages_keep_working(rate_limits: None) -> None:
    """The limits lapse rather than the pages (the counters are in Redis)."""
    closed_port = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1},
    }
    with override_settings(CACHES={"ratelimit": closed_port}):
        client = Client(REMOTE_ADDR=ONE)
        answers = [sign_up(client, index).status_code for index in range(LIMIT + 1)]
    assert answers == [302] * (LIMIT + 1)
