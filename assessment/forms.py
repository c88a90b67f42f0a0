"""Forms of the assessment pages. They parse what people type; the rules (one draft
round at a time, only draft rounds change, a stale save is refused, a valid
instrument file) live in assessment.services, whose errors the views attach here."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError

from core.forms import OUT_OF_DATE, GovukDateField, VersionField
from core.limits import EVIDENCE, NOTES, PARTICIPANT, ROUND_DATE, measure_limit

from .instrument_file import MAX_FILE_BYTES, TOO_LARGE_MESSAGE, instrument_file_read
from .models import AgreedScore, EvidenceType, Instrument, Item, Rating, Round
from .services import AgreedScoreInput


class AssessmentForm(forms.Form):
    """A form whose error summary lists each problem once: a hidden field's error (an
    out-of-date version) is the form's own, since the summary lists only visible
    fields; a message Django raises twice for one value (a 20-digit measure is both
    too large and too long) is kept once."""

    def full_clean(self) -> None:
        super().full_clean()
        for name, field in self.fields.items():
            if field.widget.is_hidden and name in self.errors:
                for message in self.errors.pop(name):
                    self.add_error(None, message)
                self.cleaned_data.pop(name, None)
        for errors in self.errors.values():
            seen: set[str] = set()
            kept = []
            for error, message in zip(errors.data, errors, strict=True):
                if str(message) not in seen:
                    seen.add(str(message))
                    kept.append(error)
            errors.data = kept


def notes_field(**kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label="Notes",
        required=False,
        max_length=NOTES.max_length,
        error_messages=NOTES.messages(),
        **kwargs,
    )


class RoundForm(AssessmentForm):
    """The date and notes of a round, when it is started and while it is a draft.
    Editing a round sends back the version the person saw (`round_` given)."""

    held_on = GovukDateField(
        what="date of the round",
        window=ROUND_DATE,
        label="Date of the round",
        help_text="The day the group met to score the tool, for example 27 3 2026.",
    )
    notes = notes_field(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional. Who took part, and anything a reader of the results should know.",
    )
    version = VersionField()

    def __init__(self, *args: Any, submit_label: str = "Save", round_: Round | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if round_ is None:
            del self.fields["version"]
        else:
            self.fields["version"].initial = round_.version
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page draws the <form>
        self.helper.layout = Layout(
            Field("held_on"),
            Field.textarea("notes"),
            *(["version"] if "version" in self.fields else []),
            Submit("submit", submit_label),
        )


class RoundVersionForm(AssessmentForm):
    """A change to the whole round (submit, reopen, lock), with the version of the
    round the person saw."""

    version = VersionField()


@dataclass(frozen=True)
class ScoreChoice:
    value: str
    label: str
    hint: str
    id: str
    checked: bool


class AgreedScoreForm(AssessmentForm):
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
    evidence_text = forms.CharField(
        required=False,
        max_length=EVIDENCE.max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=EVIDENCE.messages(),
    )
    notes = notes_field(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional. For example, what the group disagreed about or needs to find out.",
    )
    version = VersionField()

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
            # The measure's range depends on its unit: a percentage is 0 to 100.
            limit = measure_limit(item.evidence_unit)
            self.fields["evidence_value"] = forms.DecimalField(
                label="Measure",
                help_text=item.evidence_prompt,
                required=False,
                max_digits=12,
                decimal_places=2,
                min_value=limit.minimum,
                max_value=limit.maximum,
                error_messages=limit.form_messages(whole=False),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
            )
            # Keep the fields in the page's order: the measure before its source.
            self.order_fields(["score", "evidence_value", "evidence_text", "notes", "version"])
            evidence_text.label = "Source of the measure"
            evidence_text.help_text = "Optional. Where the figure comes from and when it was measured."
        else:
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


def ratings_seen(ratings: Iterable[Rating]) -> str:
    """The ratings of an item a page shows, as the page sends them back: each rating's
    id and version ("<id>:<version> ...")."""
    return " ".join(f"{rating.public_id}:{rating.version}" for rating in ratings)


class RatingForm(AssessmentForm):
    """One participant's own rating of an item. Entering a name already listed
    changes that person's rating. `seen` carries the item's ratings as the page
    showed them, so a rating someone else added or changed since is not overwritten."""

    participant = forms.CharField(
        label="Name or role",
        max_length=PARTICIPANT.max_length,
        help_text="For example, CAMHS lead. Enter a name already listed to change that rating.",
        error_messages={
            "required": "Enter the name or role of the person giving this rating",
            **PARTICIPANT.messages(),
        },
    )
    score = forms.TypedChoiceField(label="Their score", coerce=int, widget=forms.RadioSelect)
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, item: Item, instrument: Instrument, ratings: Iterable[Rating] = (), **kwargs: Any
    ) -> None:
        kwargs.setdefault("prefix", f"{item.code}-rating")
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["seen"].initial = ratings_seen(ratings)
        score_field: forms.TypedChoiceField = self.fields["score"]  # type: ignore[assignment]
        score_field.choices = [(str(s), str(s)) for s in instrument.scores]
        score_field.error_messages.update(
            required="Choose the score this person gave",
            invalid_choice=f"Choose a score from {instrument.scale_min} to {instrument.scale_max}",
        )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_seen(self) -> dict[UUID, int]:
        seen: dict[UUID, int] = {}
        for pair in self.cleaned_data["seen"].split():
            rating_id, _, version = pair.partition(":")
            try:
                seen[UUID(rating_id)] = int(version)
            except ValueError:
                raise ValidationError(OUT_OF_DATE) from None
        return seen

    def saw(self, ratings: Iterable[Rating]) -> None:
        """After a refusal: the form now stands for the ratings as they are, so saving
        again is a deliberate choice to change the newer rating."""
        data = self.data.copy()  # type: ignore[attr-defined]
        data[self.add_prefix("seen")] = ratings_seen(ratings)
        self.data = data


class RatingRemoveForm(AssessmentForm):
    """Removing a rating, with the version of it the person saw."""

    version = VersionField()


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
