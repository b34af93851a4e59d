"""The email controls other apps' pages show: muting a task (on its page) and
one project's level (on the project's page).

Template tags, so tasks/ templates can show them while tasks/ code never
imports notifications/ (imports run notifications -> tasks); the forms post to
notifications' own views.
"""

from __future__ import annotations

from typing import Any

from django import template

from notifications import levels, mutes
from notifications.forms import FOLLOW_DEFAULT, LEVEL_HELP
from notifications.models import NotificationLevel
from tasks.models import Project, Task

register = template.Library()
Level = NotificationLevel.Level


@register.inclusion_tag("notifications/_task_mute.html", takes_context=True)
def task_mute_control(context: dict[str, Any], task: Task) -> dict[str, Any]:
    request = context["request"]
    muted = mutes.is_muted(request.user.pk, task.pk)
    return {"task": task, "muted": muted, "request": request}


@register.inclusion_tag("notifications/_project_level.html", takes_context=True)
def project_level_control(context: dict[str, Any], project: Project) -> dict[str, Any]:
    request = context["request"]
    chosen = levels.project_levels(request.user).get(project.pk, FOLLOW_DEFAULT)
    default = levels.default_level(request.user)
    choices = [(FOLLOW_DEFAULT, f"My default ({Level(default).label})", "")]
    choices += [(level.value, level.label, LEVEL_HELP[level]) for level in Level]
    return {
        "project": project,
        "chosen": chosen,
        "choices": choices,
        "request": request,
    }
