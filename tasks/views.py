"""Dashboards and the project and task pages.

Managers and Admins manage everything; other signed-in users see the tasks
assigned to them and may change only their status (tasks.permissions).
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, ResolverMatch, resolve, reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tasks.activity import add_comment
from tasks.forms import (
    CommentForm,
    ProjectForm,
    TaskDueDateForm,
    TaskFilterForm,
    TaskForm,
    TaskStatusForm,
    is_id,
)
from tasks.listing import (
    SORT_COLUMNS,
    WHEN_CHOICES,
    but_status,
    matching,
    status_counts,
    with_list_relations,
)
from tasks.mentions import Mentions, mentions_in
from tasks.models import Activity, Project, Task
from tasks.permissions import (
    can_change_status,
    ensure_can_change_status,
    ensure_can_comment,
    ensure_can_view_task,
    manager_required,
    my_tasks,
    people_who_can_see,
    visible_projects,
    visible_tasks,
)
from tasks.signals import task_viewed
from tasks.watching import unwatch, watch, watchers
from ui.http import form_data, is_htmx, paginate, safe_next
from users.accounts import assignable_people
from users.http import AuthenticatedRequest
from users.models import User
from users.protection import limit_per_account

TASKS_PER_PAGE = 20
PROJECTS_PER_PAGE = 25
MENTION_SUGGESTIONS = 8
# People read to find the suggestions: some of them may not see the task.
MENTION_CANDIDATES = 50
SEARCH_MAX_LENGTH = 150
Saved = TypeVar("Saved", bound=Model)


# Listing helpers ----------------------------------------------------------


def filter_projects(user: User, *, is_manager: bool) -> QuerySet[Project]:
    return visible_projects(user, is_manager=is_manager)


def filter_form(user: User, params: QueryDict, *, is_manager: bool) -> TaskFilterForm:
    return TaskFilterForm(
        params,
        projects=filter_projects(user, is_manager=is_manager),
        assignees=assignable_people() if is_manager else None,
    )


def task_listing(
    request: AuthenticatedRequest,
    *,
    is_manager: bool,
    with_counts: bool,
    listed: QuerySet[Task] | None = None,
) -> dict[str, Any]:
    """The filters, the status counts they give and one page of matching tasks,
    among `listed` (by default the tasks of the list at this path)."""
    user = request.user
    form = filter_form(user, request.GET, is_manager=is_manager)
    visible = listed if listed is not None else list_scope(user, request.path)
    query = form.query()
    tasks = with_list_relations(matching(visible, query))
    page = paginate(request, tasks, TASKS_PER_PAGE)
    counts = status_counts(but_status(visible, query)) if with_counts else None
    return {
        "filter_form": form,
        "counts": counts,
        "page_obj": page,
        "is_manager": is_manager,
        # Whoever may change a task's status does it from the list (the row
        # asks: Managers any task, others those assigned to them).
        "quick_status": True,
        "status_choices": Task.Status.choices,
        "when_choices": WHEN_CHOICES,
        "bulk_people": assignable_people() if is_manager else None,
        "sort_headers": sort_headers(form.sort_key),
        "list_query": request.GET,
        "list_base": request.path,
        "list_path": request.get_full_path(),
    }


def list_scope(user: User, path: str) -> QuerySet[Task]:
    """The tasks the list at `path` lists: a project's page, its tasks that this
    person sees; else every task for a Manager, and "my tasks" for the rest."""
    is_manager = user.is_manager
    match = resolve_list(path)
    if match is not None and match.url_name == "project":
        visible = visible_tasks(user, is_manager=is_manager)
        return visible.filter(project_id=match.kwargs["pk"])
    return Task.objects.all() if is_manager else my_tasks(user)


def resolve_list(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None


def sort_headers(current: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the ?sort= its header links to and its aria-sort."""
    headers = {}
    for key in SORT_COLUMNS:
        direction = {key: "ascending", f"-{key}": "descending"}.get(current, "")
        following = f"-{key}" if direction == "ascending" else key
        headers[key] = {"sort": following, "aria_sort": direction}
    return headers


def saved(
    request: HttpRequest, form: ModelForm[Saved], noun: str, *, created: bool
) -> Saved | None:
    """What a submitted, valid form saved, said in a message; else None."""
    if not (form.is_bound and form.is_valid()):
        return None
    instance = form.save()
    verb = "created" if created else "saved"
    messages.success(request, f"{noun} “{instance}” {verb}.")
    return instance


