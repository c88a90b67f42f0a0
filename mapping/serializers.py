"""What the API reads and writes for a site's register and mapping.

Input serializers only parse and type the request body; the rules (an organisation
or area of another site, ages, shares adding up to more than 100%) are checked in
services.py, which the API calls with the validated data. Related objects are named
by opaque identifiers: organisations by public id, groupings, delivery settings and
referral routes by code, areas by name. Integer keys never leave the database.

Relations to a site's own records (organisation, areas) are looked up only within
the site in the URL (passed in the serializer context), so naming another site's
record reads exactly like naming one that does not exist.
"""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from core import limits
from core.serializers import date_field, integer_field, text_field
from sites.models import Site

from .models import Area, DeliverySetting, Grouping, Offer, Organisation, ReferralRoute, Sector, Service, ServiceStatus
from .selectors import areas_for_site, organisations_for_site, service_is_stale
from .services import SERVICE_REQUIRED


class GroupingSerializer(serializers.ModelSerializer[Grouping]):
    class Meta:
        model = Grouping
        fields = ["code", "label", "short_label", "order", "description"]


class DeliverySettingSerializer(serializers.ModelSerializer[DeliverySetting]):
    class Meta:
        model = DeliverySetting
        fields = ["code", "label"]


class ReferralRouteSerializer(serializers.ModelSerializer[ReferralRoute]):
    class Meta:
        model = ReferralRoute
        fields = ["code", "label"]


class AreaSerializer(serializers.ModelSerializer[Area]):
    class Meta:
        model = Area
        fields = ["name"]


def _blank_or(format_: str, what: str) -> dict[str, Any]:
    return {
        "anyOf": [{"type": "string", "format": format_}, {"type": "string", "maxLength": 0}],
        "description": f"{what}; empty when not given.",
    }


@extend_schema_field(_blank_or("uri", "The web address"))
class WebAddressOutputField(serializers.CharField):
    """A stored web address, which is "" when none was given: the schema says so, or
    a blank one would not match format uri."""


@extend_schema_field(_blank_or("email", "The contact email address"))
class EmailOutputField(serializers.CharField):
    """A stored email address, which is "" when none was given."""


class OrganisationSerializer(serializers.ModelSerializer[Organisation]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    website = WebAddressOutputField(read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "sector", "website", "version", "created_at", "updated_at"]
        read_only_fields = ["version", "created_at", "updated_at"]
        extra_kwargs = {"version": {"help_text": "Rises with every change; the ETag of the organisation."}}


def website_field() -> serializers.URLField:
    return serializers.URLField(
        max_length=limits.WEB_ADDRESS.max_length,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid": "Enter a web address in the correct format, like https://www.example.org",
            **limits.WEB_ADDRESS.messages(),
        },
    )


CHOOSE_SECTOR = {"invalid_choice": f"Choose a sector, one of: {', '.join(Sector.values)}."}
CHOOSE_STATUS = {"invalid_choice": f"Choose a status, one of: {', '.join(ServiceStatus.values)}."}


class OrganisationInputSerializer(serializers.ModelSerializer[Organisation]):
    name = text_field(limits.NAME, error_messages={"required": "Enter the organisation's name"})
    website = website_field()

    class Meta:
        model = Organisation
        fields = ["name", "sector", "website"]
        extra_kwargs = {"sector": {"error_messages": CHOOSE_SECTOR}}


class OfferSerializer(serializers.ModelSerializer[Offer]):
    grouping: serializers.SlugRelatedField[Grouping] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Offer
        fields = ["grouping", "capacity_share", "description", "version"]
        read_only_fields = ["version"]
        extra_kwargs = {"version": {"help_text": "Rises with every change to the offer; the ETag of the offer."}}


class OfferInputSerializer(serializers.Serializer[dict[str, Any]]):
    capacity_share = integer_field(
        limits.CAPACITY_SHARE, help_text="Share of the service's capacity given to this grouping, in per cent."
    )
    description = text_field(limits.OFFER_DESCRIPTION, allow_blank=True, default="")


