from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from tasks.models import Activity, Comment, Project, Task, TaskDetail


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ["name", "start_date", "task_count"]
    search_fields = ["name", "description"]
    date_hierarchy = "start_date"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        projects: QuerySet[Project] = super().get_queryset(request)
        return projects.annotate(task_count=Count("tasks"))

    @admin.display(description="Tasks", ordering="task_count")
    def task_count(self, project: Project) -> int:
        count: int = getattr(project, "task_count", 0)  # annotated by get_queryset
        return count


class TaskDetailInline(admin.StackedInline[TaskDetail, Task]):
    model = TaskDetail
    can_delete = False
    extra = 1
    max_num = 1


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Task]):
    list_display = ["title", "project", "status", "due_date", "priority", "assignees"]
    list_filter = ["status", "project", "details__priority"]
    list_select_related = ["project", "details"]
    search_fields = ["title", "description", "project__name"]
    date_hierarchy = "due_date"
    autocomplete_fields = ["project"]
    # Checkboxes rather than filter_horizontal, whose script gives a span an
    # aria-label without a role (axe-core: aria-prohibited-attr).
    formfield_overrides = {
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}
    }
    readonly_fields = ["completed_at", "created_at", "updated_at"]
    inlines = [TaskDetailInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return super().get_queryset(request).prefetch_related("assigned_to")

    @admin.display(description="Priority", ordering="details__priority")
    def priority(self, task: Task) -> str:
        detail: TaskDetail | None = getattr(task, "details", None)
        return detail.get_priority_display() if detail else "—"

    @admin.display(description="Assigned to")
    def assignees(self, task: Task) -> str:
        return ", ".join(str(person) for person in task.assigned_to.all()) or "—"


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin[Activity]):
    """A task's history: recorded by the app, read here, never edited."""

    list_display = ["created_at", "task", "actor", "verb", "person", "before", "after"]
    list_filter = ["verb", "created_at"]
    list_select_related = ["task", "actor", "person"]
    search_fields = ["task__title", "actor__username", "person__username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    list_display = ["created_at", "task", "author", "body"]
    list_select_related = ["task", "author"]
    search_fields = ["task__title", "author__username", "body"]
    readonly_fields = ["task", "author", "created_at"]
