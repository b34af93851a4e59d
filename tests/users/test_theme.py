"""Appearance: light, dark or the system's, chosen on the profile and kept on
the account, so every page (and every device) shows it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import fresh
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("theme", "html_class", "scheme"),
    [("dark", " dark", "dark"), ("light", " light", "light"), ("", "", "light dark")],
)
def test_the_chosen_appearance_is_kept_and_marks_every_page(
    client: Client, employee: User, theme: str, html_class: str, scheme: str
) -> None:
    client.force_login(employee)
    response = client.post("/users/profile/theme/", {"theme": theme}, follow=True)
    assert fresh(employee).theme == theme
    page = client.get("/").content.decode()
    html = re.search(r'<html [^>]*class="([^"]*)"', page)
    assert html is not None
    assert {"light", "dark"} & set(html.group(1).split()) == set(html_class.split())
    assert f'<meta name="color-scheme" content="{scheme}">' in page
    assert "Appearance:" in response.content.decode()


def test_an_unknown_appearance_changes_nothing(client: Client, employee: User) -> None:
    client.force_login(employee)
    client.post("/users/profile/theme/", {"theme": "neon"})
    assert fresh(employee).theme == ""
