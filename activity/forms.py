from typing import Any, cast

from crispy_forms.helper import FormHelper
from django import forms

from accounts.models import User

from .selectors import activity_kinds


class ActivityFilterForm(forms.Form):
    """Narrow the site's activity to one kind of record or one person. Read from the
    query string, so a value that is not on the list is an error the page shows,
    never an empty list that looks like no activity."""

    kind = forms.ChoiceField(
        label="Kind of record",
        required=False,
        error_messages={"invalid_choice": "Choose a kind of record from the list."},
    )
    person = forms.ChoiceField(
        label="Changed by",
        required=False,
        error_messages={"invalid_choice": "Choose a person from the list."},
    )

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {user.username: user for user in people}
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", "All kinds"), *activity_kinds()]
        cast(forms.ChoiceField, self.fields["person"]).choices = [
            ("", "Anyone"),
            *[(user.username, str(user)) for user in people],
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "govuk-select"
        # The page lays the filters out itself; the helper lets the error summary show.
        self.helper = FormHelper()
        self.helper.form_tag = False

    @property
    def chosen_kinds(self) -> list[str]:
        kind = self.cleaned_data.get("kind")
        return [kind] if kind else []

    @property
    def chosen_person(self) -> User | None:
        return self.people.get(self.cleaned_data.get("person") or "")

    @property
    def filtered(self) -> bool:
        return bool(self.chosen_kinds or self.chosen_person)
