from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import HTML, Field, Fieldset, Fluid, Layout, Size, Submit
from django import forms

from core import limits
from core.forms import VersionField
from sites.models import Site

from .models import Grouping, Organisation, Sector, Service
from .selectors import areas_for_site, organisations_for_site
from .services import SERVICE_REQUIRED


def website_field() -> forms.URLField:
    return forms.URLField(
        label="Website",
        required=False,
        assume_scheme="https",
        max_length=limits.WEB_ADDRESS.max_length,
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false", "autocomplete": "url"}),
        help_text="Optional. For example https://www.example.org",
        error_messages={
            "invalid": "Enter a web address in the correct format, like https://www.example.org",
            **limits.WEB_ADDRESS.messages(),
        },
    )


def show_version_errors(form: forms.BaseForm, name: str = "version") -> None:
    """A hidden field's errors show nowhere on the page: put the version's in the error
    summary, for the whole form."""
    for message in form.errors.get(name, []):
        form.add_error(None, message)


def whole_number_field(limit: limits.NumberLimit, *, label: str, required: bool = True, **kwargs: Any) -> Any:
    """A whole number within `limit`, typed on a numeric keyboard (GOV.UK advises a text
    input rather than a number input), with the limit's messages."""
    messages = limit.form_messages()
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=int(limit.minimum),
        max_value=int(limit.maximum),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={**messages, **kwargs.pop("error_messages", {})},
        **kwargs,
    )


def text_field(limit: limits.TextLimit, *, label: str, required: bool = False, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit.max_length,
        error_messages={**limit.messages(), **kwargs.pop("error_messages", {})},
        **kwargs,
    )


