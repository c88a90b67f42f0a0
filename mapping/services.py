"""Writes to a site's register and mapping.

Every change records who made it and whether it came through a page or the API
(django-simple-history's change reason), so a service's page can show its history.
Rules are checked here, whatever the entry point, and broken rules raise
django.core.exceptions.ValidationError keyed by field.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from core import limits
from core.history import Source, stamp
from core.versioning import StaleSave, check_version
from sites.models import Site

from .models import Grouping, Offer, Organisation, Service

SERVICE_FIELDS = (
    "organisation",
    "name",
    "description",
    "sector",
    "min_age",
    "max_age",
    "annual_capacity",
    "typical_wait_weeks",
    "status",
    "website",
    "contact_email",
    "contact_phone",
    "last_checked_on",
)
SERVICE_M2M_FIELDS = ("delivery_settings", "referral_routes", "areas")


def organisation_create(
    *, site: Site, user: User | None, source: Source, name: str, sector: str, website: str = ""
) -> Organisation:
    organisation = Organisation(site=site, name=name.strip(), sector=sector, website=website)
    _validate_organisation(organisation)
    stamp(organisation, user=user, source=source)
    _save_organisation(organisation)
    return organisation


ORGANISATION_FIELDS = ("name", "sector", "website")


def organisation_update(
    *,
    organisation: Organisation,
    user: User | None,
    source: Source,
    data: Mapping[str, Any],
    expected_version: int | None,
) -> Organisation:
    """Change an organisation; refused (StaleSave) if it changed since `expected_version`."""
    with transaction.atomic():
        current = Organisation.objects.select_for_update().get(pk=organisation.pk)
        current.version = check_version(expected=expected_version, current=current, thing="organisation")
        for name in ORGANISATION_FIELDS:
            if name in data:
                setattr(current, name, data[name].strip() if name == "name" else data[name])
        _validate_organisation(current)
        stamp(current, user=user, source=source)
        _save_organisation(current)
    return current


ORGANISATION_NAME_TAKEN = "This site already has an organisation with this name."


def _validate_organisation(organisation: Organisation) -> None:
    organisation.full_clean(exclude=["site"], validate_unique=False, validate_constraints=False)
    clash = Organisation.objects.filter(site_id=organisation.site_id, name__iexact=organisation.name)
    if organisation.pk:
        clash = clash.exclude(pk=organisation.pk)
    if clash.exists():
        raise ValidationError({"name": ORGANISATION_NAME_TAKEN})


def _save_organisation(organisation: Organisation) -> None:
    # The check above can race with another save; the case-insensitive unique
    # constraint settles it, and the loser gets the same message.
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError as error:
        raise ValidationError({"name": ORGANISATION_NAME_TAKEN}) from error


# The limits every caller meets (core.limits), checked here so a page, the API and an
# import refuse the same values with the same words.
SERVICE_TEXT_LIMITS: dict[str, limits.TextLimit] = {
    "name": limits.NAME,
    "description": limits.DESCRIPTION,
    "website": limits.WEB_ADDRESS,
    "contact_email": limits.EMAIL,
    "contact_phone": limits.PHONE,
}
SERVICE_NUMBER_LIMITS: dict[str, limits.NumberLimit] = {
    "min_age": limits.MINIMUM_AGE,
    "max_age": limits.MAXIMUM_AGE,
    "annual_capacity": limits.ANNUAL_CAPACITY,
    "typical_wait_weeks": limits.WAIT_WEEKS,
}
AGES_IN_ORDER = "Maximum age must be the same as or more than the minimum age"
# What a service cannot be without, in the words the form and the API use too.
SERVICE_REQUIRED = {
    "name": "Enter the service's name",
    "min_age": "Enter the youngest age the service sees",
    "max_age": "Enter the oldest age the service sees",
}


def _limit_errors(service: Service) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {
        name: [message] for name, message in SERVICE_REQUIRED.items() if getattr(service, name) in (None, "")
    }
    for name, text_limit in SERVICE_TEXT_LIMITS.items():
        if name not in errors and (found := text_limit.errors(getattr(service, name))):
            errors[name] = found
    for name, number_limit in SERVICE_NUMBER_LIMITS.items():
        if name not in errors and (found := number_limit.errors(getattr(service, name))):
            errors[name] = found
    if found := limits.LAST_CHECKED_DATE.errors(service.last_checked_on):
        errors["last_checked_on"] = found
    return errors


def _validate_service(service: Service, m2m: Mapping[str, Iterable[Any]]) -> None:
    errors = _limit_errors(service)
    # The model's own rules (choices, required fields, email and web address formats)
    # hold for every caller too. Fields already refused by a limit are left out, so the
    # model's "Ensure this value ..." never repeats a limit's plain message.
    try:
        service.full_clean(exclude=["site", "organisation", *errors], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if service.organisation_id is not None and service.organisation.site_id != service.site_id:
        errors["organisation"] = ["Choose an organisation from this site's register."]
    ages_known = "min_age" not in errors and "max_age" not in errors
    if ages_known and service.min_age is not None and service.max_age is not None and service.min_age > service.max_age:
        errors["max_age"] = [AGES_IN_ORDER]
    for area in m2m.get("areas", []):
        if area.site_id != service.site_id:
            errors["areas"] = ["Choose areas that belong to this site."]
    if errors:
        raise ValidationError(errors)


def _apply_service_data(service: Service, data: Mapping[str, Any]) -> dict[str, Any]:
    for name in SERVICE_FIELDS:
        if name in data:
            setattr(service, name, data[name])
    return {name: list(data[name]) for name in SERVICE_M2M_FIELDS if name in data}


@transaction.atomic
def service_create(*, site: Site, user: User | None, source: Source, data: Mapping[str, Any]) -> Service:
    service = Service(site=site)
    m2m = _apply_service_data(service, data)
    if "last_checked_on" not in data:
        # A record entered now has just been checked by the person entering it.
        service.last_checked_on = timezone.localdate()
    service.last_checked_by = user
    _validate_service(service, m2m)
    stamp(service, user=user, source=source)
    service.save()
    for name, values in m2m.items():
        getattr(service, name).set(values)
    return service


def _lock_service(service: Service, *, expected_version: int | None) -> Service:
    """The service's row, locked until the transaction ends, after checking that it
    is still the version the person read (StaleSave if not). Every write to a service
    or to its offers takes this lock first, so they happen one at a time."""
    current = Service.objects.select_for_update().get(pk=service.pk)
    check_version(expected=expected_version, current=current, thing="service")
    return current


def service_update(
    *,
    service: Service,
    user: User | None,
    source: Source,
    data: Mapping[str, Any],
    expected_version: int | None,
) -> Service:
    """Change a service's record; refused (StaleSave) if it changed since `expected_version`."""
    with transaction.atomic():
        current = _lock_service(service, expected_version=expected_version)
        previous_checked = current.last_checked_on
        m2m = _apply_service_data(current, data)
        if current.last_checked_on != previous_checked:
            current.last_checked_by = user
        _validate_service(current, m2m)
        current.version += 1
        stamp(current, user=user, source=source)
        current.save()
        for name, values in m2m.items():
            getattr(current, name).set(values)
    return current


