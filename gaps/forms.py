"""Forms of the gap analysis pages. They parse what people type; the rules (a need
split that adds up to 100, a reason for a dismissal) live in gaps.services and
sites.services, whose errors the views attach to these forms."""

from datetime import date
from decimal import Decimal
from typing import Any

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import HTML, Field, Fieldset, Layout, Size
from django import forms
from django.core.exceptions import ValidationError

from sites.models import AgeBand
from sites.services import MAX_PEOPLE_IN_A_BAND

from .models import DecisionStatus, PdsaStage

# The eight THRIVE principles, in the order of the framework. Labels here are used
# only when no instrument is loaded; otherwise the instrument's own labels are shown.
PRINCIPLES = (
    ("common-language", "Common Language"),
    ("needs-led", "Needs-Led"),
    ("shared-decision-making", "Shared Decision Making"),
    ("proactive-prevention", "Proactive Prevention and Promotion"),
    ("partnership-working", "Partnership Working"),
    ("outcome-informed", "Outcome-Informed"),
    ("reducing-stigma", "Reducing Stigma"),
    ("accessibility", "Accessibility"),
)
SPLIT_FIELDS = ("advice_percent", "help_percent", "more_help_percent", "risk_percent")
MAX_WEIGHT = 3


class GovukDateField(DateInputField):
    """A GOV.UK date input whose messages say what to do, not what Python found."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.what = what
        self.error_messages["required"] = f"Enter the {what}"
        self.error_messages["incomplete"] = f"Enter the {what} as a day, month and year"

    def compress(self, data_list: Any) -> date | None:
        try:
            value: date | None = super().compress(data_list)
        except ValidationError:
            raise ValidationError(f"The {self.what} must be a real date, like 31 3 2027") from None
        return value


def _percent_field(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        error_messages={
            "required": f"Enter {label[0].lower()}{label[1:]}, from 0 to 100",
            "invalid": f"{label} must be a number, like 50",
            "min_value": f"{label} must be 0 or more",
            "max_value": f"{label} must be 100 or less",
            "max_decimal_places": f"{label} can have at most 2 decimal places",
            "max_digits": f"{label} must be 100 or less",
        },
    )


def _target_field(
    label: str, help_text: str, *, what: str, maximum: int, unit: str, required: str, example: str
) -> forms.IntegerField:
    """A whole-number target from 0 to `maximum`, with messages that name it."""
    # Django fills in the range messages with %-formatting, so a literal % is doubled.
    shown_unit = unit.replace("%", "%%")
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=0,
        max_value=maximum,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
        error_messages={
            "required": f"Enter the {what} {required}",
            "invalid": f"The {what} must be {example}",
            "min_value": f"The {what} must be 0{shown_unit} or more",
            "max_value": f"The {what} must be {maximum}{shown_unit} or less",
        },
    )


class PopulationForm(forms.Form):
    """Children and young people living in the site, one field per age band."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for band in AgeBand:
            self.fields[self.field_name(band.value)] = forms.IntegerField(
                label=f"Aged {band.label}",
                min_value=0,
                max_value=MAX_PEOPLE_IN_A_BAND,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
                error_messages={
                    "required": f"Enter the number of people aged {band.label}",
                    "invalid": f"The number of people aged {band.label} must be a whole number, like 21000",
                    "min_value": f"The number of people aged {band.label} must be 0 or more",
                    "max_value": f"The number of people aged {band.label} must be {MAX_PEOPLE_IN_A_BAND:,} or less",
                },
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                *(Field.text(self.field_name(band.value), field_width=10) for band in AgeBand),
                legend="Children and young people living in the site",
                legend_size=Size.MEDIUM,
            ),
        )

    @staticmethod
    def field_name(band: str) -> str:
        return "people_" + band.replace("-", "_")

    @classmethod
    def initial_from(cls, population: dict[str, int]) -> dict[str, int]:
        return {cls.field_name(band): people for band, people in population.items()}

    def people(self) -> dict[str, int]:
        return {band.value: self.cleaned_data[self.field_name(band.value)] for band in AgeBand}


