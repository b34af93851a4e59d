"""Who may see and change which tasks: one place for the role rules.

The rule: active Managers and Admins see every task; other active people the
tasks assigned to them and every task of the projects they are members of
(SEEING names those two relations); a deactivated account sees nothing.

people_who_can_see is the one function that decides it for given tasks and
people: can_view_task (a page, a reply by email), watchers, mentions, the
audience of an email and the worker's check at send time all ask it. The lists
(visible_tasks, visible_projects) select by the same SEEING relations.
Only assignees (and Managers) change a task's status (can_change_status).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseBase

from tasks.models import Project, Task
from users.models import Role, User

View = Callable[..., HttpResponseBase]


def manager_required(view: View) -> View:
    """Sign-in redirect for anonymous users, 403 for anyone below Manager."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # login_required has run: the user is a User.
        if not cast(User, request.user).is_manager:
            raise PermissionDenied("Only Managers and Admins can do this.")
        return view(request, *args, **kwargs)

    return guarded


MANAGING = frozenset((Role.ADMIN, Role.MANAGER))
# The relations from a task to the people (not Managers) who see it.
SEEING = ("assigned_to", "project__members")


def seen_by(user_id: int) -> Q:
    """The tasks this person sees through SEEING."""
    rule = Q()
    for path in SEEING:
        rule |= Q(**{path: user_id})
    return rule


def visible_tasks(user: User, *, is_manager: bool) -> QuerySet[Task]:
    """Every task for a Manager; else those assigned to them and those of
    their projects (each once: selected by id, not joined)."""
    tasks = Task.objects.all()
    if is_manager:
        return tasks
    if not user.is_active:
        return tasks.none()
    return tasks.filter(pk__in=Task.objects.filter(seen_by(user.pk)).values("pk"))


def my_tasks(user: User) -> QuerySet[Task]:
    """The tasks assigned to this person: an Employee's home page."""
    return Task.objects.filter(assigned_to=user)


def visible_projects(user: User, *, is_manager: bool) -> QuerySet[Project]:
    """Every project for a Manager; else their projects and those with a task
    they see."""
    if is_manager:
        return Project.objects.all()
    seen = visible_tasks(user, is_manager=False).values("project_id")
    return Project.objects.filter(Q(pk__in=seen) | Q(members=user)).distinct()


def can_view_task(user: User, task: Task, *, is_manager: bool) -> bool:
    return is_manager or (task.pk, user.pk) in people_who_can_see([task.pk], [user.pk])


def can_change_status(user: User, task: Task, *, is_manager: bool) -> bool:
    """Managers, and the people assigned the task (members only read it)."""
    # Iterating uses the prefetched assignees when the caller loaded them.
    return is_manager or any(person.pk == user.pk for person in task.assigned_to.all())


def people_who_can_see(
    task_ids: Iterable[int], user_ids: Iterable[int]
) -> set[tuple[int, int]]:
    """The (task id, user id) pairs among these where the user may see the task,
    in two queries however many of each: active Managers and Admins see every
    task, other active people those SEEING gives them. A deactivated account
    sees nothing."""
    tasks, users = set(task_ids), set(user_ids)
    if not tasks or not users:
        return set()
    rows = list(
        User.objects.filter(pk__in=users, is_active=True).values_list(
            "pk", "is_superuser", "groups__name"
        )
    )
    managing = {pk for pk, superuser, role in rows if superuser or role in MANAGING}
    pairs = {(task, user) for user in managing for task in tasks}
    others = {pk for pk, _, _ in rows} - managing
    if others:
        pairs.update(seen_among(tasks, others))
    return pairs


def seen_among(tasks: set[int], people: set[int]) -> set[tuple[int, int]]:
    """(task id, user id) pairs SEEING gives among these, in one query."""
    through = [
        Task.objects.filter(pk__in=tasks, **{f"{path}__in": people})
        .order_by()
        .values_list("pk", path)
        for path in SEEING
    ]
    found = through[0].union(*through[1:])
    return {(task, user) for task, user in found if user in people}


def ensure_can_view_task(user: User, task: Task, *, is_manager: bool) -> None:
    if not can_view_task(user, task, is_manager=is_manager):
        raise PermissionDenied(
            "This task is not assigned to you, nor in a project you are a member of."
        )


def ensure_can_comment(user: User, task: Task, *, is_manager: bool) -> None:
    """Whoever may see a task talks about it: its assignees, the members of its
    project, Managers and Admins."""
    if not can_view_task(user, task, is_manager=is_manager):
        raise PermissionDenied(
            "Only the people of this project, Managers and Admins can comment."
        )


def ensure_can_change_status(user: User, task: Task, *, is_manager: bool) -> None:
    if not can_change_status(user, task, is_manager=is_manager):
        raise PermissionDenied("Only the people assigned to this task change it.")