class ServiceSerializer(serializers.ModelSerializer[Service]):
    website = WebAddressOutputField(read_only=True)
    contact_email = EmailOutputField(read_only=True)
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="public_id", read_only=True
    )
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    delivery_settings: serializers.SlugRelatedField[DeliverySetting] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    referral_routes: serializers.SlugRelatedField[ReferralRoute] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    areas: serializers.SlugRelatedField[Area] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    last_checked_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of whoever last checked the record."
    )
    is_stale = serializers.SerializerMethodField()
    offers = OfferSerializer(many=True, read_only=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "organisation",
            "organisation_name",
            "description",
            "sector",
            "delivery_settings",
            "min_age",
            "max_age",
            "referral_routes",
            "annual_capacity",
            "typical_wait_weeks",
            "areas",
            "status",
            "website",
            "contact_email",
            "contact_phone",
            "last_checked_on",
            "last_checked_by",
            "is_stale",
            "offers",
            "archived_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"version": {"help_text": "Rises with every change to the record; the ETag of the service."}}

    @extend_schema_field(serializers.BooleanField(help_text="Not checked within the last year (or never)."))
    def get_is_stale(self, service: Service) -> bool:
        return service_is_stale(service=service)


def _required(name: str, *, blank: bool = False) -> dict[str, str]:
    message = SERVICE_REQUIRED[name]
    return {"required": message, "null": message, **({"blank": message} if blank else {})}


class ServiceInputSerializer(serializers.ModelSerializer[Service]):
    organisation = serializers.SlugRelatedField(
        slug_field="public_id",
        queryset=Organisation.objects.none(),
        help_text="The id of an organisation in this site's register.",
        error_messages={"does_not_exist": "Choose an organisation from this site's register."},
    )
    delivery_settings = serializers.SlugRelatedField(
        slug_field="code", many=True, required=False, queryset=DeliverySetting.objects.all()
    )
    referral_routes = serializers.SlugRelatedField(
        slug_field="code", many=True, required=False, queryset=ReferralRoute.objects.all()
    )
    areas = serializers.SlugRelatedField(
        slug_field="name",
        many=True,
        required=False,
        queryset=Area.objects.none(),
        help_text="Names of areas of this site.",
        error_messages={"does_not_exist": "Choose areas that belong to this site."},
    )
    # Bounded fields are built from core.limits, as the service form's are, so the API
    # refuses what the page refuses, with the same words; services.py checks them again.
    name = text_field(
        limits.NAME, error_messages={"required": "Enter the service's name", "blank": "Enter the service's name"}
    )
    description = text_field(limits.DESCRIPTION, required=False, allow_blank=True)
    min_age = integer_field(limits.MINIMUM_AGE, error_messages=_required("min_age"))
    max_age = integer_field(limits.MAXIMUM_AGE, error_messages=_required("max_age"))
    annual_capacity = integer_field(
        limits.ANNUAL_CAPACITY,
        required=False,
        allow_null=True,
        help_text="Children and young people the service can see in a year.",
    )
    typical_wait_weeks = integer_field(limits.WAIT_WEEKS, required=False, allow_null=True)
    website = website_field()
    contact_email = serializers.EmailField(
        max_length=limits.EMAIL.max_length,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.org",
            **limits.EMAIL.messages(),
        },
    )
    contact_phone = text_field(limits.PHONE, required=False, allow_blank=True)
    last_checked_on = date_field(limits.LAST_CHECKED_DATE, required=False, allow_null=True)

    class Meta:
        model = Service
        fields = [
            "organisation",
            "name",
            "description",
            "sector",
            "delivery_settings",
            "min_age",
            "max_age",
            "referral_routes",
            "annual_capacity",
            "typical_wait_weeks",
            "areas",
            "status",
            "website",
            "contact_email",
            "contact_phone",
            "last_checked_on",
        ]
        extra_kwargs = {
            "sector": {"error_messages": CHOOSE_SECTOR},
            "status": {"error_messages": CHOOSE_STATUS},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site: Site | None = self.context.get("site")
        if site is not None:
            self.fields["organisation"].queryset = organisations_for_site(site=site)  # type: ignore[attr-defined]
            self.fields["areas"].child_relation.queryset = areas_for_site(site=site)  # type: ignore[attr-defined]
