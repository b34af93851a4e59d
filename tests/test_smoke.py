from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client


def test_role_groups_exist_after_migrations(db: None) -> None:
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Admin", "Manager", "Employee"} <= names


@pytest.mark.django_db
def test_no_template_comment_shows_on_a_page(client: Client) -> None:
    """Django's {# #} comments hold one line; a longer one is printed."""
    page = client.get("/users/sign-in/").content.decode()
    assert "{#" not in page and "#}" not in page
