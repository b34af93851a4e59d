"""The task list's query, in one place: which tasks a person sees, narrowed by
the list's search and filters, in the order its sort asks, with the status counts.

TaskFilterForm (tasks/forms.py) reads the query string into a ListQuery; the
dashboard, the task list and a status change answered through htmx all build
their list here, in a fixed number of queries.
"""

from __future__ import annotations

import datetime
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
from django.utils import timezone

from tasks.models import Project, Task, TaskDetail
from users.models import User

# The assignee filter's value for the tasks assigned to nobody.
UNASSIGNED = "none"
# "Upcoming" is due after today and within this many days.
UPCOMING_DAYS = 7
# The list's views by due date (?when=), as the tabs above it name them.
WHEN_CHOICES = [
    ("", "All"),
    ("today", "Today"),
    ("upcoming", "Upcoming"),
    ("overdue", "Overdue"),
    ("none", "No due date"),
]

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
    # Tasks without a due date (or a priority) come last whichever the direction.
    expression = column.expression
    order = (
        expression.desc(nulls_last=True)
        if descending
        else expression.asc(nulls_last=True)
    )
    return [order, F("due_date").asc(nulls_last=True), "pk"]


@dataclass(frozen=True)
class ListQuery:
    """What the list asks for: the filter form's valid values ("" for none)."""

    search: str = ""
    assignee: str = ""  # a user's id, UNASSIGNED, or "" for anyone
    status: str = ""
    priority: str = ""
    project: Project | None = None
    sort: str = DEFAULT_SORT
    when: str = ""  # one of WHEN_CHOICES
    today: datetime.date | None = None  # the reader's today, for `when`


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
    if query.when:
        tasks = due_when(tasks, query.when, query.today or timezone.localdate())
    return search_tasks(tasks, query.search)


def due_when(tasks: QuerySet[Task], when: str, today: datetime.date) -> QuerySet[Task]:
    """Today, Upcoming (the next UPCOMING_DAYS days) and Overdue list the open
    tasks due then; "none" the tasks without a due date."""
    if when == "none":
        return tasks.filter(due_date__isnull=True)
    still_open = tasks.exclude(status=Task.Status.COMPLETED)
    if when == "today":
        return still_open.filter(due_date=today)
    if when == "overdue":
        return still_open.filter(due_date__lt=today)
    soon = today + datetime.timedelta(days=UPCOMING_DAYS)
    return still_open.filter(due_date__gt=today, due_date__lte=soon)


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
