"""Muting one task: no more email about it for one person, except when someone
mentions them (GitLab lets mentions through a muted thread too: a mention is
somebody asking for you by name). The app still shows everything.

Every email about a task links to /notifications/mute/<token>/. The token is
signed and names one person and one task: it cannot be forged, nor turned to
another person or task, and needs no sign-in (the link is opened from a mail
app). Opening it (GET, HEAD: what link scanners and mail previews do) shows a
page and changes nothing; its button (POST) mutes. The task's page mutes and
unmutes for the person signed in.

The worker skips an email about a muted task when it takes it
(notifications/wishes.py), so a mute counts for emails already recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core import signing

from notifications.models import TaskMute
from tasks.models import Task
from users.models import User

SIGNER = signing.Signer(salt="notifications.mute")


def mute_token(user_id: int, task_id: int) -> str:
    """Signed, never expiring: an old email's link still mutes."""
    return SIGNER.sign_object([user_id, task_id])


def read_mute_token(token: str) -> tuple[int, int] | None:
    """(user id, task id) from a genuine token, None for anything else."""
    try:
        user_id, task_id = SIGNER.unsign_object(token)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not (isinstance(user_id, int) and isinstance(task_id, int)):
        return None
    return user_id, task_id


def mute(user_id: int, task_id: int) -> bool:
    """Mute the task for this person; False when it was muted already, or the
    task or the account is gone (an old link still answers)."""
    gone = not Task.objects.filter(pk=task_id).exists()
    if gone or not User._default_manager.filter(pk=user_id).exists():
        return False
    _, created = TaskMute.objects.get_or_create(user_id=user_id, task_id=task_id)
    return created


def unmute(user_id: int, task_id: int) -> bool:
    deleted, _ = TaskMute.objects.filter(user_id=user_id, task_id=task_id).delete()
    return deleted > 0


def is_muted(user_id: int, task_id: int) -> bool:
    return TaskMute.objects.filter(user_id=user_id, task_id=task_id).exists()


def muted(user_ids: Iterable[int], task_ids: Iterable[int]) -> set[tuple[int, int]]:
    """The (user id, task id) pairs among these that are muted, in one query."""
    user_ids, task_ids = set(user_ids), set(task_ids)
    if not user_ids or not task_ids:
        return set()
    rows = TaskMute.objects.filter(user_id__in=user_ids, task_id__in=task_ids)
    return set(rows.values_list("user_id", "task_id"))
