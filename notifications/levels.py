"""How much each person hears of each project: Watching (every task), Participating
(tasks they created, are assigned to, watch or were mentioned in: the default),
Mentions only, or Off; per project, over a default of their own.

Recording uses Watching to add people to an event's audience (audience.py);
the worker applies every level when it takes an email (wishes.py), so the
choice counts for emails recorded before it. Account emails are never affected.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Q

from notifications.models import NotificationLevel
from tasks.models import Project
from users.models import User

Level = NotificationLevel.Level
DEFAULT = Level.PARTICIPATING


def watching_project_sql(project_id: int) -> tuple[str, list[int | str]]:
    """Who watches every task of this project: chose Watching for it, or made
    Watching their default and chose nothing else for it. The statement
    (their user ids) and its parameters, which notifications.audience adds to
    tasks.watching.following_sql's; written out for the same reason. Only
    quoted names are interpolated."""
    levels = connection.ops.quote_name(NotificationLevel._meta.db_table)
    statement = (
        f"SELECT user_id FROM {levels} WHERE level = %s AND ("  # noqa: S608
        "project_id = %s OR project_id IS NULL AND user_id NOT IN "
        f"(SELECT user_id FROM {levels} WHERE project_id = %s))"
    )
    return statement, [Level.WATCHING, project_id, project_id]


def levels_for(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """(user id, project id) -> the level that applies, for these pairs, in
    one query."""
    wanted = set(pairs)
    if not wanted:
        return {}
    users = {user_id for user_id, _ in wanted}
    projects = {project_id for _, project_id in wanted}
    rows = NotificationLevel.objects.filter(
        Q(project_id__in=projects) | Q(project__isnull=True), user_id__in=users
    ).values_list("user_id", "project_id", "level")
    chosen: dict[tuple[int, int | None], str] = {
        (user_id, project_id): level for user_id, project_id, level in rows
    }
    return {
        (user_id, project_id): chosen.get(
            (user_id, project_id), chosen.get((user_id, None), DEFAULT)
        )
        for user_id, project_id in wanted
    }


def default_level(user: User) -> str:
    chosen = NotificationLevel.objects.filter(user=user, project__isnull=True)
    return chosen.values_list("level", flat=True).first() or DEFAULT


def project_levels(user: User) -> dict[int, str]:
    """The levels this person chose per project (the others follow the default)."""
    chosen = NotificationLevel.objects.filter(user=user, project__isnull=False)
    return dict(chosen.values_list("project_id", "level"))


def set_default(user: User, level: str) -> None:
    NotificationLevel.objects.update_or_create(
        user=user, project=None, defaults={"level": level}
    )


def set_level(user: User, project: Project, level: str) -> None:
    """This person's level for the project; "" follows their default again."""
    if not level:
        NotificationLevel.objects.filter(user=user, project=project).delete()
        return
    NotificationLevel.objects.update_or_create(
        user=user, project=project, defaults={"level": level}
    )
