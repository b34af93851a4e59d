"""Forms for projects and tasks. A task and its detail are edited as one form."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tasks.listing import (
    DEFAULT_SORT,
    SORT_CHOICES,
    UNASSIGNED,
    WHEN_CHOICES,
    ListQuery,
)
from tasks.mentions import MAX_MENTIONS, written_names
from tasks.models import Comment, Project, Task, TaskDetail
from ui.forms import TailwindFormMixin
from users.accounts import assignable_people
from users.models import User

DATE_FORMAT = "%Y-%m-%d"
# Ids are 64-bit integers: a larger one matches nothing, and SQLite cannot even
# be asked about it (OverflowError), so forms refuse it as an invalid choice.
MAX_ID = 2**63 - 1
SEARCH_MAX_LENGTH = 200


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


def person_label(user: User) -> str:
    full_name = user.get_full_name()
    return f"{full_name} ({user.username})" if full_name else user.username


def is_id(value: object) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


class AssigneeField(forms.ModelMultipleChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return person_label(obj)

    def _check_values(self, value: list[str]) -> QuerySet[User]:
        for pk in value:
            if not is_id(pk):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        # Django's own check, not in django-stubs.
        users: QuerySet[User] = super()._check_values(value)  # type: ignore[misc]
        return users


class ProjectForm(TailwindFormMixin, forms.ModelForm[Project]):
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


class TaskForm(TailwindFormMixin, forms.ModelForm[Task]):
    """Task fields plus its TaskDetail's priority and notes, saved together."""

    assigned_to = AssigneeField(
        queryset=assignable_people(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Assign to",
        help_text="Only active accounts an Admin approved can be assigned.",
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
        help_texts = {
            "due_date": "Optional. A date in the past is kept, with a warning.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project = cast(forms.ModelChoiceField[Project], self.fields["project"])
        project.empty_label = "Choose a project"
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
            task: Task = super().save(commit=False)
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


class TaskStatusForm(forms.ModelForm[Task]):
    """The one change an assignee may make to a task."""

    class Meta:
        model = Task
        fields = ["status"]

    def save(self, commit: bool = True) -> Task:
        # completed_at follows status through the pre_save receiver.
        task: Task = self.instance
        task.save(update_fields=["status", "completed_at", "updated_at"])
        return task


class TaskDueDateForm(forms.ModelForm[Task]):
    """A due date set (or cleared) on its own, from the task's page."""

    class Meta:
        model = Task
        fields = ["due_date"]
        widgets = {"due_date": date_input()}

    def save(self, commit: bool = True) -> Task:
        task: Task = self.instance
        task.save(update_fields=["due_date", "updated_at"])
        return task


COMMENT_MAX_LENGTH = 5000


class CommentBodyField(forms.CharField):
    """A comment's text, at most COMMENT_MAX_LENGTH characters.

    Line breaks count once: browsers send a textarea's as CR LF, while its
    maxlength (and the person typing) count one character each.
    """

    def to_python(self, value: Any) -> str:
        text: str = super().to_python(value) or ""
        return text.replace("\r\n", "\n")

    def validate(self, value: str) -> None:
        super().validate(value)
        if len(value) > COMMENT_MAX_LENGTH:
            raise ValidationError(
                f"A comment can be at most {COMMENT_MAX_LENGTH:,} characters; "
                f"this one has {len(value):,}.",
                code="max_length",
            )


class CommentForm(TailwindFormMixin, forms.ModelForm[Comment]):
    """A comment; more than MAX_MENTIONS people @mentioned is a broadcast, refused."""

    body = CommentBodyField(
        label="Add a comment",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH}),
        help_text="The task's watchers are emailed about it, as their email "
        "settings say. Type @ and a username to notify someone who can see it.",
        error_messages={"required": "Write something before posting the comment."},
    )

    class Meta:
        model = Comment
        fields = ["body"]

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if len(written_names(body)) > MAX_MENTIONS:
            raise ValidationError(
                f"Mention at most {MAX_MENTIONS} people in one comment.",
                code="too_many_mentions",
            )
        return body


class TaskFilterForm(TailwindFormMixin, forms.Form):
    """The list's search, filters and sort order.

    Each valid field applies on its own: an invalid one (too long, unknown) shows
    its error and is ignored, the others still filter.
    """

    q = forms.CharField(required=False, label="Search", max_length=SEARCH_MAX_LENGTH)
    assignee = forms.ChoiceField(required=False, label="Assignee")
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *Task.Status.choices]
    )
    priority = forms.ChoiceField(
        required=False, choices=[("", "All priorities"), *TaskDetail.Priority.choices]
    )
    project = forms.ModelChoiceField(
        required=False, queryset=Project.objects.none(), empty_label="All projects"
    )
    sort = forms.ChoiceField(required=False, label="Sort by", choices=SORT_CHOICES)
    when = forms.ChoiceField(required=False, label="Due", choices=WHEN_CHOICES)

    def __init__(
        self,
        *args: Any,
        projects: QuerySet[Project],
        assignees: QuerySet[User] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField[Project], self.fields["project"]
        ).queryset = projects
        self.fields["q"].widget.attrs["placeholder"] = "Search tasks, notes or projects"
        if assignees is None:  # someone who sees only their own tasks
            del self.fields["assignee"]
        else:
            cast(forms.ChoiceField, self.fields["assignee"]).choices = [
                ("", "Anyone"),
                (UNASSIGNED, "Unassigned"),
                *((str(user.pk), person_label(user)) for user in assignees),
            ]

    def value_of(self, name: str) -> Any:
        """The field's cleaned value, or empty when it is missing or invalid."""
        if not self.is_bound or name not in self.fields:
            return ""
        self.is_valid()
        return self.cleaned_data.get(name) or ""

    @property
    def sort_key(self) -> str:
        return self.value_of("sort") or DEFAULT_SORT

    @property
    def sort_label(self) -> str:
        return dict(SORT_CHOICES)[self.sort_key]

    @property
    def is_filtering(self) -> bool:
        names = ("q", "assignee", "status", "priority", "project")
        return any(self.value_of(name) for name in names)

    def query(self) -> ListQuery:
        """Its valid values, as the list's query (tasks/listing.py) reads them."""
        return ListQuery(
            search=self.value_of("q").strip(),
            assignee=str(self.value_of("assignee")),
            status=self.value_of("status"),
            priority=self.value_of("priority"),
            project=self.value_of("project") or None,
            sort=self.sort_key,
            when=self.value_of("when"),
        )
