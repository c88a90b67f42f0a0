"""The REST API for every persona: the commissioner of site A, the commissioner of
site B, a site viewer of A, a programme reviewer and anonymous."""

import datetime
import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from mapping.models import Area, DeliverySetting, Grouping, Offer, Organisation, ReferralRoute, Service
from sites.models import Role, Site, SitePopulation
from tests.api import send
from tests.factories import (
    AreaFactory,
    MembershipFactory,
    OfferFactory,
    OrganisationFactory,
    ServiceFactory,
    UserFactory,
)
from thrive_site.exceptions import api_exception_handler

pytestmark = pytest.mark.django_db


@pytest.fixture
def area_a(site_a: Site) -> Area:
    return AreaFactory(site=site_a, name="Northbridge Central")


@pytest.fixture
def area_b(site_b: Site) -> Area:
    return AreaFactory(site=site_b, name="Eastmere Coast")


@pytest.fixture
def organisation_b(site_b: Site) -> Organisation:
    return OrganisationFactory(site=site_b, name="Eastmere Youth Trust")


@pytest.fixture
def service_a(site_a: Site, area_a: Area) -> Service:
    service = ServiceFactory(site=site_a, name="Northbridge School Counselling", min_age=11, max_age=18)
    service.areas.set([area_a])
    service.delivery_settings.set(DeliverySetting.objects.filter(code="school"))
    OfferFactory(service=service, capacity_share=60)
    return service


def site_url(site: Site, suffix: str = "") -> str:
    return reverse("api-site-detail", kwargs={"site_slug": site.slug}) + suffix


def service_url(service: Service, suffix: str = "") -> str:
    kwargs = {"site_slug": service.site.slug, "public_id": service.public_id}
    return reverse("api-service-detail", kwargs=kwargs) + suffix


def organisation_url(organisation: Organisation) -> str:
    kwargs = {"site_slug": organisation.site.slug, "public_id": organisation.public_id}
    return reverse("api-organisation-detail", kwargs=kwargs)


def service_body(organisation: Organisation, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation": str(organisation.public_id),
        "name": "Peer Support Drop-in",
        "description": "Weekly drop-in run by trained young people.",
        "sector": "voluntary",
        "delivery_settings": ["community", "online"],
        "referral_routes": ["self", "school"],
        "min_age": 11,
        "max_age": 18,
        "annual_capacity": 300,
        "typical_wait_weeks": 1,
        "areas": [],
        "status": "active",
    }
    body.update(overrides)
    return body


def read_urls(service: Service) -> list[str]:
    site = service.site
    return [
        site_url(site),
        site_url(site, "areas/"),
        site_url(site, "organisations/"),
        organisation_url(service.organisation),
        site_url(site, "services/"),
        service_url(service),
        service_url(service, "offers/"),
        service_url(service, "offers/getting-help/"),
    ]


def write_requests(service: Service) -> list[tuple[str, str, dict[str, Any]]]:
    site = service.site
    organisation = service.organisation
    return [
        ("post", site_url(site, "organisations/"), {"name": "New Provider", "sector": "nhs"}),
        ("put", organisation_url(organisation), {"name": "Renamed Provider", "sector": "nhs"}),
        ("patch", organisation_url(organisation), {"name": "Renamed Provider"}),
        ("post", site_url(site, "services/"), service_body(organisation)),
        ("put", service_url(service), service_body(organisation, name="Renamed Service")),
        ("patch", service_url(service), {"name": "Renamed Service"}),
        ("delete", service_url(service), {}),
        ("put", service_url(service, "offers/thriving/"), {"capacity_share": 10}),
        ("delete", service_url(service, "offers/getting-help/"), {}),
    ]


def register_snapshot(site: Site) -> dict[str, Any]:
    """Everything a write could change, to show that a refused write changed nothing."""
    return {
        "organisations": list(Organisation.objects.filter(site=site).order_by("pk").values()),
        "services": list(Service.objects.filter(site=site).order_by("pk").values()),
        "offers": list(Offer.objects.filter(service__site=site).order_by("pk").values()),
        "areas": list(Service.areas.through.objects.filter(service__site=site).order_by("pk").values()),
    }


# Who may read what


