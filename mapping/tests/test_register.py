"""Small things a new user met in the register (issue 8, section 7): archived services
found and restored, counts in good English, names sorted as people read them, a bad
filter named rather than shown as an empty register, each error listed once, and one
rule for which services count."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mapping.models import COUNTED_STATUSES, COUNTING_RULE, Grouping, Service, ServiceStatus
from mapping.selectors import services_counted, site_overview
from sites.models import Site
from tests.factories import OfferFactory, OrganisationFactory, ServiceFactory
from tests.pages import form_data

pytestmark = pytest.mark.django_db


def list_url(site: Site) -> str:
    return reverse("mapping:service-list", kwargs={"site_slug": site.slug})


def api_list_url(site: Site) -> str:
    return reverse("api-service-list", kwargs={"site_slug": site.slug})


# Archived services can be found and restored


def test_archived_services_are_found_with_the_archived_filter_and_restored_from_the_list(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    ServiceFactory(site=site_a, name="Open Door Counselling")
    closed = ServiceFactory(site=site_a, name="Closed Helpline", archived_at=timezone.now())
    client = client_for(commissioner_a)

    register = client.get(list_url(site_a)).content.decode()
    assert "Open Door Counselling" in register and "Closed Helpline" not in register
    archived = client.get(list_url(site_a), {"archived": "true"}).content.decode()
    assert "Closed Helpline" in archived and "Open Door Counselling" not in archived
    assert "1 archived service matches your filters" in archived
    assert '<option value="true" selected>Archived only</option>' in archived

    restore = reverse("mapping:service-restore", kwargs={"site_slug": site_a.slug, "public_id": closed.public_id})
    response = client.post(restore, form_data(archived, action=restore))
    assert response.status_code == 302
    assert Service.objects.get(pk=closed.pk).archived_at is None
    assert "Closed Helpline" in client.get(list_url(site_a)).content.decode()


def test_a_reader_sees_archived_services_but_no_restore_button(client_for: Any, viewer_a: User, site_a: Site) -> None:
    ServiceFactory(site=site_a, name="Closed Helpline", archived_at=timezone.now())
    page = client_for(viewer_a).get(list_url(site_a), {"archived": "true"}).content.decode()
    assert "Closed Helpline" in page
    assert "Restore" not in page


def test_the_archived_service_page_offers_restore(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    closed = ServiceFactory(site=site_a, name="Closed Helpline", archived_at=timezone.now())
    detail = reverse("mapping:service-detail", kwargs={"site_slug": site_a.slug, "public_id": closed.public_id})
    restore = reverse("mapping:service-restore", kwargs={"site_slug": site_a.slug, "public_id": closed.public_id})
    client = client_for(commissioner_a)
    response = client.post(restore, form_data(client.get(detail).content, action=restore), follow=True)
    page = response.content.decode()
    assert "Closed Helpline has been restored to the register" in page
    assert "This service was archived" not in page


def test_the_api_finds_archived_services_with_the_archived_filter(api_for: Any, viewer_a: User, site_a: Site) -> None:
    ServiceFactory(site=site_a, name="Open Door Counselling")
    ServiceFactory(site=site_a, name="Closed Helpline", archived_at=timezone.now())
    client = api_for(viewer_a)

    def names(**query: str) -> list[str]:
        return [s["name"] for s in client.get(api_list_url(site_a), query).json()["results"]]

    assert names() == ["Open Door Counselling"]
    assert names(archived="true") == ["Closed Helpline"]
    assert names(archived="false") == ["Open Door Counselling"]
    assert names(include_archived="true") == ["Closed Helpline", "Open Door Counselling"]


# Counts in good English


def test_counts_agree_with_their_noun(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    ServiceFactory(site=site_a, name="Only One", sector="nhs")
    client = client_for(commissioner_a)
    assert "1 service</p>" in client.get(list_url(site_a)).content.decode()
    assert "1 service matches your filters" in client.get(list_url(site_a), {"sector": "nhs"}).content.decode()
    ServiceFactory(site=site_a, name="Another One", sector="nhs")
    assert "2 services match your filters" in client.get(list_url(site_a), {"sector": "nhs"}).content.decode()
    overview = client.get(reverse("sites:overview", kwargs={"site_slug": site_a.slug})).content.decode()
    assert "2 services in the register" in overview
    assert "2 services in the register are not mapped" in overview


# Names sort as people read them


def test_names_sort_whatever_their_case_on_every_page_and_the_api(
    client_for: Any, api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    for name in ("banana Club", "Apple Tree", "cherry Lane"):
        organisation = OrganisationFactory(site=site_a, name=f"{name} Trust")
        OfferFactory(service=ServiceFactory(site=site_a, name=name, organisation=organisation))
    client = client_for(commissioner_a)
    expected = ["Apple Tree", "banana Club", "cherry Lane"]

    def order(page: str, names: list[str]) -> list[str]:
        return sorted(names, key=page.index)

    assert order(client.get(list_url(site_a)).content.decode(), expected) == expected
    descending = client.get(list_url(site_a), {"ordering": "-name"}).content.decode()
    assert order(descending, expected) == expected[::-1]
    by_organisation = client.get(list_url(site_a), {"ordering": "organisation"}).content.decode()
    assert order(by_organisation, expected) == expected
    matrix = client.get(reverse("mapping:matrix", kwargs={"site_slug": site_a.slug})).content.decode()
    assert order(matrix, expected) == expected
    organisations = client.get(reverse("mapping:organisation-list", kwargs={"site_slug": site_a.slug}))
    trusts = [f"{name} Trust" for name in expected]
    assert order(organisations.content.decode(), trusts) == trusts

    api = api_for(commissioner_a)
    assert [s["name"] for s in api.get(api_list_url(site_a)).json()["results"]] == expected
    reverse_names = [s["name"] for s in api.get(api_list_url(site_a), {"ordering": "-name"}).json()["results"]]
    assert reverse_names == expected[::-1]
    organisation_list = reverse("api-organisation-list", kwargs={"site_slug": site_a.slug})
    assert [o["name"] for o in api.get(organisation_list).json()["results"]] == trusts


def test_services_without_a_capacity_come_last_either_way(
    client_for: Any, api_for: Any, site_a: Site, viewer_a: User
) -> None:
    ServiceFactory(site=site_a, name="Unknown", annual_capacity=None)
    ServiceFactory(site=site_a, name="Small", annual_capacity=10)
    ServiceFactory(site=site_a, name="Large", annual_capacity=900)
    api = api_for(viewer_a)
    for ordering, expected in (
        ("capacity", ["Small", "Large", "Unknown"]),
        ("-capacity", ["Large", "Small", "Unknown"]),
    ):
        names = [s["name"] for s in api.get(api_list_url(site_a), {"ordering": ordering}).json()["results"]]
        assert names == expected, ordering


# A bad filter value is named, never an empty register


BAD_FILTERS = {
    "grouping": ("getting-lost", "Choose a THRIVE grouping from the list"),
    "mapped": ("maybe", "Choose whether services are mapped from the list"),
    "sector": ("space", "Choose a sector from the list"),
    "age": ("old", "Age must be a whole number, like 5"),
    "status": ("asleep", "Choose a status from the list"),
    "stale": ("sometimes", "Choose when services were last checked from the list"),
    "archived": ("perhaps", "Choose archived only or not archived from the list"),
    "ordering": ("shoe-size", "Choose how to sort the services from the list"),
}


@pytest.mark.parametrize("name", list(BAD_FILTERS))
def test_a_bad_filter_value_is_an_error_naming_the_filter_on_the_page_and_the_api(
    client_for: Any, api_for: Any, viewer_a: User, site_a: Site, name: str
) -> None:
    ServiceFactory(site=site_a, name="Open Door Counselling")
    value, message = BAD_FILTERS[name]

    response = client_for(viewer_a).get(list_url(site_a), {name: value})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: " in page
    summary = page[page.index("govuk-error-summary") : page.index("</ul>", page.index("govuk-error-summary"))]
    assert f'<a href="#id_{name}">{message}</a>' in summary
    assert "No services are shown until the filters are corrected" in page
    assert "0 services" not in page and "Open Door Counselling" not in page

    api = api_for(viewer_a).get(api_list_url(site_a), {name: value})
    assert api.status_code == 400
    assert api.json() == {name: [message]}


def test_an_age_out_of_range_is_named_with_the_range(client_for: Any, viewer_a: User, site_a: Site) -> None:
    page = client_for(viewer_a).get(list_url(site_a), {"age": "99"}).content.decode()
    assert '<a href="#id_age">Age must be 25 or less</a>' in page


def test_several_bad_filters_are_all_named_once(client_for: Any, viewer_a: User, site_a: Site) -> None:
    page = client_for(viewer_a).get(list_url(site_a), {"grouping": "x", "status": "y"}).content.decode()
    assert page.count("Choose a THRIVE grouping from the list") == 2  # the summary and the field
    assert page.count("Choose a status from the list") == 2


# Each error listed once


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_age", "-1", "Minimum age must be 0 or more"),
        ("min_age", "26", "Minimum age must be 25 or less"),
        ("max_age", "-3", "Maximum age must be 0 or more"),
        ("min_age", "five", "Minimum age must be a whole number, like 5"),
    ],
)
def test_an_age_error_is_listed_once_in_the_summary_and_once_by_the_field(
    client_for: Any, commissioner_a: User, site_a: Site, field: str, value: str, message: str
) -> None:
    organisation = OrganisationFactory(site=site_a)
    body = {"name": "X", "organisation": organisation.pk, "sector": "nhs", "status": "active", "min_age": "5"}
    body.update({"max_age": "10", field: value})
    page = client_for(commissioner_a).post(reverse("mapping:service-create", kwargs={"site_slug": site_a.slug}), body)
    assert page.content.decode().count(message) == 2


# One rule for which services count


def test_the_counting_rule_is_defined_once_and_counts_only_active_services(site_a: Site) -> None:
    assert ServiceStatus.counted() == COUNTED_STATUSES == frozenset({"active"})
    active = ServiceFactory(site=site_a, status=ServiceStatus.ACTIVE)
    for status in (ServiceStatus.PLANNED, ServiceStatus.PAUSED, ServiceStatus.DECOMMISSIONED):
        ServiceFactory(site=site_a, status=status)
    ServiceFactory(site=site_a, status=ServiceStatus.ACTIVE, archived_at=timezone.now())
    assert list(services_counted(site=site_a)) == [active]


def test_the_overview_counts_by_the_rule_and_states_it(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    help_ = groupings["getting-help"]
    for name, status, capacity in (
        ("Active CBT", ServiceStatus.ACTIVE, 100),
        ("Planned Hub", ServiceStatus.PLANNED, 500),
        ("Paused Helpline", ServiceStatus.PAUSED, 700),
        ("Paused Drop-in", ServiceStatus.PAUSED, 300),
    ):
        OfferFactory(
            service=ServiceFactory(site=site_a, name=name, status=status, annual_capacity=capacity),
            grouping=help_,
            capacity_share=100,
        )

    overview = site_overview(site=site_a)
    figures = next(s for s in overview.groupings if s.grouping == help_)
    assert (figures.services, figures.capacity) == (1, 100)
    assert (overview.total_services, overview.counted_services) == (4, 1)

    page = client_for(commissioner_a).get(reverse("sites:overview", kwargs={"site_slug": site_a.slug}))
    html = page.content.decode()
    assert "4 services in the register. The figures below count 1 of them." in html
    assert COUNTING_RULE in html
    assert "1 planned and 2 paused services are in the register but not counted." in html
    assert "Getting Help: 100 a year from 1 service" in html
