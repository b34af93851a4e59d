"""The product's form styling, one mixin that every app's forms use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

# aria-invalid is set by Django on fields with errors; the variant paints them red.
INPUT_CLASSES = (
    "block w-full rounded-md border-slate-300 shadow-sm text-base sm:text-sm "
    "focus:border-indigo-500 focus:ring-indigo-500 "
    "aria-[invalid=true]:border-red-500 aria-[invalid=true]:ring-red-500"
)
CHECKBOX_CLASSES = "rounded border-slate-300 text-indigo-600 focus:ring-indigo-500"
# Round, and only as wide as a radio button (not a text field's full width).
RADIO_CLASSES = "shrink-0 border-slate-300 text-indigo-600 focus:ring-indigo-500"

if TYPE_CHECKING:  # the mixin only ever sits in front of a Django form
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class TailwindFormMixin(_FormBase):
    """Gives every widget the product's input styling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            style(field.widget)


def style(widget: forms.Widget) -> None:
    """The product's classes after the widget's own. For a field a form adds
    once the mixin has run (one per project, say)."""
    classes = classes_for(widget)
    widget.attrs["class"] = f"{widget.attrs.get('class', '')} {classes}".strip()


def classes_for(widget: forms.Widget) -> str:
    if is_checkbox(widget):  # before radios: CheckboxSelectMultiple is one
        return CHECKBOX_CLASSES
    if isinstance(widget, forms.RadioSelect):
        return RADIO_CLASSES
    return INPUT_CLASSES


def is_checkbox(widget: forms.Widget) -> bool:
    return isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput)
