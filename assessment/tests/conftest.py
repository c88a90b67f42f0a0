"""Fixtures shared by the assessment tests of stale saves, limits and history."""

from typing import Any

import pytest

from accounts.models import User
from assessment.management.commands.load_instrument import load_default_instrument
from assessment.models import Instrument, Round
from assessment.services import round_create
from sites.models import Site

from .support import HELD_ON


@pytest.fixture
def default_instrument(db: Any) -> Instrument:
    return load_default_instrument()


@pytest.fixture
def draft(default_instrument: Instrument, site_a: Site, commissioner_a: User) -> Round:
    return round_create(site=site_a, user=commissioner_a, source="page", held_on=HELD_ON, notes="In the town hall")
