"""One set of limits for the register (core.limits): the page and the API refuse the
same values with the same plain message, the service layer refuses them from any
caller, and nothing is saved."""

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mapping import services
from mapping.models import Offer, Organisation, Service
from sites.models import Site
from tests.api import send
from tests.factories import OfferFactory, OrganisationFactory, ServiceFactory
from tests.pages import form_data

pytestmark = pytest.mark.django_db

HUGE = 9_223_372_036_854_775_807

# field, value, the message page and API both give
SERVICE_LIMITS = [
    ("min_age", 26, "Minimum age must be 25 or less"),
    ("min_age", -1, "Minimum age must be 0 or more"),
    ("max_age", 30, "Maximum age must be 25 or less"),
    ("annual_capacity", HUGE, "Annual capacity must be 1,000,000 or less"),
    ("annual_capacity", 1_000_001, "Annual capacity must be 1,000,000 or less"),
    ("annual_capacity", -5, "Annual capacity must be 0 or more"),
    ("typical_wait_weeks", 261, "Typical wait must be 260 weeks or less"),
    ("name", "N" * 161, "The name must be 160 characters or fewer"),
    ("description", "D" * 4001, "The description must be 4,000 characters or fewer"),
    ("contact_phone", "0" * 41, "The phone number must be 40 characters or fewer"),
    ("website", "https://example.org/" + "a" * 190, "The web address must be 200 characters or fewer"),
]


@pytest.fixture
def organisation(site_a: Site) -> Organisation:
    return OrganisationFactory(site=site_a, name="Northbridge Youth Trust")


def page_body(organisation: Organisation, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Peer Support Drop-in",
        "organisation": organisation.pk,
        "sector": "voluntary",
        "status": "active",
        "min_age": "11",
        "max_age": "18",
    }
    body.update({key: str(value) for key, value in overrides.items()})
    return body


