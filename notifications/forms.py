"""The preferences form: how much to hear of each project, a choice per kind of
notification, and the digest's time; and one project's level, from its page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from notifications.kinds import KINDS, PREFERENCE_KINDS
from notifications.models import (
    Delivery,
    DigestSchedule,
    NotificationLevel,
    Preference,
)
from notifications.reminders import DEFAULT, MAX_DAYS_BEFORE
from tasks.models import Project
from ui.forms import TailwindFormMixin, style

Level = NotificationLevel.Level
LEVEL_HELP = {
    Level.WATCHING: "Every task of the project.",
    Level.PARTICIPATING: "Tasks you created, are assigned to, watch or were "
    "mentioned in.",
    Level.MENTIONS: "Only when someone mentions you.",
    Level.OFF: "Nothing by email.",
}
FOLLOW_DEFAULT = ""
SITE_WINDOW = ""  # the site's NOTIFICATIONS_COALESCE_SECONDS
WEEKDAYS = [
    (str(day), name)
    for day, name in enumerate(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    )
]


def site_window() -> str:
    """The site's coalescing window, in words."""
    seconds = settings.NOTIFICATIONS_COALESCE_SECONDS
    if seconds <= 0:
        return "at once"
    if seconds % 60:
        return f"{seconds} seconds"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def window_choices() -> list[tuple[str, str]]:
    default = (SITE_WINDOW, f"The default: changes of {site_window()} in one email")
    return [
        default,
        *((str(value), label) for value, label in DigestSchedule.Window.choices),
    ]


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
    coalesce = forms.ChoiceField(
        label="Changes to one task",
        choices=window_choices,
        required=False,
        widget=forms.RadioSelect,
        help_text="Several changes to a task close together come as one email.",
    )
    quiet_from = forms.TimeField(
        label="Quiet hours from",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_until = forms.TimeField(
        label="until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="No notification email in these hours (in your time zone): they "
        "come when the hours end. Emails about your account still come at once.",
    )
    quiet_days = forms.MultipleChoiceField(
        label="Quiet days",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="No notification email on these days; they come the day after.",
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
                # As wide as its longest choice beside the project's name
                # (which wraps), so no choice is cut short.
                widget=forms.Select(attrs={"class": "sm:w-auto sm:shrink-0"}),
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
        for name in [*self.project_field_names(), *PREFERENCE_KINDS]:
            style(self.fields[name].widget)  # added after the mixin styled the rest

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        ends = (cleaned.get("quiet_from"), cleaned.get("quiet_until"))
        if (ends[0] is None) != (ends[1] is None):
            raise forms.ValidationError(
                "Give both ends of your quiet hours, or neither.", code="quiet_hours"
            )
        return cleaned

    def timing_fields(self) -> list[forms.BoundField]:
        return [self["quiet_from"], self["quiet_until"]]

    def timing(self) -> dict[str, Any]:
        """The DigestSchedule fields of when emails go, as chosen."""
        window = self.cleaned_data["coalesce"]
        return {
            "coalesce_seconds": None if window == SITE_WINDOW else int(window),
            "quiet_from": self.cleaned_data["quiet_from"],
            "quiet_until": self.cleaned_data["quiet_until"],
            "quiet_days": "".join(sorted(self.cleaned_data["quiet_days"])),
        }

    def project_field_names(self) -> list[str]:
        return [project_field(str(project.pk)) for project in self.projects]

    def project_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.project_field_names()]

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
