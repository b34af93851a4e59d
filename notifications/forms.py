"""The preferences form: a choice per kind of notification, and the digest time."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms

from notifications.kinds import KINDS, PREFERENCE_KINDS
from notifications.models import Delivery, Preference
from ui.forms import TailwindFormMixin


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
                help_text=KINDS[kind].help,
                choices=Preference.Mode.choices,
                widget=forms.RadioSelect,
                initial=modes[kind],
            )
        self.order_fields([*PREFERENCE_KINDS, "digest_time", "time_zone"])

    def modes(self) -> dict[str, str]:
        return {kind: self.cleaned_data[kind] for kind in PREFERENCE_KINDS}