def test_commissioner_a_can_read_every_site_a_endpoint(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    client = api_for(commissioner_a)
    for url in read_urls(service_a):
        assert client.get(url).status_code == 200, url


def test_viewer_a_can_read_every_site_a_endpoint(api_for: Any, viewer_a: User, service_a: Service) -> None:
    client = api_for(viewer_a)
    for url in read_urls(service_a):
        assert client.get(url).status_code == 200, url


def test_reviewer_can_read_every_endpoint_of_every_site(
    api_for: Any, reviewer: User, service_a: Service, site_b: Site
) -> None:
    client = api_for(reviewer)
    for url in read_urls(service_a):
        assert client.get(url).status_code == 200, url
    service_b = ServiceFactory(site=site_b)
    OfferFactory(service=service_b)
    for url in read_urls(service_b):
        assert client.get(url).status_code == 200, url


def test_commissioner_b_gets_404_for_site_a(api_for: Any, commissioner_b: User, site_a: Site) -> None:
    response = api_for(commissioner_b).get("/api/sites/northbridge/")
    assert response.status_code == 404


def test_commissioner_b_gets_404_for_every_site_a_endpoint(
    api_for: Any, commissioner_b: User, service_a: Service
) -> None:
    client = api_for(commissioner_b)
    for url in read_urls(service_a):
        assert client.get(url).status_code == 404, url


def test_commissioner_b_gets_404_for_every_write_to_site_a_and_nothing_changes(
    api_for: Any, commissioner_b: User, service_a: Service
) -> None:
    client = api_for(commissioner_b)
    before = register_snapshot(service_a.site)
    for method, url, body in write_requests(service_a):
        assert send(client, method, url, body).status_code == 404, (method, url)
    assert register_snapshot(service_a.site) == before


def test_commissioner_b_gets_404_for_site_a_service_through_site_b_url(
    api_for: Any, commissioner_b: User, service_a: Service, site_b: Site
) -> None:
    client = api_for(commissioner_b)
    kwargs = {"site_slug": site_b.slug, "public_id": service_a.public_id}
    assert client.get(reverse("api-service-detail", kwargs=kwargs)).status_code == 404
    assert client.delete(reverse("api-service-detail", kwargs=kwargs)).status_code == 404
    kwargs = {"site_slug": site_b.slug, "public_id": service_a.organisation.public_id}
    assert client.get(reverse("api-organisation-detail", kwargs=kwargs)).status_code == 404
    service_a.refresh_from_db()
    assert service_a.archived_at is None


def test_commissioner_b_does_not_see_site_a_in_the_site_list(
    api_for: Any, commissioner_b: User, site_a: Site, site_b: Site
) -> None:
    response = api_for(commissioner_b).get(reverse("api-site-list"))
    assert [site["slug"] for site in response.json()["results"]] == ["eastmere"]


def test_reviewer_sees_every_site_in_the_site_list(api_for: Any, reviewer: User, site_a: Site, site_b: Site) -> None:
    response = api_for(reviewer).get(reverse("api-site-list"))
    assert [site["slug"] for site in response.json()["results"]] == ["eastmere", "northbridge"]


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer", "reviewer_commissioning_a"])
def test_people_who_only_read_site_a_get_403_on_every_write_and_nothing_changes(
    request: pytest.FixtureRequest, api_for: Any, persona: str, service_a: Service
) -> None:
    client = api_for(request.getfixturevalue(persona))
    before = register_snapshot(service_a.site)
    for method, url, body in write_requests(service_a):
        assert send(client, method, url, body).status_code == 403, (method, url)
    assert register_snapshot(service_a.site) == before


def test_anonymous_gets_401_everywhere_and_nothing_changes(api_for: Any, service_a: Service) -> None:
    client = api_for(None)
    reference = [reverse("api-site-list"), "/api/groupings/", "/api/delivery-settings/", "/api/referral-routes/"]
    for url in [*reference, *read_urls(service_a)]:
        assert client.get(url).status_code == 401, url
    before = register_snapshot(service_a.site)
    for method, url, body in write_requests(service_a):
        assert send(client, method, url, body).status_code == 401, (method, url)
    assert register_snapshot(service_a.site) == before


# Sites and reference data


def test_site_detail_shows_population_in_age_band_order(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    for band, people in [("5-10", 30000), ("0-4", 25000), ("11-16", 28000)]:
        SitePopulation.objects.create(site=site_a, age_band=band, people=people)
    response = api_for(commissioner_a).get(site_url(site_a))
    assert response.json() == {
        "name": "Northbridge",
        "slug": "northbridge",
        "region": "North West",
        "population": [
            {"age_band": "0-4", "people": 25000},
            {"age_band": "5-10", "people": 30000},
            {"age_band": "11-16", "people": 28000},
        ],
    }


def test_groupings_are_listed_in_thrive_order_with_their_codes(api_for: Any, viewer_a: User) -> None:
    response = api_for(viewer_a).get("/api/groupings/")
    assert response.status_code == 200
    assert [g["code"] for g in response.json()] == [
        "thriving",
        "getting-advice",
        "getting-help",
        "getting-more-help",
        "getting-risk-support",
    ]
    assert set(response.json()[0]) == {"code", "label", "short_label", "order", "description"}


def test_delivery_settings_and_referral_routes_list_their_codes(api_for: Any, viewer_a: User) -> None:
    client = api_for(viewer_a)
    settings = client.get("/api/delivery-settings/").json()
    routes = client.get("/api/referral-routes/").json()
    assert {s["code"] for s in settings} == set(DeliverySetting.objects.values_list("code", flat=True))
    assert {r["code"] for r in routes} == set(ReferralRoute.objects.values_list("code", flat=True))
    assert set(settings[0]) == {"code", "label"}


def test_site_areas_list_names_only_that_sites_areas(
    api_for: Any, commissioner_a: User, area_a: Area, area_b: Area
) -> None:
    response = api_for(commissioner_a).get(site_url(area_a.site, "areas/"))
    assert response.json() == [{"name": "Northbridge Central"}]


# Organisations


def test_commissioner_a_can_add_an_organisation(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    body = {"name": " Northbridge Mind ", "sector": "voluntary", "website": "https://mind.example.org"}
    response = api_for(commissioner_a).post(site_url(site_a, "organisations/"), body, format="json")
    assert response.status_code == 201
    organisation = Organisation.objects.get(site=site_a, name="Northbridge Mind")
    assert response.json()["id"] == str(organisation.public_id)
    assert response.json()["sector"] == "voluntary"
    record = organisation.history.get()
    assert record.history_change_reason == "api"
    assert record.history_user == commissioner_a


def test_site_in_the_body_is_ignored_and_the_url_decides(
    api_for: Any, commissioner_a: User, site_a: Site, site_b: Site
) -> None:
    body = {"name": "Northbridge Mind", "sector": "voluntary", "site": site_b.pk}
    response = api_for(commissioner_a).post(site_url(site_a, "organisations/"), body, format="json")
    assert response.status_code == 201
    assert Organisation.objects.get(name="Northbridge Mind").site == site_a


def test_adding_an_organisation_with_a_name_already_used_in_the_site_is_400_on_name(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    name = service_a.organisation.name.upper()
    response = api_for(commissioner_a).post(
        site_url(service_a.site, "organisations/"), {"name": name, "sector": "nhs"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"name": ["This site already has an organisation with this name."]}
    assert Organisation.objects.filter(site=service_a.site).count() == 1


def test_commissioner_a_can_rename_an_organisation_with_put_and_patch(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    organisation = service_a.organisation
    response = send(client, "put", organisation_url(organisation), {"name": "Renamed", "sector": "education"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    response = send(client, "patch", organisation_url(organisation), {"website": "https://renamed.example.org"})
    assert response.status_code == 200
    organisation.refresh_from_db()
    assert (organisation.name, organisation.sector, organisation.website) == (
        "Renamed",
        "education",
        "https://renamed.example.org",
    )
    assert organisation.history.latest().history_change_reason == "api"


def test_put_of_an_organisation_without_its_required_fields_is_400(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    response = send(api_for(commissioner_a), "put", organisation_url(service_a.organisation), {"name": "X"})
    assert response.status_code == 400
    assert "sector" in response.json()


def test_an_organisation_answers_with_its_etag_and_each_change_moves_it_on(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    url = organisation_url(service_a.organisation)
    first = client.get(url)
    assert first["ETag"] == '"1"'
    assert first.json()["version"] == 1
    changed = client.patch(url, {"name": "Renamed"}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] == '"2"'
    assert client.get(url)["ETag"] == '"2"'


def test_changing_an_organisation_without_if_match_is_428_and_changes_nothing(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    url = organisation_url(service_a.organisation)
    for method in ("put", "patch"):
        response = getattr(client, method)(url, {"name": "Renamed", "sector": "nhs"}, format="json")
        assert response.status_code == 428, method
        assert "If-Match" in response.json()["detail"]
    assert client.get(url).json()["name"] == service_a.organisation.name


def test_a_second_stale_change_to_an_organisation_is_412_with_the_current_one(
    api_for: Any, commissioner_a: User, site_a: Site, service_a: Service
) -> None:
    colleague = UserFactory(username="colleague", first_name="Sam", last_name="Jones")
    MembershipFactory(user=colleague, site=site_a, role=Role.COMMISSIONER)
    mine, theirs = api_for(commissioner_a), api_for(colleague)
    url = organisation_url(service_a.organisation)
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    assert theirs.patch(url, {"website": "https://theirs.example.org"}, format="json", HTTP_IF_MATCH=read_by_them)
    response = mine.patch(url, {"website": "https://mine.example.org"}, format="json", HTTP_IF_MATCH=read_by_me)
    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "stale"
    assert "Sam Jones changed this organisation" in body["detail"]
    assert body["current"]["website"] == "https://theirs.example.org"
    assert response["ETag"] == '"2"'
    organisation = Organisation.objects.get(pk=service_a.organisation.pk)
    assert (organisation.website, organisation.version) == ("https://theirs.example.org", 2)


def test_a_malformed_or_weak_if_match_never_matches(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    client = api_for(commissioner_a)
    url = organisation_url(service_a.organisation)
    for header in ('W/"1"', "1", '"one"', '"99999999999999999999999"'):
        response = client.patch(url, {"name": "Renamed"}, format="json", HTTP_IF_MATCH=header)
        assert response.status_code == 412, header
    assert client.get(url).json()["name"] == service_a.organisation.name


def test_organisation_list_is_paginated(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    body = api_for(commissioner_a).get(site_url(service_a.site, "organisations/")).json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == str(service_a.organisation.public_id)


# Services: reading


def test_service_shows_opaque_ids_codes_and_names_never_integer_keys(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    service_a.referral_routes.set(ReferralRoute.objects.filter(code="gp"))
    body = api_for(commissioner_a).get(service_url(service_a)).json()
    assert body["id"] == str(service_a.public_id)
    assert body["organisation"] == str(service_a.organisation.public_id)
    assert body["organisation_name"] == service_a.organisation.name
    assert body["delivery_settings"] == ["school"]
    assert body["referral_routes"] == ["gp"]
    assert body["areas"] == ["Northbridge Central"]
    assert body["offers"] == [
        {"grouping": "getting-help", "capacity_share": 60, "description": "Evidence-based help.", "version": 1}
    ]
    assert body["is_stale"] is False
    assert "pk" not in body and "site" not in body
    integers = {key for key, value in body.items() if type(value) is int}
    assert integers == {"min_age", "max_age", "annual_capacity", "typical_wait_weeks", "version"}


def test_service_shows_who_last_checked_it(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    service_a.last_checked_by = commissioner_a
    service_a.save()
    body = api_for(commissioner_a).get(service_url(service_a)).json()
    assert body["last_checked_by"] == "commissioner-a"


def test_service_list_is_paginated(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    ServiceFactory.create_batch(51, site=site_a)
    client = api_for(commissioner_a)
    first = client.get(site_url(site_a, "services/")).json()
    assert first["count"] == 51
    assert len(first["results"]) == 50
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert {s["id"] for s in first["results"]}.isdisjoint({s["id"] for s in second["results"]})


def test_service_list_filters_by_grouping(
    api_for: Any, commissioner_a: User, service_a: Service, groupings: dict[str, Grouping]
) -> None:
    other = ServiceFactory(site=service_a.site, name="Thriving Schools")
    OfferFactory(service=other, grouping=groupings["thriving"], capacity_share=100)
    ServiceFactory(site=service_a.site, name="Not Mapped")
    client = api_for(commissioner_a)
    response = client.get(site_url(service_a.site, "services/"), {"grouping": "getting-help"})
    assert [s["name"] for s in response.json()["results"]] == ["Northbridge School Counselling"]
    response = client.get(site_url(service_a.site, "services/"), {"grouping": "no-such-grouping"})
    assert response.status_code == 400
    assert "grouping" in response.json()


def test_service_list_filters_by_age(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    ServiceFactory(site=service_a.site, name="Early Years Support", min_age=0, max_age=5)
    client = api_for(commissioner_a)
    response = client.get(site_url(service_a.site, "services/"), {"age": 3})
    assert [s["name"] for s in response.json()["results"]] == ["Early Years Support"]
    response = client.get(site_url(service_a.site, "services/"), {"age": 16})
    assert [s["name"] for s in response.json()["results"]] == ["Northbridge School Counselling"]


def test_service_list_filters_stale_records(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    ServiceFactory(
        site=service_a.site, name="Old Record", last_checked_on=timezone.localdate() - datetime.timedelta(days=400)
    )
    ServiceFactory(site=service_a.site, name="Never Checked", last_checked_on=None)
    client = api_for(commissioner_a)
    response = client.get(site_url(service_a.site, "services/"), {"stale": "true"})
    results = response.json()["results"]
    assert [s["name"] for s in results] == ["Never Checked", "Old Record"]
    assert all(s["is_stale"] for s in results)
    response = client.get(site_url(service_a.site, "services/"), {"stale": "false"})
    assert [s["name"] for s in response.json()["results"]] == ["Northbridge School Counselling"]


def test_service_list_searches_filters_by_sector_and_status_and_sorts(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    ServiceFactory(site=service_a.site, name="Youth Offending Team", sector="youth_justice", annual_capacity=50)
    ServiceFactory(site=service_a.site, name="Paused Helpline", status="paused", annual_capacity=900)
    client = api_for(commissioner_a)
    url = site_url(service_a.site, "services/")

    def names(params: dict[str, Any]) -> list[str]:
        return [s["name"] for s in client.get(url, params).json()["results"]]

    assert names({"q": "offending"}) == ["Youth Offending Team"]
    assert names({"sector": "youth_justice"}) == ["Youth Offending Team"]
    assert names({"status": "paused"}) == ["Paused Helpline"]
    assert names({"ordering": "-capacity"}) == [
        "Paused Helpline",
        "Northbridge School Counselling",
        "Youth Offending Team",
    ]


def test_service_list_leaves_out_archived_services_unless_asked(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    ServiceFactory(site=service_a.site, name="Closed Service", archived_at=timezone.now())
    client = api_for(commissioner_a)
    url = site_url(service_a.site, "services/")
    assert [s["name"] for s in client.get(url).json()["results"]] == ["Northbridge School Counselling"]
    everything = client.get(url, {"include_archived": "true"}).json()["results"]
    assert [s["name"] for s in everything] == ["Closed Service", "Northbridge School Counselling"]


def test_service_list_never_shows_another_sites_services(
    api_for: Any, reviewer: User, service_a: Service, site_b: Site
) -> None:
    ServiceFactory(site=site_b, name="Eastmere Service")
    response = api_for(reviewer).get(site_url(service_a.site, "services/"))
    assert [s["name"] for s in response.json()["results"]] == ["Northbridge School Counselling"]


def test_service_list_costs_the_same_queries_for_5_and_for_50_services(
    api_for: Any, commissioner_a: User, site_a: Site, area_a: Area, groupings: dict[str, Grouping]
) -> None:
    def add_services(count: int) -> None:
        for service in ServiceFactory.create_batch(count, site=site_a, last_checked_by=commissioner_a):
            service.areas.set([area_a])
            service.delivery_settings.set(DeliverySetting.objects.all()[:2])
            service.referral_routes.set(ReferralRoute.objects.all()[:2])
            OfferFactory(service=service, grouping=groupings["thriving"], capacity_share=40)
            OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60)

    client = api_for(commissioner_a)
    url = site_url(site_a, "services/")

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    add_services(5)
    with_5 = queries_for_list()
    add_services(45)
    with_50 = queries_for_list()
    assert len(client.get(url).json()["results"]) == 50
    assert with_50 == with_5


@pytest.mark.parametrize("persona", ["commissioner_a", "viewer_a"])
def test_browsable_api_renders_every_site_a_endpoint(
    request: pytest.FixtureRequest, api_for: Any, persona: str, service_a: Service
) -> None:
    client = api_for(request.getfixturevalue(persona))
    for url in read_urls(service_a):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")


# Services: writing


def test_commissioner_a_can_register_a_service(
    api_for: Any, commissioner_a: User, service_a: Service, area_a: Area
) -> None:
    body = service_body(service_a.organisation, areas=["Northbridge Central"], site="eastmere")
    response = api_for(commissioner_a).post(site_url(service_a.site, "services/"), body, format="json")
    assert response.status_code == 201, response.json()
    service = Service.objects.get(name="Peer Support Drop-in")
    assert service.site == service_a.site
    assert service.organisation == service_a.organisation
    assert sorted(service.delivery_settings.values_list("code", flat=True)) == ["community", "online"]
    assert sorted(service.referral_routes.values_list("code", flat=True)) == ["school", "self"]
    assert list(service.areas.all()) == [area_a]
    assert service.last_checked_on == timezone.localdate()
    assert service.last_checked_by == commissioner_a
    data = response.json()
    assert data["id"] == str(service.public_id)
    assert data["last_checked_by"] == "commissioner-a"
    assert data["offers"] == []
    assert data["areas"] == ["Northbridge Central"]


def test_registering_a_service_records_the_user_and_the_api_in_its_history(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    body = service_body(service_a.organisation)
    api_for(commissioner_a).post(site_url(service_a.site, "services/"), body, format="json")
    records = Service.objects.get(name="Peer Support Drop-in").history.all()
    assert records.exists()
    assert {(r.history_change_reason, r.history_user) for r in records} == {("api", commissioner_a)}
    assert records.earliest().history_type == "+"


def test_organisation_of_site_b_is_rejected_with_400_on_organisation_and_nothing_created(
    api_for: Any, commissioner_a: User, service_a: Service, organisation_b: Organisation
) -> None:
    before = register_snapshot(service_a.site)
    body = service_body(organisation_b)
    response = api_for(commissioner_a).post(site_url(service_a.site, "services/"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"organisation": ["Choose an organisation from this site's register."]}
    assert register_snapshot(service_a.site) == before
    assert not Service.objects.filter(name="Peer Support Drop-in").exists()


def test_organisation_of_site_b_reads_the_same_as_one_that_does_not_exist(
    api_for: Any, commissioner_a: User, service_a: Service, organisation_b: Organisation
) -> None:
    client = api_for(commissioner_a)
    url = site_url(service_a.site, "services/")
    other_site = client.post(url, service_body(organisation_b), format="json").json()
    missing = client.post(url, {**service_body(organisation_b), "organisation": str(uuid.uuid4())}, format="json")
    assert other_site == missing.json()


def test_area_of_site_b_is_rejected_with_400_on_areas_and_nothing_changed(
    api_for: Any, commissioner_a: User, service_a: Service, area_b: Area
) -> None:
    before = register_snapshot(service_a.site)
    client = api_for(commissioner_a)
    body = service_body(service_a.organisation, areas=["Eastmere Coast"])
    response = client.post(site_url(service_a.site, "services/"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"areas": ["Choose areas that belong to this site."]}
    response = send(client, "patch", service_url(service_a), {"areas": ["Eastmere Coast"]})
    assert response.status_code == 400
    assert "areas" in response.json()
    assert register_snapshot(service_a.site) == before


def test_moving_a_service_to_an_organisation_of_site_b_is_rejected_and_nothing_changed(
    api_for: Any, commissioner_a: User, service_a: Service, organisation_b: Organisation
) -> None:
    before = register_snapshot(service_a.site)
    response = send(
        api_for(commissioner_a), "patch", service_url(service_a), {"organisation": str(organisation_b.public_id)}
    )
    assert response.status_code == 400
    assert "organisation" in response.json()
    assert register_snapshot(service_a.site) == before


def test_minimum_age_above_maximum_age_is_400_on_max_age(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    body = service_body(service_a.organisation, min_age=16, max_age=11)
    response = client.post(site_url(service_a.site, "services/"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"max_age": ["Maximum age must be the same as or more than the minimum age"]}
    assert not Service.objects.filter(name="Peer Support Drop-in").exists()
    response = send(client, "patch", service_url(service_a), {"max_age": 5})
    assert response.status_code == 400
    assert list(response.json()) == ["max_age"]
    service_a.refresh_from_db()
    assert service_a.max_age == 18


def test_ages_above_25_unknown_codes_and_bad_emails_are_400_per_field(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    body = service_body(
        service_a.organisation,
        max_age=30,
        delivery_settings=["moon"],
        referral_routes=["carrier-pigeon"],
        contact_email="not an email",
    )
    response = api_for(commissioner_a).post(site_url(service_a.site, "services/"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"max_age", "delivery_settings", "referral_routes", "contact_email"}


def test_last_checked_date_in_the_future_is_400_on_last_checked_on(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = send(api_for(commissioner_a), "patch", service_url(service_a), {"last_checked_on": tomorrow.isoformat()})
    assert response.status_code == 400
    assert list(response.json()) == ["last_checked_on"]


def test_commissioner_a_can_change_a_service_with_patch(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    response = send(
        api_for(commissioner_a),
        "patch",
        service_url(service_a),
        {"name": "School Counselling Plus", "delivery_settings": ["online"]},
    )
    assert response.status_code == 200
    assert response.json()["name"] == "School Counselling Plus"
    assert response.json()["delivery_settings"] == ["online"]
    assert response.json()["areas"] == ["Northbridge Central"]
    service_a.refresh_from_db()
    assert service_a.name == "School Counselling Plus"
    latest = service_a.history.latest()
    assert (latest.history_change_reason, latest.history_user) == ("api", commissioner_a)


def test_commissioner_a_can_replace_a_service_with_put(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    body = service_body(service_a.organisation, name="Replaced", areas=[])
    response = send(api_for(commissioner_a), "put", service_url(service_a), body)
    assert response.status_code == 200
    service_a.refresh_from_db()
    assert service_a.name == "Replaced"
    assert service_a.sector == "voluntary"
    assert not service_a.areas.exists()


def test_put_of_a_service_without_its_required_fields_is_400(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    response = send(api_for(commissioner_a), "put", service_url(service_a), {"name": "Only a name"})
    assert response.status_code == 400
    assert {"organisation", "sector", "min_age", "max_age"} <= set(response.json())


def test_deleting_a_service_archives_it_and_records_who(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    client = api_for(commissioner_a)
    response = send(client, "delete", service_url(service_a))
    assert response.status_code == 204
    service_a.refresh_from_db()
    assert service_a.archived_at is not None
    latest = service_a.history.latest()
    assert (latest.history_change_reason, latest.history_user) == ("api", commissioner_a)
    assert client.get(site_url(service_a.site, "services/")).json()["count"] == 0
    assert client.get(service_url(service_a)).json()["archived_at"] is not None
    assert send(client, "delete", service_url(service_a)).status_code == 204


def test_unknown_service_id_is_404(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    url = reverse("api-service-detail", kwargs={"site_slug": site_a.slug, "public_id": uuid.uuid4()})
    assert api_for(commissioner_a).get(url).status_code == 404


# Offers


def test_offers_of_a_service_are_listed_in_thrive_order(
    api_for: Any, viewer_a: User, service_a: Service, groupings: dict[str, Grouping]
) -> None:
    OfferFactory(service=service_a, grouping=groupings["thriving"], capacity_share=20, description="Assemblies")
    response = api_for(viewer_a).get(service_url(service_a, "offers/"))
    assert response.json() == [
        {"grouping": "thriving", "capacity_share": 20, "description": "Assemblies", "version": 1},
        {"grouping": "getting-help", "capacity_share": 60, "description": "Evidence-based help.", "version": 1},
    ]


def test_commissioner_a_can_map_a_service_to_a_grouping_and_change_it(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    url = service_url(service_a, "offers/thriving/")
    response = send(client, "put", url, {"capacity_share": 30, "description": " Whole-school work "})
    assert response.status_code == 201
    assert response.json() == {
        "grouping": "thriving",
        "capacity_share": 30,
        "description": "Whole-school work",
        "version": 2,
    }
    response = send(client, "put", url, {"capacity_share": 40})
    assert response.status_code == 200
    offer = Offer.objects.get(service=service_a, grouping__code="thriving")
    assert (offer.capacity_share, offer.description) == (40, "")
    assert client.get(url).json()["capacity_share"] == 40
    records = Offer.history.filter(service_id=service_a.pk, grouping__code="thriving")
    assert records.count() == 2
    assert {(r.history_change_reason, r.history_user) for r in records} == {("api", commissioner_a)}


def test_shares_above_100_are_400_with_the_service_layer_message_and_nothing_changed(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    before = register_snapshot(service_a.site)
    response = send(api_for(commissioner_a), "put", service_url(service_a, "offers/thriving/"), {"capacity_share": 50})
    assert response.status_code == 400
    assert response.json() == {
        "capacity_share": [
            "The shares of this service's capacity would add up to 110%. "
            "Shares across all groupings must add up to 100% or less."
        ]
    }
    assert register_snapshot(service_a.site) == before


def test_a_share_above_100_on_its_own_is_400(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    response = send(
        api_for(commissioner_a), "put", service_url(service_a, "offers/getting-help/"), {"capacity_share": 101}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["capacity_share"]


def test_commissioner_a_can_unmap_a_service_from_a_grouping(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    url = service_url(service_a, "offers/getting-help/")
    assert send(client, "delete", url).status_code == 204
    assert not service_a.offers.exists()
    assert client.get(url).status_code == 404
    removal = Offer.history.filter(service_id=service_a.pk, history_type="-").get()
    assert (removal.history_change_reason, removal.history_user) == ("api", commissioner_a)
    assert send(client, "delete", url).status_code == 204


def test_unknown_grouping_code_is_404(api_for: Any, commissioner_a: User, service_a: Service) -> None:
    client = api_for(commissioner_a)
    url = service_url(service_a, "offers/getting-lost/")
    assert client.get(url).status_code == 404
    assert client.put(url, {"capacity_share": 10}, format="json").status_code == 404


def test_offers_of_an_archived_service_are_not_reachable(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    service_a.archived_at = timezone.now()
    service_a.save()
    client = api_for(commissioner_a)
    assert client.get(service_url(service_a, "offers/")).status_code == 404
    response = client.put(service_url(service_a, "offers/thriving/"), {"capacity_share": 10}, format="json")
    assert response.status_code == 404
    assert service_a.offers.count() == 1


# Token authentication


def test_token_lets_commissioner_a_read_and_write_site_a(
    commissioner_a: User, service_a: Service, groupings: dict[str, Grouping]
) -> None:
    token = Token.objects.create(user=commissioner_a)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(site_url(service_a.site, "services/")).json()["count"] == 1
    response = send(client, "put", service_url(service_a, "offers/thriving/"), {"capacity_share": 10})
    assert response.status_code == 201
    offer = Offer.objects.get(service=service_a, grouping=groupings["thriving"])
    assert offer.history.get().history_user == commissioner_a


def test_token_of_commissioner_b_gets_404_for_site_a(commissioner_b: User, service_a: Service) -> None:
    token = Token.objects.create(user=commissioner_b)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(service_url(service_a)).status_code == 404


def test_a_wrong_token_is_refused_with_a_401(service_a: Service) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get(site_url(service_a.site, "services/")).status_code == 401


def test_session_writes_need_a_csrf_token(commissioner_a: User, service_a: Service) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(commissioner_a)
    response = client.patch(service_url(service_a), {"name": "Forged"}, format="json")
    assert response.status_code == 403
    service_a.refresh_from_db()
    assert service_a.name == "Northbridge School Counselling"


# Error handling


def test_a_rule_broken_without_a_field_is_reported_as_non_field_errors() -> None:
    response = api_exception_handler(ValidationError("Something is wrong."), {})
    assert response is not None
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Something is wrong."]}