# Dashboards and lists -----------------------------------------------------


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    """The manager dashboard for Managers and Admins, "my tasks" for the rest."""
    is_manager = request.user.is_manager
    context = task_listing(request, is_manager=is_manager, with_counts=True)
    return render(request, "tasks/dashboard.html", context)


@login_required
def task_list(request: AuthenticatedRequest) -> HttpResponse:
    if not request.user.is_manager:
        # Employees have one list, "My tasks", on the home page.
        query = request.GET.urlencode()
        return redirect(f"{reverse('home')}?{query}" if query else reverse("home"))
    context = task_listing(request, is_manager=True, with_counts=False)
    return render(request, "tasks/task_list.html", context)


# One task -------------------------------------------------------------------


def task_with_page_relations() -> QuerySet[Task]:
    return with_list_relations(Task.objects.select_related("created_by"))


@login_required
def task_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(task_with_page_relations(), pk=pk)
    is_manager = request.user.is_manager
    ensure_can_view_task(request.user, task, is_manager=is_manager)
    if request.method == "GET":  # not a HEAD: someone opened the page
        # Whoever keeps an inbox (notifications/) reads what it says of the task.
        task_viewed.send(sender=Task, task=task, user=request.user)
    context = task_page_context(task, request.user, is_manager=is_manager)
    return render(request, "tasks/task_detail.html", context)


def task_page_context(
    task: Task,
    user: User,
    *,
    is_manager: bool,
    comment_form: CommentForm | None = None,
) -> dict[str, Any]:
    """The task, its comments and its history (both oldest first: the two
    timelines read the same way, as a conversation does, the latest next to
    the comment box) and its watchers, in a number of queries that does not
    grow with any of them."""
    history = list(
        task.activity.select_related("actor", "person").order_by("created_at", "id")
    )
    watching = watchers(task)
    return {
        "task": task,
        "detail": getattr(task, "details", None),
        "is_manager": is_manager,
        "status_choices": Task.Status.choices,
        "assignees": with_assigner(task, history),
        "comments": list(task.comments.select_related("author")),
        "comment_form": comment_form or CommentForm(),
        "history": history,
        "watchers": watching,
        "is_watching": any(person.pk == user.pk for person, _ in watching),
        "addable": could_watch(task, watching) if is_manager else [],
        "can_change_status": can_change_status(user, task, is_manager=is_manager),
        "assignable": (
            assignable_people().exclude(pk__in=[p.pk for p in task.assigned_to.all()])
            if is_manager
            else []
        ),
    }


def could_watch(task: Task, watching: list[tuple[User, str]]) -> list[User]:
    """Who a Manager may add as a watcher: active people who may see the task
    and do not watch it yet."""
    already = {person.pk for person, _ in watching}
    candidates = list(assignable_people().exclude(pk__in=already))
    allowed = people_who_can_see([task.pk], [person.pk for person in candidates])
    return [person for person in candidates if (task.pk, person.pk) in allowed]


def with_assigner(
    task: Task, history: list[Activity]
) -> list[tuple[User, Activity | None]]:
    """Each assignee beside the latest entry that assigned them (or None)."""
    latest: dict[int, Activity] = {}
    for entry in history:  # oldest first: a later assignment replaces one before
        if entry.verb == Activity.Verb.ASSIGNED and entry.person_id is not None:
            latest[entry.person_id] = entry
    return [(person, latest.get(person.pk)) for person in task.assigned_to.all()]


