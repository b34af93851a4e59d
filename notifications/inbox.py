"""The inbox in the app: a person's notifications, built from the outbox.

An inbox item *is* a Delivery row of a kind about a task (kinds.INBOX_KINDS):
recording writes one per person concerned, whatever their email choices, so the
inbox lists everything addressed to them, and the email is what the worker
makes of the same row. Its `read_at` (and `read_via`) and `archived_at` are the
person's; the worker skips an email whose item was read before it left
(wishes.py, "read in the app"), and a digest leaves such items out.

An item is read when its person
- opens the task's page (every unread item about that task: tasks' signal
  task_viewed),
- marks it read here (one task, or everything), or archives it,
- follows its email's link (links.py's token, middleware.py): "opened from the
  email"; an email telling several changes to a task reads them all.

The page lists tasks, newest news first, each with its latest items: a fixed
number of queries however many items there are. Items go with their rows: the
outbox's retention (Delivery.objects.purge_finished) deletes them, read or not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    TextChoices,
    Window,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, RowNumber

from notifications.contexts import filled
from notifications.kinds import KINDS, Kind
from notifications.links import read_token_delivery
from notifications.models import Delivery, DeliveryQuerySet
from tasks.models import Task
from tasks.permissions import people_who_can_see

ReadVia = Delivery.ReadVia
TASKS_PER_PAGE = 20
# The latest items shown per task; the task's page has its whole history.
ITEMS_PER_TASK = 5
# The task an item is about, as a column (every inbox kind's snapshot names it).
TASK_ID = Cast(KT("context__task_id"), IntegerField())


class Show(TextChoices):
    """The inbox's views (?show=)."""

    ALL = "", "All"
    UNREAD = "unread", "Unread"
    MENTIONS = "mentions", "Mentions"
    ARCHIVED = "archived", "Archived"


# Reading and archiving ---------------------------------------------------------


def unread_count(user_id: int) -> int:
    """The bell's number."""
    return Delivery.objects.inbox_of(user_id).unread().count()


def read_task(user_id: int, task_id: int) -> int:
    """Every unread item about this task, read in the app: its page was opened,
    or "Mark read" pressed."""
    return Delivery.objects.inbox_of(user_id).about(task_id).mark_read(ReadVia.APP)


def read_all(user_id: int) -> int:
    return Delivery.objects.inbox_of(user_id).mark_read(ReadVia.APP)


def archive_task(user_id: int, task_id: int) -> int:
    return Delivery.objects.inbox_of(user_id).about(task_id).archive()


def restore_task(user_id: int, task_id: int) -> int:
    return Delivery.objects.inbox_of(user_id).about(task_id).unarchive()


def read_from_email(user_id: int, token: str) -> bool:
    """A link followed from an email: its item is read, if the token is genuine
    and names an item of this person's, and so are the changes its email told
    with it (merged into it: timing.py). Anyone else's, or a forged one,
    changes nothing."""
    delivery_id = read_token_delivery(token)
    if delivery_id is None:
        return False
    mine = Delivery.objects.inbox_of(user_id)
    merged = mine.merged_with([delivery_id]).filter(digest__in=mine)
    merged.mark_read(ReadVia.EMAIL)
    return mine.filter(pk=delivery_id).mark_read(ReadVia.EMAIL) == 1


def title_of(user_id: int, task_id: int) -> str:
    """The task, quoted, as the person's latest item about it names it (a
    message says what a button did to it)."""
    latest = Delivery.objects.inbox_of(user_id).about(task_id).first()
    return f"“{latest.task_title}”" if latest is not None else "That task"


def bell(unread: int, *, here: bool, announce: bool = False) -> dict[str, Any]:
    """What the bell in the header shows (notifications/_bell.html): the
    count, whether this page is the inbox, and, when it changed while the page
    was open, the words the live region says."""
    return {
        "unread": unread,
        "shown": "99+" if unread > 99 else str(unread),
        "here": here,
        "announce": announce,
        "poll": settings.NOTIFICATIONS_INBOX_POLL_SECONDS,
    }


