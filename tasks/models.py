from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import formats


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    start_date = models.DateField()
    # Who sees every task of the project, Employees included (tasks.permissions);
    # Managers manage them on the project's page.
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="projects", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tasks:project", args=[self.pk])


class Task(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        COMPLETED = "COMPLETED", "Completed"

    # The statuses of work still to do (reminders, calendar feeds).
    OPEN = (Status.PENDING, Status.IN_PROGRESS)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Optional: a task may have no due date (it then sorts last).
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="tasks", blank=True
    )
    # Told when the task is completed; empty for tasks made before it was kept.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_tasks",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [models.F("due_date").asc(nulls_last=True), "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tasks:detail", args=[self.pk])


class TaskDetail(models.Model):
    class Priority(models.TextChoices):
        HIGH = "H", "High"
        MEDIUM = "M", "Medium"
        LOW = "L", "Low"

    # DO_NOTHING as in the course: the post_delete receiver on Task removes it.
    task = models.OneToOneField(
        Task, on_delete=models.DO_NOTHING, related_name="details"
    )
    priority = models.CharField(
        max_length=1, choices=Priority.choices, default=Priority.MEDIUM
    )
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Details of {self.task_id}"


class Comment(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=5000)
    # The people it @mentions who could see the task (tasks/mentions.py).
    mentioned = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.task_id}"


class Watch(models.Model):
    """One person's choice to follow a task, or not to (tasks/watching.py).

    The creator and the assignees follow a task without a row. Commenting,
    being mentioned, pressing "Watch" or being added by a Manager writes one
    with watching=True; "Stop watching" writes watching=False, which outlasts
    later assignments: an assignee who stopped watching stays that way until
    they watch, comment or are mentioned again.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="watches")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches"
    )
    watching = models.BooleanField(default=True)
    # The Manager who added this person, if someone else did.
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="one_watch_per_task")
        ]

    def __str__(self) -> str:
        verb = "watches" if self.watching else "stopped watching"
        return f"{self.user_id} {verb} {self.task_id}"


class Activity(models.Model):
    """One thing that happened to a task, who did it and when: the task's history.

    Recorded by tasks/activity.py, which announces each with activity_recorded.
    """

    class Verb(models.TextChoices):
        CREATED = "created", "created the task"
        ASSIGNED = "assigned", "assigned"
        UNASSIGNED = "unassigned", "unassigned"
        STATUS = "status", "changed the status"
        DUE_DATE = "due_date", "changed the due date"
        COMMENTED = "commented", "commented"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=12, choices=Verb.choices)
    # The person assigned or unassigned.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    before = models.CharField(max_length=40, blank=True)  # a status or a date
    after = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["task", "-created_at"])]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.actor or 'Someone'} {self.get_verb_display()} on {self.task_id}"

    @property
    def sentence(self) -> str:
        """What happened, as the task's history says it: "Mia Manager assigned
        Ann Smith". Needs actor and person loaded (select_related) for a list."""
        actor = str(self.actor) if self.actor else "Someone"
        if self.verb in (self.Verb.ASSIGNED, self.Verb.UNASSIGNED):
            return f"{actor} {self.get_verb_display()} {self.person_named()}"
        if self.verb == self.Verb.STATUS:
            change = f"from {status_label(self.before)} to {status_label(self.after)}"
            return f"{actor} changed the status {change}"
        if self.verb == self.Verb.DUE_DATE:
            change = f"from {date_label(self.before)} to {date_label(self.after)}"
            return f"{actor} moved the due date {change}"
        return f"{actor} {self.get_verb_display()}"

    def person_named(self) -> str:
        if self.person_id is None:
            return "someone"  # the account was deleted since
        return "themselves" if self.person_id == self.actor_id else str(self.person)


def status_label(value: str) -> str:
    """A status as recorded, in words; a value no longer known as it was kept."""
    return Task.Status(value).label if value in Task.Status.values else value


def date_label(value: str) -> str:
    """An ISO date as recorded, in the site's date format (project/formats)."""
    if not value:
        return "no date"
    try:
        return formats.date_format(datetime.date.fromisoformat(value))
    except ValueError:
        return value
