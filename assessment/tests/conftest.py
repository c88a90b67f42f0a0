"""Fixtures shared by the assessment tests of stale saves, limits and history."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from assessment.management.commands.load_instrument import load_default_instrument
from assessment.models import Instrument, Round
from assessment.services import round_create
from sites.models import Role, Site
from tests.factories import MembershipFactory, UserFactory

from .support import HELD_ON


@pytest.fixture
def default_instrument(db: Any) -> Instrument:
    return load_default_instrument()


@pytest.fixture
def colleague(site_a: Site) -> User:
    """A second commissioner of site A, who saves first."""
    user = UserFactory(username="colleague", first_name="Sam", last_name="Jones")
    MembershipFactory(user=user, site=site_a, role=Role.COMMISSIONER)
    return user


@pytest.fixture
def draft(default_instrument: Instrument, site_a: Site, commissioner_a: User) -> Round:
    return round_create(site=site_a, user=commissioner_a, source="page", held_on=HELD_ON, notes="In the town hall")


@pytest.fixture
def api_client() -> Any:
    def _api_client(user: User) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return _api_client
