from __future__ import annotations

from django.contrib.auth.models import Group


def test_role_groups_exist_after_migrations(db: None) -> None:
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Admin", "Manager", "Employee"} <= names
