"""Mail merge: an email about a task, rendered once for everyone it tells the
same, is byte for byte the email each reader would get alone."""

from __future__ import annotations

import datetime
import random
import re
import string
from collections.abc import Iterator

import pytest
import time_machine
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.emails import build_message, tasks_for
from notifications.kinds import KINDS, TASK_KINDS
from notifications.merge import (
    MARKERS,
    POLICY,
    Drafts,
    MergedMessage,
    header_line,
    wire_bytes,
)
from notifications.models import Delivery
from notifications.previews import SNAPSHOT
from tasks.models import Task
from tests.factories import DeliveryFactory, TaskDetailFactory, TaskFactory, UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db
# What differs between two builds of one email: when, and the MIME boundaries.
DATE = re.compile(rb"^Date: .*$|={15}[0-9]+==", re.MULTILINE)


@pytest.fixture(autouse=True)
def still_clock() -> Iterator[None]:
    """One moment for the draft and the email built alone: a calendar event's
    DTSTAMP says when it was made, to the second."""
    with time_machine.travel(
        datetime.datetime(2030, 3, 1, 9, tzinfo=datetime.UTC), tick=False
    ):
        yield


@pytest.fixture(autouse=True)
def inbound(settings: DjangoSettings) -> None:
    """Every personal value an email can have: Reply-To and a bounce address too."""
    settings.INBOUND_DOMAIN = "in.tasks.example.org"


def readers_of(kind: str, task: Task, count: int = 3) -> list[Delivery]:
    """One change to `task`, told to `count` people, as a receiver records it."""
    snapshot = {
        **SNAPSHOT,
        **KINDS[kind].preview.context,
        "task_id": task.pk,
        "title": task.title,
    }
    return [
        DeliveryFactory(
            kind=kind,
            recipient=UserFactory(role=Role.EMPLOYEE),
            context=snapshot,
            event_key=f"{kind}:{task.pk}:{n}",
        )
        for n in range(count)
    ]


def alone(delivery: Delivery) -> bytes:
    return DATE.sub(b"", build_message(delivery).message().as_bytes(linesep="\r\n"))


@pytest.mark.parametrize("kind", sorted(TASK_KINDS))
def test_a_filled_draft_is_the_email_its_reader_would_get_alone(kind: str) -> None:
    task = TaskFactory(title="Ship the “new” site & <check> it")
    TaskDetailFactory(task=task)
    readers = readers_of(kind, task)
    drafts, tasks = Drafts(), tasks_for(readers)
    merged = [build_message(reader, tasks, drafts=drafts) for reader in readers]
    assert len(drafts.drafts) == 1  # rendered once for the three of them
    for reader, message in zip(readers, merged, strict=True):
        assert isinstance(message, MergedMessage)
        assert message.raw is not None, "the markers came through the MIME"
        assert DATE.sub(b"", wire_bytes(message)) == alone(reader)
        assert message.from_email == build_message(reader).from_email


def test_each_reader_s_email_has_mime_boundaries_of_its_own() -> None:
    readers = readers_of("task_assigned", TaskFactory())
    drafts, tasks = Drafts(), tasks_for(readers)
    sent = [wire_bytes(build_message(r, tasks, drafts=drafts)) for r in readers]
    boundaries = [set(re.findall(rb'boundary="([^"]+)"', each)) for each in sent]
    assert all(len(found) == 2 for found in boundaries)  # mixed, alternative
    assert not boundaries[0] & boundaries[1] and not boundaries[1] & boundaries[2]


def test_no_marker_is_left_in_what_a_reader_gets() -> None:
    task = TaskFactory()
    readers = readers_of("task_assigned", task)
    drafts, tasks = Drafts(), tasks_for(readers)
    for reader in readers:
        message = build_message(reader, tasks, drafts=drafts)
        sent = wire_bytes(message).decode()
        for mark in MARKERS.values():
            assert mark not in sent
        assert reader.recipient.email in message.to


def test_readers_told_for_different_reasons_get_their_own_footer() -> None:
    task = TaskFactory()
    assignee, watcher = readers_of("task_commented", task, count=2)
    assignee.reason, watcher.reason = "assigned", "watching"
    drafts, tasks = Drafts(), tasks_for([assignee, watcher])
    for reader in (assignee, watcher):
        sent = wire_bytes(build_message(reader, tasks, drafts=drafts))
        assert DATE.sub(b"", sent) == alone(reader)
    assert len(drafts.drafts) == 2


def test_an_address_that_is_not_ascii_gets_the_mime_django_builds() -> None:
    task = TaskFactory()
    [reader] = readers_of("task_assigned", task, count=1)
    reader.recipient.email = "zoë@example.com"
    message = build_message(reader, tasks_for([reader]), drafts=Drafts())
    assert isinstance(message, MergedMessage) and message.raw is None
    assert DATE.sub(b"", wire_bytes(message)) == alone(reader)


@pytest.mark.parametrize("seed", range(3))
def test_a_header_filled_in_is_written_as_the_email_package_writes_it(
    seed: int,
) -> None:
    """Short values go in as they are (nothing to fold), long ones folded:
    either way the reader's header reads as Django's MIME would write it."""
    pick = random.Random(seed)
    letters = string.ascii_letters + string.digits + ' \t<>@.:;,=?-_/"()'
    for _ in range(2000):
        header = pick.choice(["To", "Reply-To", "Message-ID", "List-Unsubscribe"])
        value = "".join(pick.choice(letters) for _ in range(pick.randint(0, 120)))
        assert header_line(header, value) == POLICY.fold_binary(header, value)
