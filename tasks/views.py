"""Dashboards and the project and task pages.

Managers and Admins manage everything; other signed-in users see the tasks
assigned to them and may change only their status (tasks.permissions).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from tasks.forms import ProjectForm, TaskFilterForm, TaskForm, TaskStatusForm
from tasks.models import Project, Task
from tasks.permissions import ensure_can_view_task, manager_required, visible_tasks
from users.models import User

TASKS_PER_PAGE = 20
PROJECTS_PER_PAGE = 25
INVALID_FORM = "Please correct the errors below."


# Listing helpers ----------------------------------------------------------


def with_list_relations(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Everything a task row shows, in a fixed number of queries."""
    assignees = User.objects.order_by("first_name", "last_name", "username")
    return tasks.select_related("project", "details").prefetch_related(
        Prefetch("assigned_to", queryset=assignees)
    )


def filter_projects(user: User, *, is_manager: bool) -> QuerySet[Project]:
    if is_manager:
        return Project.objects.all()
    return Project.objects.filter(tasks__assigned_to=user).distinct()


def paginate(request: HttpRequest, items: QuerySet[Any], per_page: int) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def task_listing(request: HttpRequest, *, is_manager: bool) -> dict[str, Any]:
    """The filter form and one page of the tasks this user may see."""
    user = request.user
    form = TaskFilterForm(
        request.GET or None, projects=filter_projects(user, is_manager=is_manager)
    )
    tasks = form.filter(visible_tasks(user, is_manager=is_manager))
    page = paginate(request, with_list_relations(tasks), TASKS_PER_PAGE)
    return {
        "filter_form": form,
        "page_obj": page,
        "is_manager": is_manager,
        # Assignees change status right from their list; managers open the task.
        "quick_status": not is_manager,
        "status_choices": Task.Status.choices,
    }


def status_counts(tasks: QuerySet[Task]) -> dict[str, int]:
    """Total and per-status counts in one query."""
    return tasks.aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=Task.Status.PENDING)),
        in_progress=Count("id", filter=Q(status=Task.Status.IN_PROGRESS)),
        completed=Count("id", filter=Q(status=Task.Status.COMPLETED)),
    )


def form_data(request: HttpRequest) -> QueryDict | None:
    """Bind forms to POST data only: an empty POST is still a submission."""
    return request.POST if request.method == "POST" else None


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else fallback


# Dashboards and lists -----------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The manager dashboard for Managers and Admins, "my tasks" for the rest."""
    is_manager = request.user.is_manager
    context = task_listing(request, is_manager=is_manager)
    own_tasks = visible_tasks(request.user, is_manager=is_manager)
    context["counts"] = status_counts(own_tasks)
    return render(request, "tasks/dashboard.html", context)


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    context = task_listing(request, is_manager=request.user.is_manager)
    return render(request, "tasks/task_list.html", context)


# One task -------------------------------------------------------------------


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(with_list_relations(Task.objects.all()), pk=pk)
    is_manager = request.user.is_manager
    ensure_can_view_task(request.user, task, is_manager=is_manager)
    context = {
        "task": task,
        "detail": getattr(task, "details", None),
        "is_manager": is_manager,
        "status_choices": Task.Status.choices,
    }
    return render(request, "tasks/task_detail.html", context)


@login_required
@require_POST
def task_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Assignees (and managers) change a task's status, and nothing else."""
    task = get_object_or_404(with_list_relations(Task.objects.all()), pk=pk)
    ensure_can_view_task(request.user, task, is_manager=request.user.is_manager)
    form = TaskStatusForm(request.POST, instance=task)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed statuses.")
    elif form.has_changed():
        form.save()
        label = task.get_status_display()
        messages.success(request, f"“{task}” is now {label.lower()}.")
    else:
        messages.info(request, f"“{task}” was already {task.get_status_display()}.")
    return redirect(safe_next(request, task.get_absolute_url()))


@manager_required
def task_create(request: HttpRequest) -> HttpResponse:
    # "Add task" on a project row preselects that project.
    initial = {"project": request.GET["project"]} if "project" in request.GET else {}
    form = TaskForm(form_data(request), initial=initial)
    return save_task_form(request, form, created=True)


@manager_required
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task, pk=pk)
    form = TaskForm(form_data(request), instance=task)
    return save_task_form(request, form, created=False)


def save_task_form(
    request: HttpRequest, form: TaskForm, *, created: bool
) -> HttpResponse:
    if form.is_bound and form.is_valid():
        task = form.save()
        verb = "created" if created else "saved"
        messages.success(request, f"Task “{task}” {verb}.")
        return redirect(task)
    if form.is_bound:
        messages.error(request, INVALID_FORM)
    context = {
        "form": form,
        "created": created,
        "has_projects": Project.objects.exists(),
    }
    return render(request, "tasks/task_form.html", context)


@manager_required
@require_http_methods(["GET", "POST"])
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("project"), pk=pk)
    if request.method == "GET":
        return render(request, "tasks/task_confirm_delete.html", {"task": task})
    title = task.title
    # The post_delete receiver removes the TaskDetail (on_delete=DO_NOTHING).
    task.delete()
    messages.success(request, f"Task “{title}” deleted.")
    return redirect("tasks:list")


# Projects -------------------------------------------------------------------


@manager_required
def project_list(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.annotate(
        task_count=Count("tasks"),
        open_count=Count("tasks", filter=~Q(tasks__status=Task.Status.COMPLETED)),
    ).order_by("name", "pk")
    page = paginate(request, projects, PROJECTS_PER_PAGE)
    return render(request, "tasks/project_list.html", {"page_obj": page})


@manager_required
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(form_data(request))
    return save_project_form(request, form, created=True)


@manager_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    form = ProjectForm(form_data(request), instance=project)
    return save_project_form(request, form, created=False)


def save_project_form(
    request: HttpRequest, form: ProjectForm, *, created: bool
) -> HttpResponse:
    if form.is_bound and form.is_valid():
        project = form.save()
        verb = "created" if created else "saved"
        messages.success(request, f"Project “{project}” {verb}.")
        return redirect("tasks:project-list")
    if form.is_bound:
        messages.error(request, INVALID_FORM)
    context = {"form": form, "created": created}
    return render(request, "tasks/project_form.html", context)


@manager_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    if request.method == "GET":
        context = {"project": project, "task_count": project.tasks.count()}
        return render(request, "tasks/project_confirm_delete.html", context)
    name = project.name
    # Cascades to the tasks; each task's post_delete removes its TaskDetail.
    project.delete()
    messages.success(request, f"Project “{name}” and its tasks deleted.")
    return redirect("tasks:project-list")