class OrganisationForm(forms.ModelForm[Organisation]):
    name = text_field(
        limits.NAME, label="Name", required=True, error_messages={"required": "Enter the organisation's name"}
    )
    website = website_field()
    version = VersionField()

    class Meta:
        model = Organisation
        fields = ["name", "sector", "website"]
        error_messages = {
            "name": {"required": "Enter the organisation's name"},
            "sector": {"required": "Choose the organisation's sector"},
            "website": {"invalid": "Enter a web address in the correct format, like https://www.example.org"},
        }
        help_texts = {"website": "Optional. For example https://www.example.org"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["version"]
        else:
            self.fields["version"].initial = self.instance.version
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page draws the <form>
        self.helper.layout = Layout(
            Field.text("name", field_width=Fluid.TWO_THIRDS),
            Field.select("sector"),
            Field.text("website", field_width=Fluid.TWO_THIRDS),
            *(["version"] if "version" in self.fields else []),
            Submit("submit", "Save organisation"),
        )


class ServiceForm(forms.ModelForm[Service]):
    """Register or edit a service. Choices are limited to the site's own
    organisations and areas; the service layer checks the same rule again. Bounded
    fields are built from core.limits, which the service layer checks too."""

    name = text_field(limits.NAME, label="Name", required=True, error_messages={"required": SERVICE_REQUIRED["name"]})
    description = text_field(limits.DESCRIPTION, label="Description", widget=forms.Textarea(attrs={"rows": 4}))
    min_age = whole_number_field(
        limits.MINIMUM_AGE,
        label="Minimum age",
        help_text="In years, 0 to 25.",
        error_messages={"required": SERVICE_REQUIRED["min_age"]},
    )
    max_age = whole_number_field(
        limits.MAXIMUM_AGE,
        label="Maximum age",
        help_text="In years, 0 to 25.",
        error_messages={"required": SERVICE_REQUIRED["max_age"]},
    )
    annual_capacity = whole_number_field(
        limits.ANNUAL_CAPACITY,
        label="Annual capacity",
        required=False,
        help_text="Number of children and young people the service can see in a year.",
    )
    typical_wait_weeks = whole_number_field(
        limits.WAIT_WEEKS,
        label="Typical wait in weeks",
        required=False,
        help_text="Current typical wait from referral to first contact.",
        error_messages={"invalid": "Typical wait must be a whole number of weeks, like 6"},
    )
    website = website_field()
    contact_email = forms.EmailField(
        label="Contact email",
        required=False,
        max_length=limits.EMAIL.max_length,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.org",
            **limits.EMAIL.messages(),
        },
    )
    contact_phone = text_field(
        limits.PHONE,
        label="Contact phone",
        help_text="Optional.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    mark_checked = forms.BooleanField(
        required=False,
        label="I have checked this record is correct today",
        help_text="Sets the record's last checked date to today, in your name.",
    )
    version = VersionField()

    class Meta:
        model = Service
        fields = [
            "name",
            "organisation",
            "sector",
            "description",
            "status",
            "min_age",
            "max_age",
            "delivery_settings",
            "referral_routes",
            "areas",
            "annual_capacity",
            "typical_wait_weeks",
            "website",
            "contact_email",
            "contact_phone",
        ]
        widgets = {
            "delivery_settings": forms.CheckboxSelectMultiple,
            "referral_routes": forms.CheckboxSelectMultiple,
            "areas": forms.CheckboxSelectMultiple,
        }
        labels = {
            "delivery_settings": "Where the service is delivered",
            "referral_routes": "How children and families can be referred",
            "areas": "Areas served",
        }
        help_texts = {
            "areas": "Leave empty if the service covers the whole site.",
        }
        error_messages = {
            "organisation": {
                "required": "Choose the organisation that provides the service",
                "invalid_choice": "Choose an organisation from this site's register",
            },
            "sector": {"required": "Choose the service's sector", "invalid_choice": "Choose a sector from the list"},
            "status": {"required": "Choose the service's status", "invalid_choice": "Choose a status from the list"},
            "delivery_settings": {"invalid_choice": "Choose where the service is delivered from the list"},
            "referral_routes": {"invalid_choice": "Choose how children and families can be referred from the list"},
            "areas": {"invalid_choice": "Choose areas that belong to this site"},
        }

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations_for_site(site=site)  # type: ignore[attr-defined]
        self.fields["organisation"].empty_label = "Choose an organisation"  # type: ignore[attr-defined]
        self.fields["areas"].queryset = areas_for_site(site=site)  # type: ignore[attr-defined]
        self.fields["sector"].choices = [("", "Choose a sector"), *Sector.choices]  # type: ignore[attr-defined]
        has_areas = self.fields["areas"].queryset.exists()  # type: ignore[attr-defined]
        if not has_areas:
            del self.fields["areas"]
        is_new = self.instance.pk is None
        if is_new:
            del self.fields["mark_checked"]
            del self.fields["version"]
        else:
            self.fields["version"].initial = self.instance.version
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page draws the <form>
        self.helper.layout = Layout(
            Fieldset(
                Field.text("name", field_width=Fluid.TWO_THIRDS),
                Field.select("organisation"),
                HTML(
                    '<p class="govuk-body">Provider not listed? '
                    '<a class="govuk-link" href="{% url "mapping:organisation-create" site.slug %}">'
                    "Add an organisation</a> first.</p>"
                ),
                Field.select("sector"),
                Field.textarea("description"),
                Field.select("status"),
                legend="About the service",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.text("min_age", field_width=3),
                Field.text("max_age", field_width=3),
                legend="Ages served",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.checkboxes("delivery_settings", small=True),
                Field.checkboxes("referral_routes", small=True),
                *([Field.checkboxes("areas", small=True)] if has_areas else []),
                legend="Access",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.text("annual_capacity", field_width=5),
                Field.text("typical_wait_weeks", field_width=3),
                legend="Capacity and waits",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.text("website", field_width=Fluid.TWO_THIRDS),
                Field.text("contact_email", field_width=Fluid.TWO_THIRDS),
                Field.text("contact_phone", field_width=20),
                legend="Contact",
                legend_size=Size.MEDIUM,
            ),
            *([] if is_new else [Field.checkbox("mark_checked"), "version"]),
            Submit("submit", "Register service" if is_new else "Save changes"),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        show_version_errors(self)
        min_age, max_age = cleaned.get("min_age"), cleaned.get("max_age")
        if min_age is not None and max_age is not None and min_age > max_age:
            # Attached to the field (rather than left to the model's check constraint,
            # which reports against the whole form) so the message sits by the input.
            self.add_error("max_age", "Maximum age must be the same as or more than the minimum age")
        return cleaned


def share_field(**kwargs: Any) -> Any:
    return whole_number_field(
        limits.CAPACITY_SHARE,
        error_messages={
            "required": "Enter the share of capacity, from 0 to 100",
            "invalid": "Share of capacity must be a whole number, like 40",
        },
        **kwargs,
    )


def offer_description_field(**kwargs: Any) -> forms.CharField:
    return text_field(limits.OFFER_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 2}), **kwargs)