@login_required
@require_http_methods(["GET", "POST"])
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_comment(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Assignees, Managers and Admins comment on a task.

    Without JavaScript: a redirect to the new comment, or the task's page with
    the form's errors. Through htmx: the comments section (and, once posted,
    the history and the message) swapped in place.
    """
    task = get_object_or_404(task_with_page_relations(), pk=pk)
    if request.method == "GET":  # back from signing in: the form is on the page
        return redirect(f"{task.get_absolute_url()}#comments")
    is_manager = request.user.is_manager
    ensure_can_comment(request.user, task, is_manager=is_manager)
    form = CommentForm(request.POST)
    if form.is_valid():
        body = form.cleaned_data["body"]
        found = mentions_in(task, body, request.user)
        comment = add_comment(task, request.user, body, mentioned=found.people)
        messages.success(request, "Comment added.")
        say_refused_mentions(request, found)
        if not is_htmx(request):
            return redirect(f"{task.get_absolute_url()}#comment-{comment.pk}")
        form = CommentForm()
        # Ready for the next one: the swapped-in form takes the focus back.
        form.fields["body"].widget.attrs["autofocus"] = True
    context = task_page_context(
        task, request.user, is_manager=is_manager, comment_form=form
    )
    if is_htmx(request):
        return render(request, "tasks/_comment_posted.html", context)
    return render(request, "tasks/task_detail.html", context)


def say_refused_mentions(request: HttpRequest, found: Mentions) -> None:
    """Who was not notified, in words that do not tell whether they exist."""
    if found.refused:
        names = ", ".join(f"@{name}" for name in found.refused)
        messages.warning(
            request,
            f"Nobody was notified for {names}: no one by that name can see this task.",
        )


@login_required
@require_GET
def mention_suggestions(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The comment box's suggestions (htmx): people who may see the task whose
    username or name starts with what follows the @ being typed."""
    task = get_object_or_404(Task, pk=pk)
    ensure_can_view_task(request.user, task, is_manager=request.user.is_manager)
    typed = request.GET.get("q", "")[:SEARCH_MAX_LENGTH].strip()
    people = suggested(task, typed, exclude=request.user)
    context = {"people": people, "typed": typed, "task": task}
    return render(request, "tasks/_mention_suggestions.html", context)


def suggested(task: Task, typed: str, *, exclude: User) -> list[User]:
    """Up to MENTION_SUGGESTIONS people who may see the task, by name."""
    matching = assignable_people().exclude(pk=exclude.pk)
    if typed:
        matching = matching.filter(
            Q(username__istartswith=typed)
            | Q(first_name__istartswith=typed)
            | Q(last_name__istartswith=typed)
        )
    candidates = list(matching[:MENTION_CANDIDATES])
    allowed = people_who_can_see([task.pk], [person.pk for person in candidates])
    found = [person for person in candidates if (task.pk, person.pk) in allowed]
    return found[:MENTION_SUGGESTIONS]


