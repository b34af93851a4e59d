"""The preferences form: how much to hear of each project, a choice per kind of
notification, and the digest's time; and one project's level, from its page."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms

from notifications.kinds import KINDS, PREFERENCE_KINDS
from notifications.models import (
    Delivery,
    DigestSchedule,
    NotificationLevel,
    Preference,
)
from notifications.reminders import DEFAULT, MAX_DAYS_BEFORE
from tasks.models import Project
from ui.forms import TailwindFormMixin

Level = NotificationLevel.Level
LEVEL_HELP = {
    Level.WATCHING: "Every task of the project.",
    Level.PARTICIPATING: "Tasks you created, are assigned to, watch or were "
    "mentioned in.",
    Level.MENTIONS: "Only when someone mentions you.",
    Level.OFF: "Nothing by email.",
}
FOLLOW_DEFAULT = ""


def project_field(name: str) -> str:
    return f"project_{name}"


def level_choices(default: str) -> list[tuple[str, str]]:
    """A project's choices: the person's default first, named."""
    return [(FOLLOW_DEFAULT, f"My default ({Level(default).label})"), *Level.choices]


class PreferencesForm(TailwindFormMixin, forms.Form):
    """A default level and one per project; one radio group per kind, named
    after the kind; the digest's time."""

    default_level = forms.ChoiceField(
        label="Every project, unless you choose otherwise below",
        choices=[(level, f"{level.label}: {LEVEL_HELP[level]}") for level in Level],
        widget=forms.RadioSelect,
    )
    digest_time = forms.TimeField(
        label="Send my daily digest at",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In your time zone.",
    )
    time_zone = forms.ChoiceField(
        label="Your time zone",
        choices=[
            (name, name.replace("_", " ")) for name in sorted(available_timezones())
        ],
        help_text="Times on the pages and in your emails are written in it.",
    )

    def __init__(
        self,
        *args: Any,
        modes: dict[str, str],
        projects: list[tuple[Project, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        default = str(self.initial.get("default_level", Level.PARTICIPATING))
        self.projects = [project for project, _ in projects]
        for project, level in projects:
            self.fields[project_field(str(project.pk))] = forms.ChoiceField(
                label=project.name,
                choices=level_choices(default),
                required=False,
                initial=level,
                widget=forms.Select(attrs={"class": "sm:max-w-[15rem]"}),
            )
        labels = dict(Delivery.Kind.choices)
        for kind in PREFERENCE_KINDS:
            self.fields[kind] = forms.ChoiceField(
                label=labels[kind],
                help_text=KINDS[kind].help,
                choices=Preference.Mode.choices,
                widget=forms.RadioSelect,
                initial=modes[kind],
            )

    def project_fields(self) -> list[forms.BoundField]:
        return [self[project_field(str(project.pk))] for project in self.projects]

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[kind] for kind in PREFERENCE_KINDS]

    def modes(self) -> dict[str, str]:
        return {kind: self.cleaned_data[kind] for kind in PREFERENCE_KINDS}

    def levels(self) -> dict[Project, str]:
        """The projects whose level changed, and to what ("": the default)."""
        names = {project_field(str(project.pk)): project for project in self.projects}
        return {
            project: self.cleaned_data[name]
            for name, project in names.items()
            if name in self.changed_data
        }


class ProjectLevelForm(forms.Form):
    """One project's level, from its page ("" follows the person's default)."""

    level = forms.ChoiceField(
        choices=[(FOLLOW_DEFAULT, "My default"), *Level.choices], required=False
    )

    def level_label(self) -> str:
        level = self.cleaned_data["level"]
        return Level(level).label if level else "as your default says"


DAYS_BEFORE_OFF = ""


def days_before_choices() -> list[tuple[str, str]]:
    days = [(str(n), f"{n} days before") for n in range(2, MAX_DAYS_BEFORE + 1)]
    return [(DAYS_BEFORE_OFF, "No"), ("1", "1 day before"), *days]


class RemindersForm(TailwindFormMixin, forms.Form):
    """When to be reminded of one's tasks' due dates (notifications/reminders.py),
    on the preferences page beside PreferencesForm, saved to the same
    DigestSchedule."""

    remind_days_before = forms.TypedChoiceField(
        label="Remind me before the due date",
        choices=days_before_choices,
        coerce=int,
        empty_value=None,
        required=False,
    )
    remind_on_due_day = forms.BooleanField(label="On the due day", required=False)
    remind_overdue = forms.BooleanField(
        label="Every day while a task is overdue", required=False
    )
    remind_at = forms.TimeField(
        label="Send reminders at",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In your time zone; left empty, 09:00.",
        required=False,
    )

    def save(self, schedule: DigestSchedule) -> None:
        for name in self.fields:
            setattr(schedule, name, self.cleaned_data[name])
        schedule.remind_at = schedule.remind_at or DEFAULT.at
        schedule.save(update_fields=list(self.fields))
