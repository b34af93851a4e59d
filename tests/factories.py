from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TypeVar

import factory
from django.contrib.auth.models import Group
from django.db.models import Model
from django.utils import timezone

from notifications.models import Delivery
from tasks.models import Project, Task, TaskDetail
from users.models import Role, User

M = TypeVar("M", bound=Model)


def joins_role(default: str | None) -> factory.PostGeneration:
    """`role=...` on any user factory adds the user to that role's group."""

    def join(user: User, create: bool, extracted: str | None, **kw: object) -> None:
        role = extracted or default
        if create and role:
            # get_or_create: transactional tests flush the data migration's groups.
            user.groups.add(Group.objects.get_or_create(name=role)[0])

    return factory.PostGeneration(join)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    is_active = True
    password = factory.django.Password("Secret#123")
    role = joins_role(None)


class ManagerFactory(UserFactory):
    role = joins_role(Role.MANAGER)


class EmployeeFactory(UserFactory):
    role = joins_role(Role.EMPLOYEE)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    description = "A project"
    start_date = factory.LazyFunction(lambda: timezone.localdate())


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    description = "Something to do"
    due_date = factory.LazyFunction(
        lambda: timezone.localdate() + datetime.timedelta(days=7)
    )

    @factory.post_generation
    def assigned_to(
        self, create: bool, extracted: list[User] | None, **kw: object
    ) -> None:
        if create and extracted:
            self.assigned_to.add(*extracted)


class TaskDetailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskDetail

    task = factory.SubFactory(TaskFactory)
    priority = TaskDetail.Priority.MEDIUM
    notes = ""


class DeliveryFactory(factory.django.DjangoModelFactory):
    """An outbox row as a receiver would record it (queued, due now)."""

    class Meta:
        model = Delivery

    kind = "task_deleted"
    recipient = factory.SubFactory(UserFactory, role=Role.EMPLOYEE)
    event_key = factory.Sequence(lambda n: f"test-event:{n}")
    context = factory.LazyFunction(
        lambda: {"task_id": 1, "title": "Old task", "project": "P", "due_date": ""}
    )


def queued_deliveries(count: int = 1, **kwargs: object) -> list[Delivery]:
    """Outbox rows as receivers record them (Task deleted: no live task needed)."""
    return DeliveryFactory.create_batch(count, **kwargs)


def assignment_deliveries(count: int) -> list[Delivery]:
    """Assignment emails for as many tasks, as assigning records them: the
    builder needs each live task, and the worker checks its reader is still
    assigned."""
    deliveries = []
    for task in TaskFactory.create_batch(count):
        person = UserFactory(role=Role.EMPLOYEE)
        task.assigned_to.add(person)
        deliveries.append(Delivery.objects.get(recipient=person))
    return deliveries


def pks(instances: Iterable[Model]) -> list[int]:
    return [instance.pk for instance in instances]


def fresh(instance: M) -> M:
    """The instance as the database has it now."""
    instance.refresh_from_db()
    return instance
