"""The team in the app: invitations, and approval before a self sign-up can be
assigned. Every account activated so far was on the team already: approved
when it was activated, so nobody disappears from an "Assign to" list."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def approve_activated_accounts(apps, schema_editor) -> None:
    User = apps.get_model("users", "User")
    User.objects.filter(activated_at__isnull=False, approved_at__isnull=True).update(
        approved_at=F("activated_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0007_address_change'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='approved_at',
            field=models.DateTimeField(blank=True, help_text='When an Admin approved the account; empty until then.', null=True, verbose_name='approved at'),
        ),
        migrations.CreateModel(
            name='Invitation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(max_length=254, verbose_name='email address')),
                ('first_name', models.CharField(blank=True, max_length=150, verbose_name='first name')),
                ('last_name', models.CharField(blank=True, max_length=150, verbose_name='last name')),
                ('role', models.CharField(choices=[('Admin', 'Admin'), ('Manager', 'Manager'), ('Employee', 'Employee')], default='Employee', max_length=20)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='invited at')),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='last sent at')),
                ('accepted_at', models.DateTimeField(blank=True, null=True, verbose_name='accepted at')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('account', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='invitation', to=settings.AUTH_USER_MODEL)),
                ('invited_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='invitations_sent', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.RunPython(approve_activated_accounts, migrations.RunPython.noop),
    ]
