"""Forms of the gap analysis pages. They parse what people type; the rules (a need
split that adds up to 100, a reason for a dismissal) live in gaps.services and
sites.services, whose errors the views attach to these forms."""

from decimal import Decimal
from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import HTML, Field, Fieldset, Layout, Size
from django import forms

from core.forms import GovukDateField, VersionField
from core.limits import DISMISS_REASON, DUE_DATE, MANUAL_RANK, OWNER, PDSA_DATE, PDSA_NOTE, NumberLimit
from sites.models import AgeBand
from sites.services import population_limit

from .models import ASSUMPTION_LIMITS, NEED_SPLIT_FIELDS, DecisionStatus, PdsaStage, principle_weight_limit

SPLIT_FIELDS = tuple(NEED_SPLIT_FIELDS)


def _number_input() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"})


def _decimal_input() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"})


# Django fills these messages in with %-formatting (they carry the limit), so a
# literal % in them is doubled; the others are shown as they are.
FORMATTED_CODES = ("min_value", "max_value", "max_digits", "max_decimal_places", "max_whole_digits")


def _messages(limit: NumberLimit, *, whole: bool) -> dict[str, str]:
    messages = limit.messages(whole=whole)
    return {code: m.replace("%", "%%") if code in FORMATTED_CODES else m for code, m in messages.items()}


def _decimal_field(limit: NumberLimit, *, label: str, help_text: str = "") -> forms.DecimalField:
    # No max_digits: its own check would repeat the range message (or show Django's
    # "Ensure that there are no more than ... digits") beside the limit's.
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        min_value=limit.minimum,
        max_value=limit.maximum,
        decimal_places=2,
        widget=_decimal_input(),
        error_messages=_messages(limit, whole=False),
    )


def _whole_number_field(limit: NumberLimit, *, label: str, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=int(limit.minimum),
        max_value=int(limit.maximum),
        widget=_number_input(),
        error_messages=_messages(limit, whole=True),
    )


class PopulationForm(forms.Form):
    """Children and young people living in the site, one field per age band; the
    bands are saved together, against the version of all five."""

    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for band in AgeBand:
            self.fields[self.field_name(band.value)] = _whole_number_field(
                population_limit(band), label=f"Aged {band.label}"
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                *(Field.text(self.field_name(band.value), field_width=10) for band in AgeBand),
                legend="Children and young people living in the site",
                legend_size=Size.MEDIUM,
            ),
            "version",
        )

    @staticmethod
    def field_name(band: str) -> str:
        return "people_" + band.replace("-", "_")

    @classmethod
    def values(cls, people: dict[str, int]) -> dict[str, int]:
        """The population by this form's field names."""
        return {cls.field_name(band): number for band, number in people.items()}

    def people(self) -> dict[str, int]:
        return {band.value: self.cleaned_data[self.field_name(band.value)] for band in AgeBand}


class AssumptionsForm(forms.Form):
    thriving_percent = _decimal_field(
        ASSUMPTION_LIMITS["thriving_percent"],
        label="Thriving share",
        help_text="Percentage of all children and young people whose needs are met by Thriving offers at any one time.",
    )
    advice_percent = _decimal_field(ASSUMPTION_LIMITS["advice_percent"], label="Getting Advice and Signposting")
    help_percent = _decimal_field(ASSUMPTION_LIMITS["help_percent"], label="Getting Help")
    more_help_percent = _decimal_field(ASSUMPTION_LIMITS["more_help_percent"], label="Getting More Help")
    risk_percent = _decimal_field(ASSUMPTION_LIMITS["risk_percent"], label="Getting Risk Support")
    max_wait_weeks = _whole_number_field(
        ASSUMPTION_LIMITS["max_wait_weeks"],
        label="Maximum wait target in weeks",
        help_text="Services that usually wait longer than this count as a gap.",
    )
    self_referral_percent = _whole_number_field(
        ASSUMPTION_LIMITS["self_referral_percent"],
        label="Self-referral target (% of advice and help capacity)",
        help_text="Less of Getting Advice and Signposting and Getting Help capacity than this open to "
        "self-referral counts as a gap.",
    )
    version = VersionField()

    def __init__(self, *args: Any, principles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principles = principles
        for code, label in principles:
            self.fields[self.weight_name(code)] = _decimal_field(principle_weight_limit(label), label=label)
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
            "version",
        )

    @staticmethod
    def weight_name(code: str) -> str:
        return "weight_" + code.replace("-", "_")

    @classmethod
    def values(cls, assumptions: Any, principles: list[tuple[str, str]]) -> dict[str, Any]:
        """The site's assumptions (gaps.models.SiteAssumptions) by this form's field names."""
        values = {name: getattr(assumptions, name) for name in ASSUMPTION_LIMITS}
        weights = assumptions.principle_weights or {}
        for code, _ in principles:
            values[cls.weight_name(code)] = Decimal(str(weights.get(code, 1)))
        return values

    def assumptions_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: self.cleaned_data[name] for name in ASSUMPTION_LIMITS}
        data["principle_weights"] = {code: self.cleaned_data[self.weight_name(code)] for code, _ in self.principles}
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
        max_length=DISMISS_REASON.max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when you dismiss an improvement. Others will read it.",
        error_messages=DISMISS_REASON.messages(),
    )
    owner = forms.CharField(
        label="Owner",
        required=False,
        max_length=OWNER.max_length,
        help_text="The person or team who leads this improvement. Optional.",
        error_messages=OWNER.messages(),
    )
    due_on = GovukDateField(
        what="due date",
        example="31 3 2027",
        window=DUE_DATE,
        label="Due date",
        required=False,
        help_text="Optional. For example, 31 3 2027. Leave empty for no due date.",
    )
    version = VersionField()

    FIELDS = ("status", "dismiss_reason", "owner", "due_on")

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
            "version",
        )

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class PositionForm(forms.Form):
    manual_rank = _whole_number_field(
        MANUAL_RANK,
        label="Position in the site's list",
        help_text="1 puts it first. Other items keep their order by priority around it.",
    )
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "position")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Field.text("manual_rank", field_width=3), "version")


class PositionClearForm(forms.Form):
    """The button that puts an item back in priority order: no position, and the
    version read."""

    manual_rank = forms.IntegerField(label="Position in the site's list", required=False, widget=forms.HiddenInput)
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "position")
        super().__init__(*args, **kwargs)


class PdsaForm(forms.Form):
    stage = forms.ChoiceField(
        label="Stage of the cycle",
        choices=PdsaStage.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose plan, do, study or act"},
    )
    recorded_on = GovukDateField(what="date of the step", window=PDSA_DATE, label="Date", required=True)
    note = forms.CharField(
        label="What happened",
        max_length=PDSA_NOTE.max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was planned, done, learned or changed.",
        error_messages={"required": "Describe what happened in this step", **PDSA_NOTE.messages()},
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
