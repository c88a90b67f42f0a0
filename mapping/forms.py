from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import HTML, Field, Fieldset, Fluid, Layout, Size, Submit
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from core.forms import VersionField
from sites.models import Site

from .models import MAX_AGE, Grouping, Organisation, Sector, Service
from .selectors import areas_for_site, organisations_for_site


def website_field() -> forms.URLField:
    return forms.URLField(
        label="Website",
        required=False,
        assume_scheme="https",
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false", "autocomplete": "url"}),
        help_text="Optional. For example https://www.example.org",
        error_messages={"invalid": "Enter a web address in the correct format, like https://www.example.org"},
    )


class OrganisationForm(forms.ModelForm[Organisation]):
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
        self.helper.layout = Layout(
            Field.text("name", field_width=Fluid.TWO_THIRDS),
            Field.select("sector"),
            Field.text("website", field_width=Fluid.TWO_THIRDS),
            *(["version"] if "version" in self.fields else []),
            Submit("submit", "Save organisation"),
        )


class ServiceForm(forms.ModelForm[Service]):
    """Register or edit a service. Choices are limited to the site's own
    organisations and areas; the service layer checks the same rule again."""

    website = website_field()
    mark_checked = forms.BooleanField(
        required=False,
        label="I have checked this record is correct today",
        help_text="Sets the record's last checked date to today, in your name.",
    )

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
            "description": forms.Textarea(attrs={"rows": 4}),
            # GOV.UK advises text inputs with a numeric keyboard rather than number inputs.
            "min_age": forms.TextInput(attrs={"inputmode": "numeric"}),
            "max_age": forms.TextInput(attrs={"inputmode": "numeric"}),
            "annual_capacity": forms.TextInput(attrs={"inputmode": "numeric"}),
            "typical_wait_weeks": forms.TextInput(attrs={"inputmode": "numeric"}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        }
        labels = {
            "annual_capacity": "Annual capacity",
            "typical_wait_weeks": "Typical wait in weeks",
            "delivery_settings": "Where the service is delivered",
            "referral_routes": "How children and families can be referred",
            "areas": "Areas served",
        }
        help_texts = {
            "annual_capacity": "Number of children and young people the service can see in a year.",
            "typical_wait_weeks": "Current typical wait from referral to first contact.",
            "areas": "Leave empty if the service covers the whole site.",
            "contact_phone": "Optional.",
            "website": "Optional. For example https://www.example.org",
        }
        error_messages = {
            "name": {"required": "Enter the service's name"},
            "organisation": {
                "required": "Choose the organisation that provides the service",
                "invalid_choice": "Choose an organisation from this site's register",
            },
            "sector": {"required": "Choose the service's sector"},
            "status": {"required": "Choose the service's status"},
            "min_age": {
                "required": "Enter the youngest age the service sees",
                "invalid": "Minimum age must be a whole number, like 5",
                "max_value": f"Minimum age must be {MAX_AGE} or less",
                "min_value": "Minimum age must be 0 or more",
            },
            "max_age": {
                "required": "Enter the oldest age the service sees",
                "invalid": "Maximum age must be a whole number, like 18",
                "max_value": f"Maximum age must be {MAX_AGE} or less",
                "min_value": "Maximum age must be 0 or more",
            },
            "annual_capacity": {
                "invalid": "Annual capacity must be a whole number, like 250",
                "min_value": "Annual capacity must be 0 or more",
            },
            "typical_wait_weeks": {
                "invalid": "Typical wait must be a whole number of weeks, like 6",
                "min_value": "Typical wait must be 0 weeks or more",
                "max_value": "Typical wait must be 260 weeks or less",
            },
            "areas": {"invalid_choice": "Choose areas that belong to this site"},
            "website": {"invalid": "Enter a web address in the correct format, like https://www.example.org"},
            "contact_email": {"invalid": "Enter an email address in the correct format, like name@example.org"},
        }

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations_for_site(site=site)  # type: ignore[attr-defined]
        self.fields["organisation"].empty_label = "Choose an organisation"  # type: ignore[attr-defined]
        self.fields["areas"].queryset = areas_for_site(site=site)  # type: ignore[attr-defined]
        self.fields["sector"].choices = [("", "Choose a sector"), *Sector.choices]  # type: ignore[attr-defined]
        for name in ("min_age", "max_age"):
            self.fields[name].validators += [MinValueValidator(0), MaxValueValidator(MAX_AGE)]
        has_areas = self.fields["areas"].queryset.exists()  # type: ignore[attr-defined]
        if not has_areas:
            del self.fields["areas"]
        is_new = self.instance.pk is None
        if is_new:
            del self.fields["mark_checked"]
        self.helper = FormHelper()
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
            *([] if is_new else [Field.checkbox("mark_checked")]),
            Submit("submit", "Register service" if is_new else "Save changes"),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        min_age, max_age = cleaned.get("min_age"), cleaned.get("max_age")
        if min_age is not None and max_age is not None and min_age > max_age:
            # Attached to the field (rather than left to the model's check constraint,
            # which reports against the whole form) so the message sits by the input.
            self.add_error("max_age", "Maximum age must be the same as or more than the minimum age")
        return cleaned


class OfferForm(forms.Form):
    """The service's offer in one grouping (one row of the mapping form or one
    matrix cell)."""

    capacity_share = forms.IntegerField(
        label="Share of the service's capacity (%)",
        min_value=0,
        max_value=100,
        error_messages={
            "required": "Enter the share of capacity, from 0 to 100",
            "invalid": "Share of capacity must be a whole number, like 40",
            "min_value": "Share of capacity must be 0 or more",
            "max_value": "Share of capacity must be 100 or less",
        },
    )
    description = forms.CharField(
        label="What the service offers in this grouping",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Describe the offer in 500 characters or fewer"},
    )


class ServiceOffersForm(forms.Form):
    """Map a service to any of the five groupings at once."""

    def __init__(self, *args: Any, groupings: list[Grouping], initial_offers: dict[int, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groupings = groupings
        # Rendered by hand in the template; the helper gives the error summary its settings.
        self.helper = FormHelper()
        self.helper.form_tag = False
        for grouping in groupings:
            offer = initial_offers.get(grouping.pk)
            prefix = grouping.code
            self.fields[f"{prefix}-offered"] = forms.BooleanField(
                required=False, label=f"Offers {grouping.label}", initial=offer is not None
            )
            self.fields[f"{prefix}-capacity_share"] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=100,
                label="Share of capacity (%)",
                initial=offer.capacity_share if offer else None,
                error_messages={
                    "invalid": "Share of capacity must be a whole number, like 40",
                    "min_value": "Share of capacity must be 0 or more",
                    "max_value": "Share of capacity must be 100 or less",
                },
            )
            self.fields[f"{prefix}-description"] = forms.CharField(
                required=False,
                max_length=500,
                label="What the service offers in this grouping",
                initial=offer.description if offer else "",
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for grouping in self.groupings:
            share_field = f"{grouping.code}-capacity_share"
            missing_share = cleaned.get(f"{grouping.code}-offered") and cleaned.get(share_field) is None
            if missing_share and share_field not in self.errors:
                self.add_error(
                    share_field,
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
