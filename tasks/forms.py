"""Forms for projects and tasks. A task and its detail are edited as one form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from tasks.models import Project, Task, TaskDetail
from ui.forms import TailwindFormMixin
from users.models import User

DATE_FORMAT = "%Y-%m-%d"
# Ids are 64-bit; a bigger number is no one's id, and SQLite cannot even compare it.
ID_RANGE = range(-(2**63), 2**63)
SEARCH_MAX_LENGTH = 200


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


def assignable_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def beyond_id_range(value: object) -> bool:
    """An integer no id can be; anything not an integer is left to Django."""
    try:
        return int(str(value).strip()) not in ID_RANGE
    except ValueError:
        return False


class AssigneeField(forms.ModelMultipleChoiceField):
    def _check_values(self, value: Any) -> QuerySet[User]:
        for pk in value:
            if beyond_id_range(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": f"{str(pk)[:20]}…"},
                )
        return super()._check_values(value)

    def label_from_instance(self, obj: User) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


class ProjectForm(TailwindFormMixin, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description", "start_date"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "start_date": date_input(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("start_date", timezone.localdate())


class TaskForm(TailwindFormMixin, forms.ModelForm):
    """Task fields plus its TaskDetail's priority and notes, saved together."""

    assigned_to = AssigneeField(
        queryset=assignable_users(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Assign to",
        help_text="Only active accounts can be assigned.",
    )
    priority = forms.ChoiceField(
        choices=TaskDetail.Priority.choices, initial=TaskDetail.Priority.MEDIUM
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = Task
        fields = [
            "title",
            "description",
            "due_date",
            "project",
            "status",
            "assigned_to",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "due_date": date_input(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].empty_label = "Choose a project"
        detail = self._existing_detail()
        if detail is not None:
            self.initial.setdefault("priority", detail.priority)
            self.initial.setdefault("notes", detail.notes)

    def _existing_detail(self) -> TaskDetail | None:
        if not self.instance.pk:
            return None
        return TaskDetail.objects.filter(task=self.instance).first()

    def save(self, commit: bool = True) -> Task:
        """Always saves: a task, its detail and its assignees belong together."""
        with transaction.atomic():
            task = super().save(commit=False)
            task.save()
            TaskDetail.objects.update_or_create(
                task=task,
                defaults={
                    "priority": self.cleaned_data["priority"],
                    "notes": self.cleaned_data["notes"],
                },
            )
            # set() adds only the users not yet assigned, so m2m_changed's
            # post_add names exactly the newly assigned people.
            task.assigned_to.set(self.cleaned_data["assigned_to"])
        return task


class TaskStatusForm(forms.ModelForm):
    """The one change an assignee may make to a task."""

    class Meta:
        model = Task
        fields = ["status"]

    def save(self, commit: bool = True) -> Task:
        # completed_at follows status through the pre_save receiver.
        self.instance.save(update_fields=["status", "completed_at", "updated_at"])
        return self.instance


class TaskFilterForm(TailwindFormMixin, forms.Form):
    # SQLite refuses LIKE patterns past 50,000 characters; no search needs 200.
    q = forms.CharField(required=False, label="Search", max_length=SEARCH_MAX_LENGTH)
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *Task.Status.choices]
    )
    project = forms.ModelChoiceField(
        required=False, queryset=Project.objects.none(), empty_label="All projects"
    )

    def __init__(self, *args: Any, projects: QuerySet[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["q"].widget.attrs["placeholder"] = "Search tasks, notes or projects"

    def filter(self, tasks: QuerySet[Task]) -> QuerySet[Task]:
        """The tasks matching the valid filters; invalid ones are ignored."""
        if not self.is_valid():
            return tasks
        data = self.cleaned_data
        if data["status"]:
            tasks = tasks.filter(status=data["status"])
        if data["project"]:
            tasks = tasks.filter(project=data["project"])
        return search_tasks(tasks, data["q"].strip())


def search_tasks(tasks: QuerySet[Task], text: str) -> QuerySet[Task]:
    if not text:
        return tasks
    return tasks.filter(
        Q(title__icontains=text)
        | Q(description__icontains=text)
        | Q(project__name__icontains=text)
        | Q(details__notes__icontains=text)
    )
