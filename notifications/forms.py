"""The preferences form: a choice per kind of notification, and the digest time."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms

from notifications.models import PREFERENCE_KINDS, Delivery, Preference
from ui.forms import TailwindFormMixin

HELP = {
    Delivery.Kind.TASK_ASSIGNED: "Someone assigns you a task.",
    Delivery.Kind.TASK_UNASSIGNED: "Someone removes you from a task.",
    Delivery.Kind.TASK_DELETED: "A task assigned to you is deleted.",
    Delivery.Kind.DUE_DATE_CHANGED: "The due date of one of your tasks moves.",
    Delivery.Kind.TASK_COMPLETED: "A task you created is completed.",
    Delivery.Kind.TASK_COMMENTED: "Someone comments on a task you work on.",
}


class PreferencesForm(TailwindFormMixin, forms.Form):
    """One radio group per kind, named after the kind; the digest's time."""

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

    def __init__(self, *args: Any, modes: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Delivery.Kind.choices)
        for kind in PREFERENCE_KINDS:
            self.fields[kind] = forms.ChoiceField(
                label=labels[kind],
                help_text=HELP[kind],
                choices=Preference.Mode.choices,
                widget=forms.RadioSelect,
                initial=modes[kind],
            )
        self.order_fields([*PREFERENCE_KINDS, "digest_time", "time_zone"])

    def modes(self) -> dict[str, str]:
        return {kind: self.cleaned_data[kind] for kind in PREFERENCE_KINDS}