@login_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_watch(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Anyone who may see a task may watch it."""
    task = get_object_or_404(Task, pk=pk)
    ensure_can_view_task(request.user, task, is_manager=request.user.is_manager)
    watch(task, [request.user.pk])
    messages.success(request, "You watch this task: you hear of what happens to it.")
    return redirect(f"{task.get_absolute_url()}#watchers")


@login_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_unwatch(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Also for the creator and assignees: they stop hearing of others' changes."""
    task = get_object_or_404(Task, pk=pk)
    ensure_can_view_task(request.user, task, is_manager=request.user.is_manager)
    unwatch(task, request.user)
    messages.success(
        request,
        "You no longer watch this task. You still hear when someone assigns you, "
        "removes you or mentions you.",
    )
    return redirect(f"{task.get_absolute_url()}#watchers")


@login_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_add_watcher(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Managers add someone who may see the task as its watcher."""
    if not request.user.is_manager:
        raise PermissionDenied("Only Managers and Admins add watchers.")
    task = get_object_or_404(Task, pk=pk)
    person = who_could_watch(task, request.POST.get("person", ""))
    if person is None:
        messages.error(request, "Choose someone who can see this task.")
    else:
        watch(task, [person.pk], added_by=request.user)
        messages.success(request, f"{person} watches this task now.")
    return redirect(f"{task.get_absolute_url()}#watchers")


def who_could_watch(task: Task, person_id: str) -> User | None:
    """The active person with this id, if they may see the task."""
    if not is_id(person_id):
        return None
    person = assignable_people().filter(pk=int(person_id)).first()
    if person is None or not people_who_can_see([task.pk], [person.pk]):
        return None
    return person


@login_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Assignees (and managers) change a task's status, and nothing else.

    From the list through htmx the answer is the task's row, the messages and
    the count cards, swapped in place; otherwise a redirect back.
    """
    task = get_object_or_404(with_list_relations(Task.objects.all()), pk=pk)
    is_manager = request.user.is_manager
    ensure_can_view_task(request.user, task, is_manager=is_manager)
    ensure_can_change_status(request.user, task, is_manager=is_manager)
    form = TaskStatusForm(request.POST, instance=task)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed statuses.")
    elif form.has_changed():
        form.save()
        label = task.get_status_display()
        messages.success(request, f"“{task}” is now {label.lower()}.")
    else:
        messages.info(request, f"“{task}” was already {task.get_status_display()}.")
    back = safe_next(request, task.get_absolute_url())
    if is_htmx(request):
        return changed_row(request, task.pk, back, is_manager=is_manager)
    return redirect(back)


def changed_row(
    request: AuthenticatedRequest,
    pk: int,
    path: str,
    *,
    is_manager: bool,
    editing: bool = False,
) -> HttpResponse:
    """htmx's answer to a change made from a row of the list at `path`: the
    row as it is now (its edit form left open when the change came from it),
    the messages and the count cards."""
    task = get_object_or_404(with_list_relations(Task.objects.all()), pk=pk)
    context = list_context_of(request, path, is_manager=is_manager)
    context |= {"task": task, "editing": task.pk if editing else None}
    return render(request, "tasks/_row_changed.html", context)


def list_context_of(
    request: AuthenticatedRequest, path: str, *, is_manager: bool
) -> dict[str, Any]:
    """What a task row and the count cards need, for the list at `path`."""
    url = urlsplit(path)
    params = QueryDict(url.query)
    form = filter_form(request.user, params, is_manager=is_manager)
    visible = list_scope(request.user, url.path)
    # The Managers' full list shows no count cards: nothing to swap there.
    counted = url.path != reverse("tasks:list")
    return {
        "counts": status_counts(but_status(visible, form.query())) if counted else None,
        "is_manager": is_manager,
        "quick_status": True,
        "status_choices": Task.Status.choices,
        "bulk_people": assignable_people() if is_manager else None,
        "list_query": params,
        "list_base": url.path,
        "list_path": path,
    }


@login_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_bulk(request: AuthenticatedRequest) -> HttpResponse:
    """Managers change the status of the selected tasks, or add someone to
    them, at once. Each task is saved on its own: its history, and the emails
    it calls for, are the same as for a change made on its page."""
    if not request.user.is_manager:
        raise PermissionDenied("Only Managers and Admins change many tasks at once.")
    back = safe_next(request, reverse("tasks:list"))
    ids = [int(pk) for pk in request.POST.getlist("tasks") if is_id(pk)]
    tasks = list(Task.objects.filter(pk__in=ids))
    status, person = bulk_choices(request)
    if not tasks or (status is None and person is None):
        messages.error(request, "Select tasks, then a status or a person.")
        return redirect(back)
    with transaction.atomic():
        for task in tasks:
            if status is not None and task.status != status:
                task.status = status
                task.save(update_fields=["status", "completed_at", "updated_at"])
            if person is not None:
                task.assigned_to.add(person)
    count = f"{len(tasks)} task{'s' if len(tasks) != 1 else ''}"
    messages.success(request, f"{count} changed.")
    return redirect(back)


def bulk_choices(request: HttpRequest) -> tuple[str | None, User | None]:
    """The status and the person a bulk change asks for (None: unchanged)."""
    status = request.POST.get("status", "")
    person_id = request.POST.get("assignee", "")
    person = (
        assignable_people().filter(pk=int(person_id)).first()
        if is_id(person_id)
        else None
    )
    return (status if status in Task.Status.values else None), person


@manager_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_due_date(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Managers set or clear a due date from the task's page or a row of the
    list (htmx swaps the row; without JavaScript, back to `next`)."""
    task = get_object_or_404(Task, pk=pk)
    form = TaskDueDateForm(request.POST, instance=task)
    if not form.is_valid():
        messages.error(request, "Enter the date as YYYY-MM-DD, or leave it empty.")
    elif form.has_changed():
        form.save()
        day = formats.date_format(task.due_date) if task.due_date else "none"
        messages.success(request, f"Due date of “{task}”: {day}.")
        warn_of_a_past_due_date(request, form, task)
    return back_from_quick_edit(request, task, task.get_absolute_url())


@manager_required
@require_POST
@limit_per_account("tasks.update", "RATELIMIT_TASK_UPDATES")
def task_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Managers add someone to the task, or remove someone, from its page or
    a row of the list."""
    task = get_object_or_404(Task, pk=pk)
    person_id = request.POST.get("person", "")
    pool = task.assigned_to.all() if request.POST.get("remove") else assignable_people()
    person = pool.filter(pk=int(person_id)).first() if is_id(person_id) else None
    if person is None:
        messages.error(request, "Choose someone on the team.")
    elif request.POST.get("remove"):
        task.assigned_to.remove(person)
        messages.success(request, f"{person} is no longer assigned to “{task}”.")
    else:
        task.assigned_to.add(person)
        messages.success(request, f"{person} is assigned to “{task}”.")
    return back_from_quick_edit(
        request, task, f"{task.get_absolute_url()}#people-heading"
    )


def back_from_quick_edit(
    request: AuthenticatedRequest, task: Task, fallback: str
) -> HttpResponse:
    """The row, for htmx (the change came from the list at `next`); else a
    redirect to `next`, or to the task's page the form was on."""
    back = safe_next(request, fallback)
    if is_htmx(request):
        return changed_row(request, task.pk, back, is_manager=True, editing=True)
    return redirect(back)


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
    task = saved(request, form, "Task", created=created)
    if task is not None:
        warn_of_a_past_due_date(request, form, task)
        return redirect(task)
    context = {
        "form": form,
        "created": created,
        "has_projects": Project.objects.exists(),
    }
    return render(request, "tasks/task_form.html", context)


def warn_of_a_past_due_date(
    request: HttpRequest, form: TaskForm | TaskDueDateForm, task: Task
) -> None:
    """A due date set in the past is kept (a late entry is real), but said."""
    due, open_task = task.due_date, task.status != Task.Status.COMPLETED
    if due is None or due >= timezone.localdate() or not open_task:
        return
    if "due_date" in form.changed_data:
        day = formats.date_format(due)
        messages.warning(
            request, f"The due date, {day}, is in the past: “{task}” is overdue."
        )


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


@login_required
def project_list(request: AuthenticatedRequest) -> HttpResponse:
    """Every project for Managers; the projects an Employee is in or has a
    task of, for them."""
    is_manager = request.user.is_manager
    # Counted among the tasks this person sees, not the project's all.
    seen = Q(tasks__in=visible_tasks(request.user, is_manager=is_manager))
    projects = (
        visible_projects(request.user, is_manager=is_manager)
        .annotate(
            task_count=Count("tasks", filter=seen, distinct=True),
            open_count=Count(
                "tasks",
                filter=seen & ~Q(tasks__status=Task.Status.COMPLETED),
                distinct=True,
            ),
        )
        .order_by("name", "pk")
    )
    page = paginate(request, projects, PROJECTS_PER_PAGE)
    context = {"page_obj": page, "is_manager": is_manager}
    return render(request, "tasks/project_list.html", context)


@login_required
def project_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A project's tasks (those this person sees) and its members; Managers
    add and remove members here."""
    project = get_object_or_404(Project, pk=pk)
    user, is_manager = request.user, request.user.is_manager
    if not visible_projects(user, is_manager=is_manager).filter(pk=pk).exists():
        raise PermissionDenied("You are not a member of this project.")
    listed = visible_tasks(user, is_manager=is_manager).filter(project=project)
    context = task_listing(
        request, is_manager=is_manager, with_counts=True, listed=listed
    )
    members = list(project.members.order_by("first_name", "last_name", "username"))
    context |= {
        "project": project,
        "members": members,
        "addable": (
            assignable_people().exclude(pk__in=[m.pk for m in members])
            if is_manager
            else []
        ),
    }
    return render(request, "tasks/project_detail.html", context)


@manager_required
@require_POST
def project_add_member(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    person_id = request.POST.get("person", "")
    person = (
        assignable_people().filter(pk=int(person_id)).first()
        if is_id(person_id)
        else None
    )
    if person is None:
        messages.error(request, "Choose someone on the team to add.")
    else:
        project.members.add(person)
        messages.success(
            request, f"{person} is a member of {project}: they see all its tasks."
        )
    return redirect(f"{project.get_absolute_url()}#members")


@manager_required
@require_POST
def project_remove_member(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    person = get_object_or_404(project.members.all(), pk=user_pk)
    project.members.remove(person)
    messages.success(
        request,
        f"{person} is no longer a member of {project}; they still see the tasks "
        "assigned to them.",
    )
    return redirect(f"{project.get_absolute_url()}#members")


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
    if saved(request, form, "Project", created=created) is not None:
        return redirect("tasks:project-list")
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
