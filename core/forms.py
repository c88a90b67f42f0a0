"""Form pieces every app's pages share: a GOV.UK date input that never fails on odd
input, the hidden version a stale save is checked against, and what a page shows
when someone else saved first."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from crispy_forms_gds.fields import DateInputField
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model

from .limits import DateWindow
from .versioning import StaleSave

OUT_OF_DATE = "This form is out of date. Reload the page and try again."


class GovukDateField(DateInputField):
    """A GOV.UK date input (day, month, year) whose messages say what to do, and which
    turns any digits at all (a 20-digit year) into a field error, never an exception.
    With a `window`, the date must also fall inside it."""

    def __init__(self, *, what: str, example: str = "27 3 2026", window: DateWindow | None = None, **kwargs: Any):
        kwargs.setdefault("require_all_fields", False)
        super().__init__(**kwargs)
        self.what = what
        self.example = example
        self.window = window
        self.error_messages["required"] = f"Enter the {what}"
        self.error_messages["incomplete"] = f"Enter the {what} as a day, month and year"

    def compress(self, data_list: Any) -> date | None:
        day, month, year = data_list
        if not (day and month and year):
            return None
        invalid = ValidationError(f"The {self.what} must be a real date, like {self.example}")
        if len(str(day)) > 2 or len(str(month)) > 2 or len(str(year)) != 4:
            raise invalid
        try:
            value = date(day=int(day), month=int(month), year=int(year))
        except (ValueError, OverflowError):
            raise invalid from None
        if self.window is not None:
            errors = self.window.errors(value)
            if errors:
                raise ValidationError(errors)
        return value


class VersionField(forms.IntegerField):
    """The version of the object the person saw, sent back with their change."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("error_messages", {"required": OUT_OF_DATE, "invalid": OUT_OF_DATE, "min_value": OUT_OF_DATE})
        super().__init__(**kwargs)


@dataclass(frozen=True)
class StaleRow:
    label: str
    theirs: str
    yours: str


@dataclass(frozen=True)
class StaleNotice:
    """What a page shows when a save was refused because someone else saved first:
    the message, and each field where their saved value differs from what this
    person typed (which stays in the form)."""

    message: str
    rows: list[StaleRow]


def display_value(value: Any, field: forms.Field | None = None) -> str:
    """A stored or typed value as a reader would name it."""
    if value is None or value == "" or value == [] or value == ():
        return "Not given"
    choices = getattr(field, "choices", None)
    if choices is not None and not isinstance(value, Model | list | tuple | set) and not hasattr(value, "all"):
        labels = {str(k): str(v) for k, v in choices if not isinstance(v, list | tuple)}
        return labels.get(str(value), str(value))
    if hasattr(value, "all"):
        value = list(value.all())
    if isinstance(value, list | tuple | set):
        shown = sorted(str(v) for v in value)
        return ", ".join(shown) if shown else "Not given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _same(theirs: Any, yours: Any) -> bool:
    return display_value(theirs) == display_value(yours)


def stale_notice(
    form: forms.BaseForm,
    error: StaleSave,
    *,
    theirs: Mapping[str, Any],
    yours: Mapping[str, Any] | None = None,
    version_field: str = "version",
) -> StaleNotice:
    """Prepare a bound form refused as stale to be shown again.

    The form keeps what the person typed and shows the refusal in its error summary;
    its hidden version becomes the current one, so saving again is a deliberate choice
    to replace the other person's values. Show the notice with
    templates/includes/stale_notice.html.
    `theirs` maps field names to the saved values now; `yours` to what this person
    sent (the form's cleaned data by default). Only fields that differ are listed.
    """
    data = form.data.copy()  # type: ignore[attr-defined]
    data[form.add_prefix(version_field)] = str(error.version)
    form.data = data
    form.add_error(None, error.messages[0])
    yours = yours if yours is not None else getattr(form, "cleaned_data", {})
    rows = []
    for name, their_value in theirs.items():
        field = form.fields.get(name)
        your_value = yours.get(name)
        if _same(their_value, your_value):
            continue
        label = str(field.label) if field is not None and field.label else name.replace("_", " ").capitalize()
        rows.append(
            StaleRow(label=label, theirs=display_value(their_value, field), yours=display_value(your_value, field))
        )
    return StaleNotice(message=error.messages[0], rows=rows)


def model_values(instance: Model | None, names: Iterable[str]) -> dict[str, Any]:
    """The saved values of a model's fields (many-to-many as lists), for stale_notice."""
    if instance is None:
        return {name: None for name in names}
    values: dict[str, Any] = {}
    for name in names:
        value: Any = getattr(instance, name, None)
        values[name] = list(value.all()) if hasattr(value, "all") else value
    return values


def add_service_errors(form: forms.BaseForm, error: ValidationError, *, general_field: str | None = None) -> None:
    """Show a rule broken in the service layer against the field it concerns; errors
    for fields the form does not have go on `general_field` (None: the whole form).
    A message already shown for that field is not repeated."""
    items: list[tuple[str | None, Any]] = (
        list(error.error_dict.items()) if hasattr(error, "error_dict") else [(None, error.error_list)]
    )
    for name, field_errors in items:
        target = name if name in form.fields else general_field
        shown = set(form.errors.get(target or NON_FIELD_ERRORS, []))
        fresh = [message for message in ValidationError(field_errors).messages if message not in shown]
        if fresh:
            form.add_error(target, fresh)
