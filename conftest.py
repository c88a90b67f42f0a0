"""Persona fixtures used across the suite: the commissioner of site A, the
commissioner of site B, a programme reviewer, a site viewer and anonymous."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from mapping.models import Grouping
from mapping.reference_data import seed_current
from sites.models import Role, Site
from tests.factories import MembershipFactory, SiteFactory, UserFactory

pytest_plugins = ["tests.celery_worker", "tests.browser"]


@pytest.fixture
def site_a(db: Any) -> Site:
    return SiteFactory(name="Northbridge", slug="northbridge", region="North West")


@pytest.fixture
def site_b(db: Any) -> Site:
    return SiteFactory(name="Eastmere", slug="eastmere", region="East of England")


@pytest.fixture
def commissioner_a(site_a: Site) -> User:
    user = UserFactory(username="commissioner-a")
    MembershipFactory(user=user, site=site_a, role=Role.COMMISSIONER)
    return user


@pytest.fixture
def commissioner_b(site_b: Site) -> User:
    user = UserFactory(username="commissioner-b")
    MembershipFactory(user=user, site=site_b, role=Role.COMMISSIONER)
    return user


@pytest.fixture
def viewer_a(site_a: Site) -> User:
    user = UserFactory(username="viewer-a")
    MembershipFactory(user=user, site=site_a, role=Role.VIEWER)
    return user


@pytest.fixture
def colleague(site_a: Site) -> User:
    """A second commissioner of site A: the other person in two-people-editing tests."""
    user = UserFactory(username="colleague", first_name="Sam", last_name="Jones")
    MembershipFactory(user=user, site=site_a, role=Role.COMMISSIONER)
    return user


@pytest.fixture
def reviewer(db: Any) -> User:
    return UserFactory(username="reviewer", is_programme_reviewer=True)


@pytest.fixture
def reviewer_commissioning_a(site_a: Site) -> User:
    """A programme reviewer who was also given a commissioner membership of site A
    (the admin refuses this; the row is made directly): still reads only."""
    user = UserFactory(username="reviewer-commissioning-a", is_programme_reviewer=True)
    MembershipFactory(user=user, site=site_a, role=Role.COMMISSIONER)
    return user


def _client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def client_for() -> Any:
    return _client_for


def _api_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def api_for() -> Any:
    """An API client signed in (by session) as the given persona, or anonymous."""
    return _api_for


@pytest.fixture(autouse=True)
def reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests (live server, real worker) flush the database after each
    test, taking the migration-seeded groupings with it; put them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional_marker = marker is not None and marker.kwargs.get("transaction", False)
    if transactional_marker or {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
        seed_current()


@pytest.fixture
def groupings(db: Any) -> dict[str, Grouping]:
    return {g.code: g for g in Grouping.objects.order_by("order")}
