"""Fixtures the register's tests share: an API client per persona, and a colleague
who commissions site A alongside commissioner A (two people editing at once)."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import Role, Site
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def api_for() -> Any:
    def _api_for(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return _api_for


@pytest.fixture
def colleague(site_a: Site) -> User:
    user = UserFactory(username="colleague", first_name="Sam", last_name="Jones")
    MembershipFactory(user=user, site=site_a, role=Role.COMMISSIONER)
    return user
