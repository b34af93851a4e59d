"""Marks the accounts that were activated before activated_at existed.

Active accounts were activated. So were inactive ones that signed in once or were
given a role (activation makes an account an Employee): an Admin switched them off,
and they must not be able to activate themselves again. The real time was never
recorded, so the migration's time stands in for it.
"""

from __future__ import annotations

from django.db import migrations
from django.db.models import Q
from django.utils import timezone


def mark_activated_accounts(apps, schema_editor) -> None:
    User = apps.get_model("users", "User")
    once_activated = Q(is_active=True) | Q(last_login__isnull=False) | Q(
        groups__isnull=False
    )
    ids = User.objects.filter(once_activated).values_list("pk", flat=True).distinct()
    User.objects.filter(pk__in=list(ids), activated_at__isnull=True).update(
        activated_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("users", "0003_activated_at")]

    operations = [
        migrations.RunPython(mark_activated_accounts, migrations.RunPython.noop)
    ]
