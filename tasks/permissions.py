"""Who may see and change which tasks: one place for the role rules.

visible_tasks, can_view_task and people_who_can_see say the same rule three
ways (a list for one person, one task for one person, many of each at once),
and visible_projects the projects it opens; change them together. Watchers,
mentions, the audience of an email and the worker's check at send time all ask
people_who_can_see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import FilteredRelation, Q, QuerySet
from django.http import HttpRequest, HttpResponse

from tasks.models import Project, Task
from users.models import Role, User

View = Callable[..., HttpResponse]


def manager_required(view: View) -> View:
    """Sign-in redirect for anonymous users, 403 for anyone below Manager."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # login_required has run: the user is a User.
        if not cast(User, request.user).is_manager:
            raise PermissionDenied("Only Managers and Admins can do this.")
        return view(request, *args, **kwargs)

    return guarded


def visible_tasks(user: User, *, is_manager: bool) -> QuerySet[Task]:
    """Managers see every task; everyone else only the tasks assigned to them."""
    tasks = Task.objects.all()
    return tasks if is_manager else tasks.filter(assigned_to=user)


def visible_projects(user: User, *, is_manager: bool) -> QuerySet[Project]:
    """Managers see every project; everyone else those with a task of theirs."""
    if is_manager:
        return Project.objects.all()
    return Project.objects.filter(tasks__assigned_to=user).distinct()


def can_view_task(user: User, task: Task, *, is_manager: bool) -> bool:
    # Iterating uses the prefetched assignees when the caller loaded them.
    return is_manager or any(person.pk == user.pk for person in task.assigned_to.all())


def people_who_can_see(
    task_ids: Iterable[int], user_ids: Iterable[int]
) -> set[tuple[int, int]]:
    """The (task id, user id) pairs among these where the user may see the task,
    in one query: active Managers and Admins see every task, other active
    people the tasks assigned to them. A deactivated account sees nothing."""
    tasks, users = set(task_ids), set(user_ids)
    if not tasks or not users:
        return set()
    rows = (
        User.objects.filter(pk__in=users, is_active=True)
        .annotate(assigned=FilteredRelation("tasks", condition=Q(tasks__pk__in=tasks)))
        .values_list("pk", "is_superuser", "groups__name", "assigned__id")
    )
    pairs: set[tuple[int, int]] = set()
    for user_id, superuser, role, assigned in rows:
        if superuser or role in MANAGING_ROLES:
            pairs.update((task_id, user_id) for task_id in tasks)
        elif assigned is not None:
            pairs.add((assigned, user_id))
    return pairs


MANAGING_ROLES = (Role.ADMIN, Role.MANAGER)


def ensure_can_view_task(user: User, task: Task, *, is_manager: bool) -> None:
    if not can_view_task(user, task, is_manager=is_manager):
        raise PermissionDenied("This task is not assigned to you.")


def ensure_can_comment(user: User, task: Task, *, is_manager: bool) -> None:
    """The people working on a task talk about it, and Managers and Admins."""
    if not can_view_task(user, task, is_manager=is_manager):
        raise PermissionDenied(
            "Only the people assigned to this task, Managers and Admins can comment."
        )
