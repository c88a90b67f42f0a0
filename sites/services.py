"""Writes to a site's own records."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User

from .models import AgeBand, Site, SitePopulation

MAX_PEOPLE_IN_A_BAND = 5_000_000


@transaction.atomic
def population_set(*, site: Site, user: User | None, people: Mapping[str, int]) -> dict[str, int]:
    """Set the number of children and young people in each age band, all at once."""
    errors = {}
    for band in AgeBand:
        value = people.get(band.value)
        if value is None:
            errors[band.value] = f"Enter the number of people aged {band.label}."
        elif not 0 <= value <= MAX_PEOPLE_IN_A_BAND:
            errors[band.value] = f"Enter a number from 0 to {MAX_PEOPLE_IN_A_BAND:,} for ages {band.label}."
    unknown = set(people) - set(AgeBand.values)
    if unknown:
        errors["__all__"] = f"Unknown age bands: {', '.join(sorted(unknown))}."
    if errors:
        raise ValidationError(errors)
    for band in AgeBand:
        SitePopulation.objects.update_or_create(site=site, age_band=band.value, defaults={"people": people[band.value]})
    return {band.value: people[band.value] for band in AgeBand}