class AssumptionsForm(forms.Form):
    thriving_percent = _percent_field(
        "Thriving share",
        "Percentage of all children and young people whose needs are met by Thriving offers at any one time.",
    )
    advice_percent = _percent_field("Getting Advice and Signposting")
    help_percent = _percent_field("Getting Help")
    more_help_percent = _percent_field("Getting More Help")
    risk_percent = _percent_field("Getting Risk Support")
    max_wait_weeks = _target_field(
        "Maximum wait target in weeks",
        "Services that usually wait longer than this count as a gap.",
        what="maximum wait target",
        maximum=104,
        unit=" weeks",
        required="in weeks",
        example="a whole number of weeks, like 18",
    )
    self_referral_percent = _target_field(
        "Self-referral target (% of advice and help capacity)",
        "Less of Getting Advice and Signposting and Getting Help capacity than this open to "
        "self-referral counts as a gap.",
        what="self-referral target",
        maximum=100,
        unit="%",
        required="as a percentage",
        example="a whole number, like 50",
    )

    def __init__(self, *args: Any, principles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principles = principles
        for code, label in principles:
            self.fields[self.weight_name(code)] = forms.DecimalField(
                label=label,
                min_value=0,
                max_value=MAX_WEIGHT,
                max_digits=3,
                decimal_places=2,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
                error_messages={
                    "required": f"Enter a weight for {label}, from 0 to {MAX_WEIGHT}",
                    "invalid": f"The weight for {label} must be a number, like 1.5",
                    "min_value": f"The weight for {label} must be 0 or more",
                    "max_value": f"The weight for {label} must be {MAX_WEIGHT} or less",
                    "max_decimal_places": f"The weight for {label} can have at most 2 decimal places",
                    "max_digits": f"The weight for {label} must be {MAX_WEIGHT} or less",
                },
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                Field.text("thriving_percent", field_width=4),
                legend="Thriving",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                HTML(
                    '<p class="govuk-hint">Of the children and young people estimated to have a probable mental '
                    "disorder, the share whose needs fall in each grouping. The four must add up to 100.</p>"
                ),
                *(Field.text(name, field_width=4) for name in SPLIT_FIELDS),
                legend="How need divides across the four help groupings (%)",
                legend_size=Size.MEDIUM,
                css_id="need-split",
            ),
            Fieldset(
                Field.text("max_wait_weeks", field_width=3),
                Field.text("self_referral_percent", field_width=3),
                legend="Access targets",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                *(Field.text(self.weight_name(code), field_width=3) for code, _ in principles),
                legend="Weight of each THRIVE principle in the priority (0 to 3)",
                legend_size=Size.MEDIUM,
            ),
        )

    @staticmethod
    def weight_name(code: str) -> str:
        return "weight_" + code.replace("-", "_")

    @classmethod
    def initial_from(
        cls, *, values: dict[str, Any], weights: dict[str, Any], principles: list[tuple[str, str]]
    ) -> dict[str, Any]:
        initial = dict(values)
        for code, _ in principles:
            initial[cls.weight_name(code)] = Decimal(str(weights.get(code, 1)))
        return initial

    def assumptions_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: self.cleaned_data[name] for name in ("thriving_percent", *SPLIT_FIELDS)}
        data["max_wait_weeks"] = self.cleaned_data["max_wait_weeks"]
        data["self_referral_percent"] = self.cleaned_data["self_referral_percent"]
        # Stored as JSON numbers; the analysis reads them back as decimals.
        data["principle_weights"] = {
            code: float(self.cleaned_data[self.weight_name(code)]) for code, _ in self.principles
        }
        return data


class DecisionForm(forms.Form):
    status = forms.ChoiceField(
        label="Your decision",
        choices=[
            (DecisionStatus.ACCEPTED.value, "Accept: the site will work on this improvement"),
            (DecisionStatus.DISMISSED.value, "Dismiss"),
            (DecisionStatus.OPEN.value, "Not yet decided"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose accept, dismiss or not yet decided"},
    )
    dismiss_reason = forms.CharField(
        label="Why is it dismissed?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when you dismiss an improvement. Others will read it.",
        error_messages={"max_length": "Give the reason in 2,000 characters or fewer"},
    )
    owner = forms.CharField(
        label="Owner",
        required=False,
        max_length=120,
        help_text="The person or team who leads this improvement. Optional.",
        error_messages={"max_length": "Enter the owner in 120 characters or fewer"},
    )
    due_on = GovukDateField(
        what="due date",
        label="Due date",
        required=False,
        require_all_fields=False,
        help_text="Optional. For example, 31 3 2027. Leave empty for no due date.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decision")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field.radios("status", legend_size=Size.SMALL),
            Field.textarea("dismiss_reason", rows=3),
            Field.text("owner", field_width=20),
            Field("due_on"),
        )


class PositionForm(forms.Form):
    manual_rank = forms.IntegerField(
        label="Position in the site's list",
        min_value=1,
        max_value=999,
        help_text="1 puts it first. Other items keep their order by priority around it.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
        error_messages={
            "required": "Enter a position, like 1",
            "invalid": "The position must be a whole number, like 1",
            "min_value": "The position must be 1 or more",
            "max_value": "The position must be 999 or less",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "position")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Field.text("manual_rank", field_width=3))


class PdsaForm(forms.Form):
    stage = forms.ChoiceField(
        label="Stage of the cycle",
        choices=PdsaStage.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose plan, do, study or act"},
    )
    recorded_on = GovukDateField(what="date of the step", label="Date", required=True, require_all_fields=False)
    note = forms.CharField(
        label="What happened",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was planned, done, learned or changed.",
        error_messages={
            "required": "Describe what happened in this step",
            "max_length": "Describe the step in 4,000 characters or fewer",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "pdsa")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field.radios("stage", legend_size=Size.SMALL, inline=True, small=True),
            Field("recorded_on"),
            Field.textarea("note", rows=4),
        )
