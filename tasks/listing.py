"""The task list's query, in one place: which tasks a person sees, narrowed by
the list's search and filters, in the order its sort asks, with the status counts.

TaskFilterForm (tasks/forms.py) reads the query string into a ListQuery; the
dashboard, the task list and a status change answered through htmx all build
their list here, in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import (
    Case,
    Count,
    F,
    OrderBy,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)

from tasks.models import Project, Task, TaskDetail
from users.models import User

# The assignee filter's value for the tasks assigned to nobody.
UNASSIGNED = "none"

PRIORITY_RANK = Case(
    When(details__priority=TaskDetail.Priority.HIGH, then=Value(0)),
    When(details__priority=TaskDetail.Priority.MEDIUM, then=Value(1)),
    When(details__priority=TaskDetail.Priority.LOW, then=Value(2)),
    default=Value(3),
)
STATUS_RANK = Case(
    When(status=Task.Status.PENDING, then=Value(0)),
    When(status=Task.Status.IN_PROGRESS, then=Value(1)),
    default=Value(2),
)


class SortColumn(NamedTuple):
    label: str
    expression: F | Case
    ascending: str  # how each direction reads in the phones' "Sort by" select
    descending: str


# The list's sortable columns by their key in ?sort= ("-key" reverses), the
# default first. Priority and status sort by meaning, not by stored letters.
SORT_COLUMNS = {
    "due": SortColumn("Due date", F("due_date"), "soonest first", "latest first"),
    "title": SortColumn("Title", F("title"), "A to Z", "Z to A"),
    "project": SortColumn("Project", F("project__name"), "A to Z", "Z to A"),
    "priority": SortColumn("Priority", PRIORITY_RANK, "high first", "low first"),
    "status": SortColumn("Status", STATUS_RANK, "pending first", "completed first"),
}
DEFAULT_SORT = "due"
SORT_CHOICES = [
    choice
    for key, column in SORT_COLUMNS.items()
    for choice in (
        (key, f"{column.label}, {column.ascending}"),
        (f"-{key}", f"{column.label}, {column.descending}"),
    )
]


def ordering(sort: str) -> list[OrderBy | str]:
    """Rows in the chosen column's order, then by due date and id for ties."""
    column = SORT_COLUMNS.get(sort.removeprefix("-"), SORT_COLUMNS[DEFAULT_SORT])
    descending = sort.startswith("-")
    order = column.expression.desc() if descending else column.expression.asc()
    return [order, "due_date", "pk"]


@dataclass(frozen=True)
class ListQuery:
    """What the list asks for: the filter form's valid values ("" for none)."""

    search: str = ""
    assignee: str = ""  # a user's id, UNASSIGNED, or "" for anyone
    status: str = ""
    priority: str = ""
    project: Project | None = None
    sort: str = DEFAULT_SORT


def matching(tasks: QuerySet[Task], query: ListQuery) -> QuerySet[Task]:
    """The tasks matching every filter, in the chosen order."""
    narrowed = but_status(tasks, query)
    chosen = narrowed.filter(status=query.status) if query.status else narrowed
    return chosen.order_by(*ordering(query.sort))


def but_status(tasks: QuerySet[Task], query: ListQuery) -> QuerySet[Task]:
    """Every filter but the status: what the status count cards count."""
    if query.assignee == UNASSIGNED:
        tasks = tasks.filter(assigned_to=None)
    elif query.assignee:
        tasks = tasks.filter(assigned_to=int(query.assignee))
    if query.priority:
        tasks = tasks.filter(details__priority=query.priority)
    if query.project:
        tasks = tasks.filter(project=query.project)
    return search_tasks(tasks, query.search)


def search_tasks(tasks: QuerySet[Task], text: str) -> QuerySet[Task]:
    if not text:
        return tasks
    return tasks.filter(
        Q(title__icontains=text)
        | Q(description__icontains=text)
        | Q(project__name__icontains=text)
        | Q(details__notes__icontains=text)
    )


def status_counts(tasks: QuerySet[Task]) -> dict[str, int]:
    """Total and per-status counts in one query."""
    return tasks.aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=Task.Status.PENDING)),
        in_progress=Count("id", filter=Q(status=Task.Status.IN_PROGRESS)),
        completed=Count("id", filter=Q(status=Task.Status.COMPLETED)),
    )


def with_list_relations(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Everything a task row shows, in a fixed number of queries."""
    assignees = User.objects.order_by("first_name", "last_name", "username")
    return tasks.select_related("project", "details").prefetch_related(
        Prefetch("assigned_to", queryset=assignees)
    )
