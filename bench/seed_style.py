"""The comparison row: the seed's synchronous send_mail inside the request.

A WSGI entry point for gunicorn (`bench.seed_style:application`) that serves the
product with its notification receivers disconnected (bench/quiet.py) and
connects, for this process only, the
receivers the seed had: send_mail to each new assignee from m2m_changed and the
activation email from post_save, each send_mail opening its own SMTP connection
inside the request. Bench-only: the product never imports this module.
"""

from __future__ import annotations

from typing import Any

from django.core.mail import send_mail
from django.db.models.signals import m2m_changed, post_save

from bench.quiet import application
from notifications.links import absolute_url
from tasks.models import Task
from users.models import User
from users.tokens import activation_token, encode_uid

__all__ = ["application"]


def send_assignment_emails(
    sender: type, instance: Task, action: str, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action != "post_add" or not pk_set or not isinstance(instance, Task):
        return
    for user in User.objects.filter(pk__in=pk_set):
        send_mail(
            f"New Task Assigned: {instance.title}",
            f"Hi {user.get_full_name()},\n\nYou were assigned “{instance.title}” "
            f"({instance.project}), due {instance.due_date}.\n",
            None,
            [user.email],
        )


def send_activation_email(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    if created and not instance.is_active:
        send_mail(
            "Activate your account",
            f"Hi {instance.first_name},\n\nActivate: {activation_link(instance)}\n",
            None,
            [instance.email],
        )


def activation_link(user: User) -> str:
    token = activation_token(user)
    return absolute_url("users:activate", uidb64=encode_uid(user), token=token)


m2m_changed.connect(
    send_assignment_emails,
    sender=Task.assigned_to.through,
    dispatch_uid="bench.seed_style.assignment",
)
post_save.connect(
    send_activation_email, sender=User, dispatch_uid="bench.seed_style.activation"
)
