"""One thread per task: twenty events on one task, sent over real SMTP (the
suite's server), read back as mail clients read them: JWZ's threading
algorithm (tests/support/jwz.py) finds one thread in every reader's mailbox,
the root never changes and no header chain grows."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.test import RequestFactory

from devtools.smtp import Received, SMTPServer
from notifications.levels import set_level
from notifications.models import Delivery, NotificationLevel
from notifications.sending import send_batch
from tasks.activity import add_comment
from tasks.models import Activity, Task
from tests.factories import ManagerFactory, ProjectFactory, TaskFactory, UserFactory
from tests.support.jwz import Message, thread
from users.actor import acting_as
from users.models import Role, User

pytestmark = pytest.mark.django_db
Reason = Delivery.Reason
People = dict[str, User]


@contextmanager
def acting(user: User) -> Iterator[None]:
    request = RequestFactory().post("/")
    request.user = user
    with acting_as(request):
        yield


def twenty_events(
    after_each: Callable[[], object] = lambda: None,
) -> tuple[Task, People]:
    """A task's life: created, assigned, commented on, mentioned, re-dated,
    moved through its statuses; each step by someone, told to the others.
    `after_each` runs after every step (the worker sending, say)."""
    people = {
        "mia": ManagerFactory(username="mia"),
        "carl": ManagerFactory(username="carl"),  # watches the whole project
        "dana": ManagerFactory(username="dana"),
        "ann": UserFactory(username="ann", role=Role.EMPLOYEE),
        "bob": UserFactory(username="bob", role=Role.EMPLOYEE),
    }
    mia, carl, dana, ann, bob = people.values()
    project = ProjectFactory(name="Website")
    set_level(carl, project, NotificationLevel.Level.WATCHING)
    with acting(mia):
        task = TaskFactory(project=project, title="Fix the sign-up form")
    after_each()
    steps: list[tuple[User, Callable[[], object]]] = [
        (mia, lambda: task.assigned_to.add(ann)),
        (ann, lambda: add_comment(task, ann, "Which browser shows it?")),
        (mia, lambda: move_due_date(task, days=3)),
        (ann, lambda: set_status(task, Task.Status.IN_PROGRESS)),
        (mia, lambda: add_comment(task, mia, "@dana can you reproduce it?")),
        (dana, lambda: add_comment(task, dana, "Yes, in Safari only.")),
        (mia, lambda: task.assigned_to.add(bob)),
        (bob, lambda: add_comment(task, bob, "Looking at the CSS now.")),
        (mia, lambda: move_due_date(task, days=2)),
        (ann, lambda: add_comment(task, ann, "@bob the fix is in the branch.")),
        (bob, lambda: set_status(task, Task.Status.PENDING)),
        (carl, lambda: add_comment(task, carl, "Is this blocking the release?")),
        (mia, lambda: set_status(task, Task.Status.IN_PROGRESS)),
        (dana, lambda: add_comment(task, dana, "@ann @bob thanks both.")),
        (mia, lambda: move_due_date(task, days=-1)),
        (mia, lambda: task.assigned_to.remove(bob)),
        (ann, lambda: add_comment(task, ann, "Deployed to staging.")),
        (ann, lambda: set_status(task, Task.Status.COMPLETED)),
        (mia, lambda: add_comment(task, mia, "Thank you all.")),
    ]
    for actor, step in steps:
        with acting(actor):
            step()
        after_each()
    return task, people


def move_due_date(task: Task, days: int) -> None:
    task.due_date += datetime.timedelta(days=days)
    task.save()


def set_status(task: Task, status: str) -> None:
    task.status = status
    task.save()


def send_everything() -> None:
    queued = Delivery.objects.filter(status=Delivery.Status.QUEUED).order_by("pk")
    report = send_batch(list(queued.values_list("pk", flat=True)))
    assert report.failed == report.waiting == 0


def as_read(received: Received) -> Message:
    headers = received.message
    return Message(
        message_id=str(headers["Message-ID"]),
        subject=str(headers["Subject"]),
        references=str(headers["References"] or ""),
        in_reply_to=str(headers["In-Reply-To"] or ""),
    )


def mailboxes(smtp: SMTPServer) -> dict[str, list[Received]]:
    boxes: dict[str, list[Received]] = defaultdict(list)
    for received in smtp.received:
        boxes[received.rcpt_tos[0]].append(received)
    return boxes


def test_twenty_events_make_one_thread_in_every_mailbox(smtp: SMTPServer) -> None:
    task, people = twenty_events(after_each=send_everything)
    assert Activity.objects.filter(task=task).count() == 20  # the twenty events
    boxes = mailboxes(smtp)
    assert set(boxes) == {person.email for person in people.values()}
    for address, received in boxes.items():
        # By their headers alone: the same subject would group them anyway.
        threads = thread((as_read(each) for each in received), by_subject=False)
        assert len(threads) == 1, address
        assert len(list(threads[0].messages())) == len(received) >= 5


def test_the_root_never_changes_and_no_chain_grows(smtp: SMTPServer) -> None:
    task, _ = twenty_events(after_each=send_everything)
    messages = [each.message for each in smtp.received]
    root = f"<task.{task.pk}.{int(task.created_at.timestamp())}@example.com>"
    assert len(messages) >= 40
    assert {str(m["References"]) for m in messages} == {root}
    assert {str(m["In-Reply-To"]) for m in messages} == {root}
    assert len({str(m["Message-ID"]) for m in messages}) == len(messages)
    assert {str(m["Subject"]) for m in messages} == {
        f"[Website] Fix the sign-up form (#{task.pk})"
    }


def test_every_email_of_the_thread_says_its_list_and_why_it_came(
    smtp: SMTPServer,
) -> None:
    task, people = twenty_events(after_each=send_everything)
    for received in smtp.received:
        headers = received.message
        assert (
            headers["List-Id"] == f'"Website" <project-{task.project_id}.example.com>'
        )
        assert headers["Auto-Submitted"] == "auto-generated"
        assert headers["X-Auto-Response-Suppress"] == "All"
        assert headers["X-Tasks-Project"] == "Website"
        assert headers["X-Tasks-Task"] == str(task.pk)
        assert headers["X-Tasks-Reason"] in Reason.values
    carl = [m for m in smtp.received if m.rcpt_tos == [people["carl"].email]]
    reasons = {str(m.message["X-Tasks-Reason"]) for m in carl}
    assert reasons == {Reason.MANAGER, Reason.WATCHING}  # a watcher once he spoke


def test_nobody_is_emailed_about_their_own_action() -> None:
    task, _ = twenty_events()
    actors = dict(Activity.objects.filter(task=task).values_list("pk", "actor_id"))
    told = Delivery.objects.filter(event_key__startswith="activity:")
    assert told.count() > 40
    for event_key, recipient_id in told.values_list("event_key", "recipient_id"):
        _, activity_id, _ = event_key.split(":")
        assert actors[int(activity_id)] != recipient_id


def test_a_deleted_tasks_email_stays_in_its_thread(smtp: SMTPServer) -> None:
    ann = UserFactory(role=Role.EMPLOYEE)
    task = TaskFactory(project=ProjectFactory(name="Ops"), title="Rotate keys")
    with acting(ManagerFactory()):
        task.assigned_to.add(ann)
    root = f"<task.{task.pk}.{int(task.created_at.timestamp())}@example.com>"
    send_everything()
    with acting(ManagerFactory()):
        Task.objects.get(pk=task.pk).delete()
    send_everything()
    assigned, deleted = (each.message for each in smtp.received)
    assert (
        deleted["Subject"] == assigned["Subject"] == f"[Ops] Rotate keys (#{task.pk})"
    )
    assert deleted["References"] == assigned["References"] == root
    assert deleted["List-Id"] == assigned["List-Id"]


def test_a_project_name_that_is_not_ascii_keeps_its_list_id_readable(
    smtp: SMTPServer,
) -> None:
    ann = UserFactory(role=Role.EMPLOYEE)
    project = ProjectFactory(name='Café "Crème", 2030')
    task = TaskFactory(project=project, assigned_to=[ann])
    send_everything()
    [received] = smtp.received
    assert received.message["List-Id"] == (
        f'Café "Crème", 2030 <project-{project.pk}.example.com>'
    )
    assert f"<project-{project.pk}.example.com>" in received.raw.decode()
    assert received.message["Subject"].startswith('[Café "Crème", 2030] ')
    assert task.pk