def service_mark_checked(
    *, service: Service, user: User | None, source: Source, expected_version: int | None
) -> Service:
    """Record that `user` checked the service's record today."""
    with transaction.atomic():
        current = _lock_service(service, expected_version=expected_version)
        current.last_checked_on = timezone.localdate()
        current.last_checked_by = user
        current.version += 1
        stamp(current, user=user, source=source)
        current.save(update_fields=["last_checked_on", "last_checked_by", "version", "updated_at"])
    return current


def service_archive(*, service: Service, user: User | None, source: Source, expected_version: int | None) -> Service:
    """Archived services leave the register and the mapping but keep their history.
    Archiving an archived service changes nothing."""
    with transaction.atomic():
        current = _lock_service(service, expected_version=expected_version)
        if current.archived_at is None:
            current.archived_at = timezone.now()
            current.version += 1
            stamp(current, user=user, source=source)
            current.save(update_fields=["archived_at", "version", "updated_at"])
    return current


def service_restore(*, service: Service, user: User | None, source: Source, expected_version: int | None) -> Service:
    """Bring an archived service back to the register and the mapping, with the offers
    it had. Restoring a service in the register changes nothing."""
    with transaction.atomic():
        current = _lock_service(service, expected_version=expected_version)
        if current.archived_at is not None:
            current.archived_at = None
            current.version += 1
            stamp(current, user=user, source=source)
            current.save(update_fields=["archived_at", "version", "updated_at"])
    return current


# Offers --------------------------------------------------------------------------------
#
# An offer's version comes from its service's mapping_version, which every write to
# the service's offers moves on by one. So the mapping page can check the whole mapping
# at once, and an offer removed and made again never has a version it had before (a
# client holding the old ETag is refused, not matched by chance).


def _lock_mapping(service: Service) -> Service:
    current = Service.objects.select_for_update().get(pk=service.pk)
    if current.archived_at is not None:
        raise ValidationError({"__all__": "This service is archived. Restore it before changing its mapping."})
    return current


def _next_mapping_version(service: Service) -> int:
    service.mapping_version += 1
    # The counter is not a change to the service's record (its version stays): the
    # offers' own history says what changed in the mapping.
    service.save_without_historical_record(update_fields=["mapping_version"])  # type: ignore[attr-defined]
    return service.mapping_version


def changed_after_opening(*, who: Any, when: Any, thing: str) -> str:
    """ "Sam Jones changed the THRIVE mapping of this service at 14:05 on 3 December
    2026, after you opened it." in core.versioning's words."""
    at = ""
    if when is not None:
        local = timezone.localtime(when)
        at = f" at {date_format(local, 'H:i')} on {date_format(local, 'j F Y')}"
    return f"{who if who is not None else 'Someone else'} changed {thing}{at}, after you opened it."


