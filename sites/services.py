"""Writes to a site's own records."""

from collections.abc import Mapping
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from core.history import Source, stamp
from core.limits import PEOPLE_IN_A_BAND, NumberLimit
from core.versioning import StaleSave, check_version, stale_message

from .models import AgeBand, Site, SitePopulation
from .selectors import Population, population_from_rows

POPULATION = "site's population"


def population_limit(band: AgeBand) -> NumberLimit:
    """The limit on one band's number of people, with messages that name the band."""
    return replace(PEOPLE_IN_A_BAND, what=f"number of people aged {band.label}")


def _population_errors(people: Mapping[str, int | None]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for band in AgeBand:
        limit = population_limit(band)
        value = people.get(band.value)
        if value is None:
            errors[band.value] = [limit.messages()["required"]]
        elif limit.errors(value):
            errors[band.value] = limit.errors(value)
    unknown = set(people) - set(AgeBand.values)
    if unknown:
        errors["__all__"] = [f"There is no age band {', '.join(sorted(unknown))}. Use {', '.join(AgeBand.values)}."]
    return errors


def population_set(
    *,
    site: Site,
    user: User | None,
    source: Source,
    people: Mapping[str, int | None],
    expected_version: int | None,
) -> Population:
    """Set the number of children and young people in each age band, all at once.

    The bands are one resource: refused (StaleSave, with the population as it is now)
    unless `expected_version` is the highest band version, read under a lock of the
    site's rows; every band is then written with the next version."""
    errors = _population_errors(people)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rows = {row.age_band: row for row in SitePopulation.objects.select_for_update().filter(site=site)}
        newest = max(rows.values(), key=lambda row: row.version, default=None)
        try:
            version = check_version(expected=expected_version, current=newest, thing=POPULATION)
        except StaleSave as stale:
            raise StaleSave(
                stale.messages[0], current=population_from_rows(list(rows.values())), version=stale.version
            ) from None
        saved = []
        for band in AgeBand:
            row = rows.get(band.value) or SitePopulation(site=site, age_band=band.value)
            row.people = int(people[band.value] or 0)
            row.version = version
            stamp(row, user=user, source=source)
            try:
                # A savepoint: a band another request created since the rows were
                # locked (none existed to lock) breaks the unique constraint here.
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                current = list(SitePopulation.objects.filter(site=site))
                raise StaleSave(
                    stale_message(thing=POPULATION, current=max(current, key=lambda r: r.version)),
                    current=population_from_rows(current),
                    version=population_from_rows(current).version,
                ) from None
            saved.append(row)
    return population_from_rows(saved)