# The page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One notification, as the inbox says it."""

    pk: int
    kind: str
    headline: str
    excerpt: str
    at: datetime
    unread: bool

    @property
    def mention(self) -> bool:
        return self.kind == Kind.MENTIONED


@dataclass
class Group:
    """One task's items on the page, newest first."""

    task_id: int
    latest: datetime
    unread: int
    total: int
    title: str = ""
    project: str = ""
    can_open: bool = False  # the task lives and its reader may see it
    items: list[Item] = field(default_factory=list)

    @property
    def more(self) -> int:
        """Items not shown: the task's page has them."""
        return self.total - len(self.items)


def items_shown(user_id: int, show: str) -> DeliveryQuerySet:
    """The person's items in this view."""
    items = Delivery.objects.inbox_of(user_id)
    if show == Show.ARCHIVED:
        return items.filter(archived_at__isnull=False)
    items = items.filter(archived_at__isnull=True)
    if show == Show.UNREAD:
        return items.filter(read_at__isnull=True)
    if show == Show.MENTIONS:
        return items.filter(kind=Kind.MENTIONED)
    return items


def page_of(user_id: int, show: str, number: str | None) -> Page[Group]:
    """One page of the view's tasks, newest news first, each with its latest
    items, what its reader may open, and its title now: four queries (and the
    paginator's count), whatever the number of items."""
    items = items_shown(user_id, show)
    paginator: Paginator[Any] = Paginator(groups_of(items), TASKS_PER_PAGE)
    page = paginator.get_page(number)
    groups = [Group(**row) for row in page.object_list]
    fill(groups, items, user_id)
    page.object_list = groups
    return page


def groups_of(items: DeliveryQuerySet) -> QuerySet[Any, Any]:
    """One row per task: its latest item's time, how many are unread, in all."""
    return (
        items.annotate(task_id=TASK_ID)
        .values("task_id")
        .annotate(
            latest=Max("created_at"),
            unread=Count("pk", filter=Q(read_at__isnull=True)),
            total=Count("pk"),
        )
        .order_by("-latest", "-task_id")
    )


def fill(groups: list[Group], items: DeliveryQuerySet, user_id: int) -> None:
    """Each group's latest items, and its task's title and project: the live
    task's when its reader may open it, else as the latest item said them."""
    by_task = {group.task_id: group for group in groups}
    for row in latest_items(items, by_task):
        group = by_task[int(row.context["task_id"])]
        if not group.items:
            group.title = row.task_title
            group.project = str(row.context.get("project", ""))
        group.items.append(item_of(row))
    visible = {task for task, _ in people_who_can_see(by_task, [user_id])}
    live = Task.objects.filter(pk__in=visible)
    for task_id, title, project in live.values_list("pk", "title", "project__name"):
        by_task[task_id].title, by_task[task_id].project = title, project
        by_task[task_id].can_open = True


def latest_items(items: DeliveryQuerySet, tasks: Iterable[int]) -> list[Delivery]:
    """The ITEMS_PER_TASK latest items of each of these tasks, in one query."""
    ranked = items.annotate(
        task_id=TASK_ID,
        rank=Window(
            RowNumber(),
            partition_by=[TASK_ID],
            order_by=[F("created_at").desc(), F("pk").desc()],
        ),
    )
    wanted = ranked.filter(task_id__in=list(tasks), rank__lte=ITEMS_PER_TASK)
    return list(wanted.order_by("-created_at", "-pk"))


def item_of(row: Delivery) -> Item:
    about = KINDS[row.kind].task
    return Item(
        pk=row.pk,
        kind=row.kind,
        headline=filled(about.headline, row.context) if about else row.task_title,
        excerpt=str(row.context.get("excerpt", "")),
        at=row.created_at,
        unread=row.read_at is None,
    )
