"""Due dates in people's calendars: an .ics event attached to the emails that
give a task a due date (assignment, due date changed), and each person's
private feed of their open tasks' due dates at /calendar/<token>.ics.

Events are written by the icalendar package. Each task is one all-day event
whose UID is the task's own (task-<id>@<our mail domain>), the same in every
email and in the feed, with a SEQUENCE that counts the moves of its due date
(its history): a calendar that took the assignment's event moves it when the
due date moves, rather than adding a second one.

The feed's token is signed (SECRET_KEY, its own salt) over the person's id and
their feed's generation (CalendarFeed): revoking starts a new generation, so
every link given before answers 404, as does a forged or mangled one. The link
names no address; a calendar app that polls it needs no session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from email.mime.text import MIMEText

from django.core import signing
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from icalendar import Calendar, Event

from notifications.links import absolute_url
from notifications.models import CalendarFeed
from notifications.threading import mail_domain
from tasks.models import Activity, Task
from users.models import User

PRODID = "-//Tasks//Due dates//EN"
FEED_SALT = "notifications.calendar-feed"
SIGNER = signing.Signer(salt=FEED_SALT)
ATTACHMENT_NAME = "due-date.ics"


def event_uid(task_id: int) -> str:
    return f"task-{task_id}@{mail_domain()}"


def with_due_date_moves(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Each task with how many times its due date moved (its history): the
    SEQUENCE of its event, so a calendar takes a later event over an earlier
    one of the same UID. A subquery of the same query: a batch of emails pays
    nothing more for its events."""
    moves = (
        Activity.objects.filter(task=OuterRef("pk"), verb=Activity.Verb.DUE_DATE)
        .order_by()
        .values("task")
        .annotate(moved=Count("pk"))
        .values("moved")
    )
    return tasks.annotate(due_date_moves=Coalesce(Subquery(moves), 0))


def sequence(task: Task) -> int:
    moved = getattr(task, "due_date_moves", None)
    if moved is None:  # a task read without with_due_date_moves
        moved = task.activity.filter(verb=Activity.Verb.DUE_DATE).count()
    return int(moved)


def due_event(task: Task) -> Event:
    """The task's due date as an all-day event (a task without one has none)."""
    due = task.due_date
    if due is None:
        raise ValueError(f"Task {task.pk} has no due date")
    link = absolute_url("tasks:detail", task.pk)
    event = Event()
    event.add("uid", event_uid(task.pk))
    event.add("dtstamp", timezone.now())
    event.add("sequence", sequence(task))
    event.add("dtstart", due)
    event.add("dtend", due + timedelta(days=1))
    event.add("summary", f"Due: {task.title}")
    event.add("description", f"{task.project.name}: {task.title}\n{link}")
    event.add("url", link)
    event.add("categories", [task.project.name])
    event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
    return event


def calendar_of(tasks: Iterable[Task], name: str = "") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    for task in tasks:
        calendar.add_component(due_event(task))
    return bytes(calendar.to_ical())


def attachment(task: Task) -> MIMEText:
    """The .ics an email about this task's due date carries (a part of our
    own: Django's attach() would drop the method parameter Outlook reads)."""
    part = MIMEText(calendar_of([task]).decode(), "calendar", "utf-8")
    part.set_param("method", "PUBLISH")
    part.add_header("Content-Disposition", "attachment", filename=ATTACHMENT_NAME)
    return part


# The feed -------------------------------------------------------------------------


def feed_token(feed: CalendarFeed) -> str:
    return SIGNER.sign_object([feed.user_id, feed.generation])


def feed_link(feed: CalendarFeed) -> str:
    return absolute_url("calendar-feed", token=feed_token(feed))


def feed_of(user: User) -> CalendarFeed | None:
    """This person's feed, when they have one turned on."""
    return CalendarFeed.objects.filter(user=user, enabled=True).first()


def start_feed(user: User) -> CalendarFeed:
    """A feed for this person, with a new link: every link given before stops
    working (revoking and renewing are the same act)."""
    feed, created = CalendarFeed.objects.get_or_create(user=user)
    if not created:
        feed.generation += 1
        feed.enabled = True
        feed.save(update_fields=["generation", "enabled", "updated_at"])
    return feed


def stop_feed(user: User) -> None:
    """No feed: the link answers 404 from now on."""
    for feed in CalendarFeed.objects.filter(user=user, enabled=True):
        feed.generation += 1
        feed.enabled = False
        feed.save(update_fields=["generation", "enabled", "updated_at"])


def owner_of(token: str) -> User | None:
    """The active person whose current feed this token names; None for a
    revoked, forged or mangled token."""
    try:
        user_id, generation = SIGNER.unsign_object(token)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or not isinstance(generation, int):
        return None
    feed = CalendarFeed.objects.filter(
        user_id=user_id, generation=generation, enabled=True, user__is_active=True
    ).select_related("user")
    found = feed.first()
    return found.user if found else None


def feed_calendar(user: User) -> bytes:
    """This person's open tasks' due dates."""
    tasks = user.tasks.filter(status__in=Task.OPEN, due_date__isnull=False)
    tasks = tasks.select_related("project")
    tasks = with_due_date_moves(tasks.order_by("due_date", "pk"))
    return calendar_of(tasks, name="Tasks: my due dates")
