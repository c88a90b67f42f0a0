"""A small world of real objects for the tests that walk every route and fuzz the API:
one site with something behind every kind of URL (a service mapped to a grouping, its
organisation, an area, a submitted baseline and a draft follow-up with an agreed score
and a rating, a finished gap analysis run with an improvement that has a decision and
a PDSA step, population and assumptions), built once per test.

Every text a person could read carries the site's canary, so a test can tell from a
response alone whether it shows that site's data.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from assessment.management.commands.load_instrument import load_default_instrument
from assessment.models import AgreedScore, Instrument, Item, Rating, Round, RoundStatus
from gaps import services as gap_services
from gaps.models import (
    AnalysisRun,
    DecisionStatus,
    ImprovementDecision,
    PdsaEntry,
    PdsaStage,
    RunStatus,
    RunTrigger,
    SiteAssumptions,
)
from mapping.models import Area, Grouping, Offer, Organisation, Sector, Service
from sites.models import AgeBand, Site, SitePopulation
from tests.factories import UserFactory

HELD_ON = datetime.date(2026, 3, 2)


@dataclass(frozen=True)
class SiteWorld:
    site: Site
    canary: str
    area: Area
    organisation: Organisation
    service: Service
    grouping_code: str
    baseline: Round
    round: Round
    item: Item
    rating: Rating
    run: AnalysisRun
    improvement_key: str


def instrument_world() -> Instrument:
    return load_default_instrument()


def site_world(site: Site, *, user: User, canary: str) -> SiteWorld:
    """Fill `site` with one of everything, named with `canary`."""
    groupings = {grouping.code: grouping for grouping in Grouping.objects.all()}
    instrument = instrument_world()
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.update_or_create(site=site, age_band=band.value, defaults={"people": people})
    SiteAssumptions.objects.get_or_create(site=site)
    area = Area.objects.create(site=site, name=f"{canary} Ward")
    organisation = Organisation.objects.create(site=site, name=f"{canary} Provider", sector=Sector.NHS)
    service = Service.objects.create(
        site=site,
        organisation=organisation,
        name=f"{canary} Service",
        description=f"{canary} support in schools.",
        sector=Sector.NHS,
        min_age=5,
        max_age=18,
        annual_capacity=200,
        typical_wait_weeks=4,
        last_checked_on=HELD_ON,
    )
    service.areas.add(area)
    # Help and Thriving, nothing in risk support: every analysis finds gaps.
    Offer.objects.create(service=service, grouping=groupings["getting-help"], description=canary, capacity_share=60)
    Offer.objects.create(service=service, grouping=groupings["thriving"], description=canary, capacity_share=40)

    items = list(instrument.items.select_related("part").order_by("order"))
    baseline = Round.objects.create(
        site=site,
        instrument=instrument,
        sequence=0,
        held_on=HELD_ON - datetime.timedelta(days=365),
        status=RoundStatus.SUBMITTED,
        notes=f"{canary} baseline",
        created_by=user,
    )
    AgreedScore.objects.bulk_create(
        AgreedScore(round=baseline, item=item, score=2 + item.order % 2, version=1, updated_by=user) for item in items
    )
    follow_up = Round.objects.create(
        site=site, instrument=instrument, sequence=1, held_on=HELD_ON, notes=f"{canary} follow-up", created_by=user
    )
    item = items[0]
    AgreedScore.objects.create(round=follow_up, item=item, score=3, notes=canary, version=1, updated_by=user)
    rating = Rating.objects.create(
        round=follow_up, item=item, participant=f"{canary} lead", score=2, notes=canary, version=1, recorded_by=user
    )

    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.API, requested_by=user)
    gap_services.run_execute(run_id=run.pk, today=HELD_ON)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    improvement = run.improvements.order_by("rank").first()
    assert improvement is not None, "the world's analysis found nothing to improve"
    decision = ImprovementDecision.objects.create(
        site=site,
        key=improvement.key,
        status=DecisionStatus.ACCEPTED,
        owner=f"{canary} owner",
        due_on=HELD_ON + datetime.timedelta(days=90),
        updated_by=user,
    )
    PdsaEntry.objects.create(
        decision=decision, stage=PdsaStage.PLAN, note=f"{canary} plan", recorded_on=HELD_ON, recorded_by=user
    )
    return SiteWorld(
        site=site,
        canary=canary,
        area=area,
        organisation=organisation,
        service=service,
        grouping_code="getting-help",
        baseline=baseline,
        round=follow_up,
        item=item,
        rating=rating,
        run=run,
        improvement_key=improvement.key,
    )


@dataclass(frozen=True)
class PasswordReset:
    """A valid password reset link for a user nobody signs in as."""

    uidb64: str
    token: str


def password_reset_world() -> PasswordReset:
    user = UserFactory(username="forgetful")
    return PasswordReset(
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)), token=default_token_generator.make_token(user)
    )


# What a <public_id> holds depends on the word before it: /services/<public_id>/ is a service.
PUBLIC_IDS: dict[str, Callable[[SiteWorld], Any]] = {
    "services": lambda w: w.service.public_id,
    "matrix": lambda w: w.service.public_id,
    "organisations": lambda w: w.organisation.public_id,
    "rounds": lambda w: w.round.public_id,
    "assessment": lambda w: w.round.public_id,
    "runs": lambda w: w.run.public_id,
    "gap-runs": lambda w: w.run.public_id,
}


@dataclass(frozen=True)
class World:
    a: SiteWorld
    b: SiteWorld
    instrument: Instrument
    reset: PasswordReset

    def parameter(self, name: str, *, after: str, side: SiteWorld, where: str) -> str:
        """The value of the URL parameter `name`, which comes after the path `after`, for an
        address of `side`'s site. A new kind of parameter needs a line here, and the world
        an object for it if it lacks one."""
        if name == "public_id":
            word = after.rstrip("/").rsplit("/", 1)[-1]
            if word not in PUBLIC_IDS:
                pytest.fail(
                    f"{where}: cannot tell what the public_id after '{word}/' is. Add '{word}' to PUBLIC_IDS "
                    "in thrive_site/tests/world.py (and the object to site_world() if the world lacks one)."
                )
            return str(PUBLIC_IDS[word](side))
        values = {
            "site_slug": side.site.slug,
            "grouping_code": side.grouping_code,
            "part_code": side.item.part.code,
            "item_code": side.item.code,
            "rating_id": str(side.rating.public_id),
            "key": side.improvement_key,
            "version": self.instrument.version,
            "uidb64": self.reset.uidb64,
            "token": self.reset.token,
        }
        if name not in values:
            pytest.fail(
                f"{where}: no value for the URL parameter {name!r}. Add it to World.parameter() in "
                "thrive_site/tests/world.py (and the object to site_world() if the world lacks one)."
            )
        return values[name]
