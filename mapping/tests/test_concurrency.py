"""Simultaneous requests, really in parallel: threads, each with its own database
connection, against committed data. Exactly one caller may be told "created"."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from mapping.models import Grouping, Offer, Organisation, Service
from sites.models import Site
from tests.factories import OfferFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)

CALLERS = 6


def all_at_once(requests: list[Callable[[], Any]]) -> list[Any]:
    """Run the requests in threads released together, each closing its own database
    connection when done."""
    start = threading.Barrier(len(requests))

    def run(request: Callable[[], Any]) -> Any:
        start.wait()
        try:
            return request()
        finally:
            connection.close()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(run, requests))


def signed_in(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_of_parallel_creates_of_the_same_offer_exactly_one_is_told_created(commissioner_a: User, site_a: Site) -> None:
    service: Service = ServiceFactory(site=site_a)
    OfferFactory(service=service, grouping=Grouping.objects.get(code="getting-help"), capacity_share=50)
    url = reverse(
        "api-offer-detail",
        kwargs={"site_slug": site_a.slug, "public_id": service.public_id, "grouping_code": "thriving"},
    )
    clients = [signed_in(commissioner_a) for _ in range(CALLERS)]

    def create(client: APIClient, share: int) -> Callable[[], Any]:
        return lambda: client.put(url, {"capacity_share": share}, format="json", HTTP_IF_NONE_MATCH="*")

    responses = all_at_once([create(client, 10 + index) for index, client in enumerate(clients)])

    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [412] * (CALLERS - 1)
    created = next(response for response in responses if response.status_code == 201).json()
    offer = Offer.objects.get(service=service, grouping__code="thriving")
    assert offer.capacity_share == created["capacity_share"]
    # Every refused caller was shown the offer the winner made.
    assert {response.json()["current"]["capacity_share"] for response in responses if response.status_code == 412} == {
        offer.capacity_share
    }
    assert offer.history.count() == 1


def test_of_parallel_changes_from_the_same_etag_exactly_one_is_applied(commissioner_a: User, site_a: Site) -> None:
    service: Service = ServiceFactory(site=site_a)
    OfferFactory(service=service, grouping=Grouping.objects.get(code="getting-help"), capacity_share=50)
    url = reverse(
        "api-offer-detail",
        kwargs={"site_slug": site_a.slug, "public_id": service.public_id, "grouping_code": "getting-help"},
    )
    clients = [signed_in(commissioner_a) for _ in range(CALLERS)]
    etag = clients[0].get(url)["ETag"]

    def change(client: APIClient, share: int) -> Callable[[], Any]:
        return lambda: client.put(url, {"capacity_share": share}, format="json", HTTP_IF_MATCH=etag)

    responses = all_at_once([change(client, 60 + index) for index, client in enumerate(clients)])

    assert sorted(response.status_code for response in responses) == [200] + [412] * (CALLERS - 1)
    applied = next(response for response in responses if response.status_code == 200).json()
    assert Offer.objects.get(service=service, grouping__code="getting-help").capacity_share == applied["capacity_share"]


def test_two_parallel_creates_of_an_organisation_with_the_same_name_make_one(
    commissioner_a: User, site_a: Site
) -> None:
    url = reverse("api-organisation-list", kwargs={"site_slug": site_a.slug})
    clients = [signed_in(commissioner_a) for _ in range(CALLERS)]

    def create(client: APIClient, name: str) -> Callable[[], Any]:
        return lambda: client.post(url, {"name": name, "sector": "voluntary"}, format="json")

    # The same name, differently cased: the site's names are unique whatever the case.
    names = ["Northbridge Mind", "NORTHBRIDGE MIND", "northbridge mind"]
    responses = all_at_once([create(client, names[index % 3]) for index, client in enumerate(clients)])

    assert sorted(response.status_code for response in responses) == [201] + [400] * (CALLERS - 1)
    for response in responses:
        if response.status_code == 400:
            assert response.json() == {"name": ["This site already has an organisation with this name."]}
    assert Organisation.objects.filter(site=site_a, name__iexact="northbridge mind").count() == 1