def _mapping_stale(service: Service) -> StaleSave:
    """The mapping changed since the person opened it: who changed it last, and when."""
    record = (
        Offer.history.filter(service_id=service.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )
    changed = changed_after_opening(
        who=record.history_user if record is not None else None,
        when=record.history_date if record is not None else None,
        thing="the THRIVE mapping of this service",
    )
    message = (
        f"{changed} Your changes were not saved: check what they saved, then save again if you still want your changes."
    )
    return StaleSave(message, current=service, version=service.mapping_version)


def _check_offer(capacity_share: int, description: str) -> None:
    errors = limits.CAPACITY_SHARE.errors(capacity_share)
    described = limits.OFFER_DESCRIPTION.errors(description)
    if errors or described:
        raise ValidationError({k: v for k, v in (("capacity_share", errors), ("description", described)) if v})


def _share_error(total: int) -> ValidationError:
    return ValidationError(
        {
            "capacity_share": (
                f"The shares of this service's capacity would add up to {total}%. "
                "Shares across all groupings must add up to 100% or less."
            )
        }
    )


def _offer_thing(grouping: Grouping) -> str:
    return f"offer in {grouping.label}"


def offer_set(
    *,
    service: Service,
    grouping: Grouping,
    user: User | None,
    source: Source,
    capacity_share: int,
    description: str = "",
    expected_version: int | None,
) -> tuple[Offer, bool]:
    """Create or change the service's offer in one grouping. Returns the offer and
    whether this call created it.

    `expected_version` is the offer's version the person read, 0 for "no offer here"
    (create only if absent); a mismatch raises StaleSave carrying the offer as it is.
    The service row is locked, so two people mapping the same service at once cannot
    together push its shares past 100%, and of two creating the same offer at once
    exactly one is told it was created: the other finds it made and is refused.
    """
    description = description.strip()
    with transaction.atomic():
        locked = _lock_mapping(service)
        existing = Offer.objects.filter(service=locked, grouping=grouping).first()
        check_version(expected=expected_version, current=existing, thing=_offer_thing(grouping))
        _check_offer(capacity_share, description)
        others = (
            Offer.objects.filter(service=locked)
            .exclude(grouping=grouping)
            .aggregate(total=Sum("capacity_share"))["total"]
            or 0
        )
        if others + capacity_share > 100:
            raise _share_error(others + capacity_share)
        offer = existing or Offer(service=locked, grouping=grouping)
        offer.capacity_share = capacity_share
        offer.description = description
        offer.version = _next_mapping_version(locked)
        stamp(offer, user=user, source=source)
        offer.save()
    return offer, existing is None


def offer_remove(
    *, service: Service, grouping: Grouping, user: User | None, source: Source, expected_version: int | None
) -> bool:
    """Unmap the service from the grouping; whether there was an offer to remove.
    Removing an offer that is not there (expected version 0) changes nothing."""
    with transaction.atomic():
        locked = _lock_mapping(service)
        existing = Offer.objects.filter(service=locked, grouping=grouping).first()
        check_version(expected=expected_version, current=existing, thing=_offer_thing(grouping))
        if existing is None:
            return False
        _next_mapping_version(locked)
        stamp(existing, user=user, source=source)
        existing.delete()
    return True


@dataclass(frozen=True)
class OfferInput:
    grouping: Grouping
    capacity_share: int
    description: str = ""


def offers_replace(
    *,
    service: Service,
    offers: Iterable[OfferInput],
    user: User | None,
    source: Source,
    expected_mapping_version: int | None = None,
) -> list[Offer]:
    """Set the service's whole mapping at once: groupings left out are unmapped.

    Refused (StaleSave) if any offer of the service changed since the person read the
    mapping at `expected_mapping_version`. None skips the check, and is only for
    trusted internal callers (the demo loader); pages always send what they showed.
    """
    wanted = [replace(item, description=item.description.strip()) for item in offers]
    with transaction.atomic():
        locked = _lock_mapping(service)
        if expected_mapping_version is not None and expected_mapping_version != locked.mapping_version:
            raise _mapping_stale(locked)
        for item in wanted:
            _check_offer(item.capacity_share, item.description)
        total = sum(o.capacity_share for o in wanted)
        if total > 100:
            raise _share_error(total)
        existing = {o.grouping_id: o for o in Offer.objects.filter(service=locked)}
        keep = {o.grouping.pk for o in wanted}
        removed = [offer for grouping_id, offer in existing.items() if grouping_id not in keep]
        changed = [
            item
            for item in wanted
            if item.grouping.pk not in existing
            or (existing[item.grouping.pk].capacity_share, existing[item.grouping.pk].description)
            != (item.capacity_share, item.description)
        ]
        version = _next_mapping_version(locked) if removed or changed else locked.mapping_version
        for offer in removed:
            stamp(offer, user=user, source=source)
            offer.delete()
        for item in changed:
            offer = existing.get(item.grouping.pk) or Offer(service=locked, grouping=item.grouping)
            offer.capacity_share = item.capacity_share
            offer.description = item.description
            offer.version = version
            stamp(offer, user=user, source=source)
            offer.save()
            existing[item.grouping.pk] = offer
    return [existing[item.grouping.pk] for item in wanted]
