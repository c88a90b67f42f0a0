"""Forms of the assessment pages. They parse what people type; the rules (one draft
round at a time, only draft rounds change, a stale save is refused, a valid
instrument file) live in assessment.services, whose errors the views attach here."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError

from .instrument_file import MAX_FILE_BYTES, TOO_LARGE_MESSAGE, instrument_file_read
from .models import AgreedScore, EvidenceType, Instrument, Item
from .services import AgreedScoreInput

NOTES_MAX_LENGTH = 4000


class RoundDateField(DateInputField):
    """A GOV.UK date input whose messages say what to do, not what Python found."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["required"] = "Enter the date of the round"
        self.error_messages["incomplete"] = "Enter the date of the round as a day, month and year"

    def compress(self, data_list: Any) -> date | None:
        try:
            value: date | None = super().compress(data_list)
        except ValidationError:
            raise ValidationError("The date of the round must be a real date, like 27 3 2026") from None
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValidationError("Enter the year of the round in full, like 2026")
        return value


class RoundForm(forms.Form):
    """The date and notes of a round, when it is started and while it is a draft."""

    held_on = RoundDateField(
        label="Date of the round",
        help_text="The day the group met to score the tool, for example 27 3 2026.",
        require_all_fields=False,
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional. Who took part, and anything a reader of the results should know.",
        error_messages={"max_length": f"Notes must be {NOTES_MAX_LENGTH:,} characters or fewer"},
    )

    def __init__(self, *args: Any, submit_label: str = "Save", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Field("held_on"),
            Field.textarea("notes"),
            Submit("submit", submit_label),
        )


@dataclass(frozen=True)
class ScoreChoice:
    value: str
    label: str
    hint: str
    id: str
    checked: bool


class AgreedScoreForm(forms.Form):
    """The agreed score of one item, with its evidence and notes. Several are on one
    page, so each takes the item's code as its prefix. `version` is the version of the
    agreed score the person saw; the service refuses the save if it has moved on."""

    score = forms.TypedChoiceField(
        label="Agreed score",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    evidence_value = forms.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
    )
    evidence_text = forms.CharField(
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"Evidence must be {NOTES_MAX_LENGTH:,} characters or fewer"},
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional. For example, what the group disagreed about or needs to find out.",
        error_messages={"max_length": f"Notes must be {NOTES_MAX_LENGTH:,} characters or fewer"},
    )
    version = forms.IntegerField(
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is out of date. Reload the page and try again.",
            "invalid": "This form is out of date. Reload the page and try again.",
            "min_value": "This form is out of date. Reload the page and try again.",
        },
    )

    def __init__(self, *args: Any, item: Item, instrument: Instrument, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", item.code)
        super().__init__(*args, **kwargs)
        self.item = item
        self.instrument = instrument
        low, high = instrument.scale_min, instrument.scale_max
        score_field: forms.TypedChoiceField = self.fields["score"]  # type: ignore[assignment]
        score_field.choices = [*((str(s), self.score_label(s)) for s in instrument.scores), ("", "Not yet scored")]
        score_field.error_messages["invalid_choice"] = f"Choose a score from {low} to {high}, or Not yet scored"
        evidence_text = self.fields["evidence_text"]
        if item.evidence_type == EvidenceType.QUANTITATIVE:
            evidence_value = self.fields["evidence_value"]
            evidence_value.label = "Measure"
            evidence_value.help_text = item.evidence_prompt
            evidence_value.error_messages.update(
                invalid="The measure must be a number, like 45",
                max_digits="The measure must be less than 10,000,000,000",
                max_whole_digits="The measure must be less than 10,000,000,000",
                max_decimal_places="The measure can have at most 2 decimal places, like 45.25",
            )
            evidence_text.label = "Source of the measure"
            evidence_text.help_text = "Optional. Where the figure comes from and when it was measured."
        else:
            del self.fields["evidence_value"]
            evidence_text.label = "Evidence"
            evidence_text.help_text = item.evidence_prompt
        self.helper = FormHelper()
        self.helper.form_tag = False

    def score_label(self, score: int) -> str:
        label = self.instrument.scale_labels.get(str(score), "")
        return f"{score} – {label}" if label else str(score)

    @property
    def is_quantitative(self) -> bool:
        return "evidence_value" in self.fields

    def score_choices(self) -> list[ScoreChoice]:
        """The radios with the item's descriptor of each score as its hint."""
        current = self["score"].value()
        current = "" if current is None else str(current)
        return [
            ScoreChoice(
                value=value,
                label=label,
                hint=self.item.descriptor(int(value)) if value else "",
                id=f"{self['score'].auto_id}_{value or 'none'}",
                checked=value == current,
            )
            for value, label in self.fields["score"].choices  # type: ignore[attr-defined]
        ]

    @staticmethod
    def initial_for(agreed: AgreedScore | None) -> dict[str, Any]:
        if agreed is None:
            return {"version": 0}
        return {
            "score": agreed.score,
            # 35.00 is shown as 35, as it was typed.
            "evidence_value": None if agreed.evidence_value is None else f"{agreed.evidence_value.normalize():f}",
            "evidence_text": agreed.evidence_text,
            "notes": agreed.notes,
            "version": agreed.version,
        }

    def to_input(self) -> AgreedScoreInput:
        data = self.cleaned_data
        return AgreedScoreInput(
            score=data["score"],
            evidence_value=data.get("evidence_value"),
            evidence_text=data["evidence_text"],
            notes=data["notes"],
        )


class RatingForm(forms.Form):
    """One participant's own rating of an item. Entering a name already listed
    changes that person's rating."""

    participant = forms.CharField(
        label="Name or role",
        max_length=80,
        help_text="For example, CAMHS lead. Enter a name already listed to change that rating.",
        error_messages={
            "required": "Enter the name or role of the person giving this rating",
            "max_length": "The name or role must be 80 characters or fewer",
        },
    )
    score = forms.TypedChoiceField(label="Their score", coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: Any, item: Item, instrument: Instrument, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"{item.code}-rating")
        super().__init__(*args, **kwargs)
        self.item = item
        score_field: forms.TypedChoiceField = self.fields["score"]  # type: ignore[assignment]
        score_field.choices = [(str(s), str(s)) for s in instrument.scores]
        score_field.error_messages.update(
            required="Choose the score this person gave",
            invalid_choice=f"Choose a score from {instrument.scale_min} to {instrument.scale_max}",
        )
        self.helper = FormHelper()
        self.helper.form_tag = False


class InstrumentUploadForm(forms.Form):
    """A new version of the tool as a JSON file. The form reads the file; the service
    checks the instrument and loads all of it or nothing."""

    file = forms.FileField(
        label="Instrument file",
        help_text=(
            "A JSON file in the same format as the project's draft: version, name, scale, "
            "parts, principles and items. Give it a version that is not loaded yet."
        ),
        error_messages={
            "required": "Choose the instrument file to load",
            "empty": "The file you chose is empty. Choose the instrument file",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Field("file", css_class="govuk-file-upload"),
            Submit("submit", "Load this version"),
        )
        self.helper.form_tag = False

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        # Checked before reading, so a huge upload is never read into memory.
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(TOO_LARGE_MESSAGE)
        return instrument_file_read(upload.read())
