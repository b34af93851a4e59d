"""Who may see and change which tasks: one place for the role rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from tasks.models import Task
from users.models import User

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


def can_view_task(user: User, task: Task, *, is_manager: bool) -> bool:
    # Iterating uses the prefetched assignees when the caller loaded them.
    return is_manager or any(person.pk == user.pk for person in task.assigned_to.all())


def ensure_can_view_task(user: User, task: Task, *, is_manager: bool) -> None:
    if not can_view_task(user, task, is_manager=is_manager):
        raise PermissionDenied("This task is not assigned to you.")


def ensure_can_comment(user: User, task: Task, *, is_manager: bool) -> None:
    """The people working on a task talk about it, and Managers and Admins."""
    if not can_view_task(user, task, is_manager=is_manager):
        raise PermissionDenied(
            "Only the people assigned to this task, Managers and Admins can comment."
        )