def api_body(organisation: Organisation, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Peer Support Drop-in",
        "organisation": str(organisation.public_id),
        "sector": "voluntary",
        "status": "active",
        "min_age": 11,
        "max_age": 18,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("field", "value", "message"), SERVICE_LIMITS, ids=[f"{f}={str(v)[:12]}" for f, v, _ in SERVICE_LIMITS]
)
def test_page_and_api_refuse_a_service_value_out_of_range_with_the_same_message(
    client_for: Any,
    api_for: Any,
    commissioner_a: User,
    organisation: Organisation,
    field: str,
    value: Any,
    message: str,
) -> None:
    page = client_for(commissioner_a).post(
        reverse("mapping:service-create", kwargs={"site_slug": organisation.site.slug}),
        page_body(organisation, **{field: value}),
    )
    api = api_for(commissioner_a).post(
        reverse("api-service-list", kwargs={"site_slug": organisation.site.slug}),
        api_body(organisation, **{field: value}),
        format="json",
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count(message) == 2  # once in the error summary, once by the field
    assert "Ensure" not in html
    assert api.status_code == 400
    assert api.json() == {field: [message]}
    assert not Service.objects.exists()


def test_the_api_refuses_a_capacity_of_9_quintillion_when_changing_a_service(
    api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    service = ServiceFactory(site=site_a, annual_capacity=300)
    url = reverse("api-service-detail", kwargs={"site_slug": site_a.slug, "public_id": service.public_id})
    response = send(api_for(commissioner_a), "patch", url, {"annual_capacity": HUGE})
    assert response.status_code == 400
    assert response.json() == {"annual_capacity": ["Annual capacity must be 1,000,000 or less"]}
    assert Service.objects.get(pk=service.pk).annual_capacity == 300


def test_the_edit_page_refuses_a_capacity_of_9_quintillion(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    service = ServiceFactory(site=site_a, annual_capacity=300)
    url = reverse("mapping:service-edit", kwargs={"site_slug": site_a.slug, "public_id": service.public_id})
    client = client_for(commissioner_a)
    response = client.post(url, {**form_data(client.get(url).content), "annual_capacity": str(HUGE)})
    assert "Annual capacity must be 1,000,000 or less" in response.content.decode()
    assert Service.objects.get(pk=service.pk).annual_capacity == 300


CHECKED_WINDOW = "The last checked date must be today or in the past, and not before 1 January 2000"


@pytest.mark.parametrize("checked", [datetime.date(1999, 12, 31), None], ids=["before-2000", "tomorrow"])
def test_the_api_refuses_a_last_checked_date_outside_its_window(
    api_for: Any, commissioner_a: User, site_a: Site, checked: datetime.date | None
) -> None:
    service = ServiceFactory(site=site_a)
    day = checked or timezone.localdate() + datetime.timedelta(days=1)
    url = reverse("api-service-detail", kwargs={"site_slug": site_a.slug, "public_id": service.public_id})
    response = send(api_for(commissioner_a), "patch", url, {"last_checked_on": day.isoformat()})
    assert response.json() == {"last_checked_on": [CHECKED_WINDOW]}
    assert Service.objects.get(pk=service.pk).last_checked_on == service.last_checked_on


def test_the_service_layer_refuses_values_out_of_range_from_any_caller(
    commissioner_a: User, organisation: Organisation
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.service_create(
            site=organisation.site,
            user=commissioner_a,
            source="import",
            data={
                "organisation": organisation,
                "name": "Imported",
                "sector": "nhs",
                "min_age": 30,
                "max_age": 40,
                "annual_capacity": HUGE,
                "description": "D" * 5000,
                "last_checked_on": datetime.date(1990, 1, 1),
            },
        )
    assert refused.value.message_dict == {
        "min_age": ["Minimum age must be from 0 to 25"],
        "max_age": ["Maximum age must be from 0 to 25"],
        "annual_capacity": ["Annual capacity must be from 0 to 1,000,000"],
        "description": ["The description must be 4,000 characters or fewer"],
        "last_checked_on": [CHECKED_WINDOW],
    }
    assert not Service.objects.exists()


# Offers: a share of capacity and what is offered

LONG_OFFER = "The description of the offer must be 500 characters or fewer"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"capacity_share": 101}, "capacity_share", "Share of capacity must be 100% or less"),
        ({"capacity_share": -1}, "capacity_share", "Share of capacity must be 0% or more"),
        ({"capacity_share": 10, "description": "O" * 501}, "description", LONG_OFFER),
    ],
    ids=["share-over-100", "share-negative", "long-description"],
)
def test_matrix_cell_and_api_refuse_an_offer_out_of_range_with_the_same_message(
    client_for: Any,
    api_for: Any,
    commissioner_a: User,
    site_a: Site,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    service = ServiceFactory(site=site_a)
    kwargs = {"site_slug": site_a.slug, "public_id": service.public_id, "grouping_code": "thriving"}
    cell = client_for(commissioner_a).post(
        reverse("mapping:matrix-cell", kwargs=kwargs), {**body, "version": "0"}, HTTP_HX_REQUEST="true"
    )
    api = api_for(commissioner_a).put(
        reverse("api-offer-detail", kwargs=kwargs), body, format="json", HTTP_IF_NONE_MATCH="*"
    )
    assert message in cell.content.decode()
    assert api.status_code == 400
    assert api.json() == {field: [message]}
    assert not Offer.objects.exists()


def test_the_mapping_page_refuses_a_share_over_100_with_the_same_message(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    service = ServiceFactory(site=site_a)
    OfferFactory(service=service, capacity_share=10)
    url = reverse("mapping:service-offers", kwargs={"site_slug": site_a.slug, "public_id": service.public_id})
    client = client_for(commissioner_a)
    form = {**form_data(client.get(url).content), "thriving-offered": "on", "thriving-capacity_share": "101"}
    page = client.post(url, form).content.decode()
    assert page.count("Share of capacity must be 100% or less") == 2
    assert list(Offer.objects.values_list("capacity_share", flat=True)) == [10]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", "Enter the service's name"),
        ("min_age", "Enter the youngest age the service sees"),
        ("max_age", "Enter the oldest age the service sees"),
    ],
)
def test_page_api_and_service_layer_ask_for_a_missing_value_in_the_same_words(
    client_for: Any, api_for: Any, commissioner_a: User, organisation: Organisation, field: str, message: str
) -> None:
    body = page_body(organisation)
    del body[field]
    page = client_for(commissioner_a).post(
        reverse("mapping:service-create", kwargs={"site_slug": organisation.site.slug}), body
    )
    api_body_without = api_body(organisation)
    del api_body_without[field]
    api = api_for(commissioner_a).post(
        reverse("api-service-list", kwargs={"site_slug": organisation.site.slug}), api_body_without, format="json"
    )
    assert message in page.content.decode().replace("&#x27;", "'")
    assert api.json() == {field: [message]}
    data = {"organisation": organisation, "name": "Imported", "sector": "nhs", "min_age": 5, "max_age": 9}
    with pytest.raises(ValidationError) as refused:
        services.service_create(
            site=organisation.site, user=commissioner_a, source="import", data={**data, field: None}
        )
    assert refused.value.message_dict == {field: [message]}
    assert not Service.objects.exists()
