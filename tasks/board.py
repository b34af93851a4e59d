"""The board: a person's tasks (/tasks/board/) or a project's
(/tasks/projects/<id>/board/) in columns by status.

A card moves by mouse (static/js/board.js submits its "Move to" form on a
drop) or by keyboard (the same form: a select and a button). htmx posts it
and swaps the whole board in place; without JavaScript the form posts and
the page comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.http import require_GET, require_POST

from tasks.forms import TaskStatusForm
from tasks.listing import with_list_relations
from tasks.models import Project, Task
from tasks.permissions import (
    can_change_status,
    ensure_can_change_status,
    ensure_can_view_task,
    my_tasks,
    visible_projects,
    visible_tasks,
)
from ui.http import is_htmx, safe_next
from users.http import AuthenticatedRequest
from users.models import User
from users.protection import limit_per_account

# A column shows at most this many cards; the list has them all.
CARDS_PER_COLUMN = 100


@dataclass(frozen=True)
class Card:
    task: Task
    movable: bool


@dataclass(frozen=True)
class Column:
    status: str
    label: str
    cards: list[Card]
    total: int


def columns(tasks: QuerySet[Task], user: User) -> list[Column]:
    """One column per status, in the statuses' order, soonest due first."""
    is_manager = user.is_manager
    found = []
    for status, label in Task.Status.choices:
        in_column = tasks.filter(status=status)
        soonest = F("due_date").asc(nulls_last=True)
        shown = with_list_relations(in_column).order_by(soonest, "pk")
        cards = [
            Card(task, can_change_status(user, task, is_manager=is_manager))
            for task in shown[:CARDS_PER_COLUMN]
        ]
        found.append(Column(status, label, cards, in_column.count()))
    return found


def board_page(
    request: AuthenticatedRequest, tasks: QuerySet[Task], **context: Any
) -> HttpResponse:
    context |= {
        "columns": columns(tasks, request.user),
        "status_choices": Task.Status.choices,
        "board_path": request.get_full_path(),
    }
    return render(request, "tasks/board.html", context)


@login_required
@require_GET
def my_board(request: AuthenticatedRequest) -> HttpResponse:
    return board_page(request, my_tasks(request.user), title="My board")


@login_required
@require_GET
def project_board(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    user, is_manager = request.user, request.user.is_manager
    if not visible_projects(user, is_manager=is_manager).filter(pk=pk).exists():
        raise PermissionDenied("You are not a member of this project.")
    tasks = visible_tasks(user, is_manager=is_manager).filter(project=project)
    return board_page(request, tasks, title=project.name, project=project)


def board_tasks(user: User, path: str) -> QuerySet[Task]:
    """The tasks of the board at `path` (a person's, or a project's)."""
    try:
        match = resolve(path.split("?")[0])
    except Resolver404:
        return my_tasks(user)
    if match.url_name == "project-board":
        visible = visible_tasks(user, is_manager=user.is_manager)
        return visible.filter(project_id=match.kwargs["pk"])
    return my_tasks(user)


@login_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_move(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A card moved to another column: the task's status changes (for its
    assignees, Managers and Admins). Through htmx, the board comes back."""
    task = get_object_or_404(Task, pk=pk)
    is_manager = request.user.is_manager
    ensure_can_view_task(request.user, task, is_manager=is_manager)
    ensure_can_change_status(request.user, task, is_manager=is_manager)
    form = TaskStatusForm(request.POST, instance=task)
    if not form.is_valid():
        messages.error(request, "Choose one of the board's columns.")
    elif form.has_changed():
        form.save()
        messages.success(request, f"“{task}” moved to {task.get_status_display()}.")
    back = safe_next(request, reverse("tasks:board"))
    if not is_htmx(request):
        return redirect(back)
    context = {
        "columns": columns(board_tasks(request.user, back), request.user),
        "status_choices": Task.Status.choices,
        "board_path": back,
    }
    return render(request, "tasks/_board_moved.html", context)