class OfferForm(forms.Form):
    """The service's offer in one grouping: one matrix cell. `version` is the offer's
    version as the person saw it, 0 for an empty cell."""

    capacity_share = share_field(label="Share of the service's capacity (%)")
    description = offer_description_field(label="What the service offers in this grouping")
    version = VersionField()


class ServiceOffersForm(forms.Form):
    """Map a service to any of the five groupings at once. `mapping_version` is the
    version of the service's whole mapping the person saw."""

    mapping_version = VersionField()

    def __init__(
        self, *args: Any, groupings: list[Grouping], initial_offers: dict[int, Any], mapping_version: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.groupings = groupings
        self.fields["mapping_version"].initial = mapping_version
        # Rendered by hand in the template; the helper gives the error summary its settings.
        self.helper = FormHelper()
        self.helper.form_tag = False
        for grouping in groupings:
            offer = initial_offers.get(grouping.pk)
            prefix = grouping.code
            # The labels name the grouping, for the error summary and a stale save's
            # comparison; the template shows shorter ones inside each grouping's fieldset.
            self.fields[f"{prefix}-offered"] = forms.BooleanField(
                required=False, label=f"Offers {grouping.label}", initial=offer is not None
            )
            self.fields[f"{prefix}-capacity_share"] = share_field(
                required=False,
                label=f"Share of capacity in {grouping.label} (%)",
                initial=offer.capacity_share if offer else None,
            )
            self.fields[f"{prefix}-description"] = offer_description_field(
                label=f"What the service offers in {grouping.label}",
                initial=offer.description if offer else "",
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        show_version_errors(self, "mapping_version")
        for grouping in self.groupings:
            share_name = f"{grouping.code}-capacity_share"
            missing_share = cleaned.get(f"{grouping.code}-offered") and cleaned.get(share_name) is None
            if missing_share and share_name not in self.errors:
                self.add_error(
                    share_name,
                    f"Enter the share of capacity the service gives to {grouping.label}, from 0 to 100",
                )
        return cleaned

    def grouping_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "grouping": g,
                "offered": self[f"{g.code}-offered"],
                "capacity_share": self[f"{g.code}-capacity_share"],
                "description": self[f"{g.code}-description"],
            }
            for g in self.groupings
        ]

    def chosen_offers(self) -> list[tuple[Grouping, int, str]]:
        return [
            (g, self.cleaned_data[f"{g.code}-capacity_share"], self.cleaned_data[f"{g.code}-description"])
            for g in self.groupings
            if self.cleaned_data.get(f"{g.code}-offered")
        ]

    def mapping_values(self, offers: dict[int, Any] | None) -> dict[str, Any]:
        """The form's fields for a mapping: `offers` by grouping id (None: what was typed)."""
        values: dict[str, Any] = {}
        for g in self.groupings:
            if offers is None:
                offered = bool(self.cleaned_data.get(f"{g.code}-offered"))
                share = self.cleaned_data.get(f"{g.code}-capacity_share") if offered else None
                text = self.cleaned_data.get(f"{g.code}-description", "") if offered else ""
            else:
                offer = offers.get(g.pk)
                offered = offer is not None
                share = offer.capacity_share if offer is not None else None
                text = offer.description if offer is not None else ""
            values[f"{g.code}-offered"] = offered
            values[f"{g.code}-capacity_share"] = share
            values[f"{g.code}-description"] = text
        return values
