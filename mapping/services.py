"""Writes to a site's register and mapping.

Every change records who made it and whether it came through a page or the API
(django-simple-history's change reason), so a service's page can show its history.
Rules are checked here, whatever the entry point, and broken rules raise
django.core.exceptions.ValidationError keyed by field.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from core.history import Source, stamp
from core.versioning import check_version
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


def _validate_service(service: Service, m2m: Mapping[str, Iterable[Any]]) -> None:
    # Field rules (choices, lengths, the 0 to 25 age range) hold for every caller,
    # importers and the demo loader included, not only forms and serializers.
    try:
        service.full_clean(exclude=["site", "organisation"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ValidationError(error.message_dict) from error
    errors: dict[str, str] = {}
    if service.organisation_id is not None and service.organisation.site_id != service.site_id:
        errors["organisation"] = "Choose an organisation from this site's register."
    if service.min_age is not None and service.max_age is not None and service.min_age > service.max_age:
        errors["max_age"] = "Maximum age must be the same as or more than the minimum age"
    for area in m2m.get("areas", []):
        if area.site_id != service.site_id:
            errors["areas"] = "Choose areas that belong to this site."
    if service.last_checked_on and service.last_checked_on > timezone.localdate():
        errors["last_checked_on"] = "Last checked date must be today or in the past."
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


@transaction.atomic
def service_update(*, service: Service, user: User | None, source: Source, data: Mapping[str, Any]) -> Service:
    previous_checked = service.last_checked_on
    m2m = _apply_service_data(service, data)
    if service.last_checked_on != previous_checked:
        service.last_checked_by = user
    _validate_service(service, m2m)
    stamp(service, user=user, source=source)
    service.save()
    for name, values in m2m.items():
        getattr(service, name).set(values)
    return service


def service_mark_checked(*, service: Service, user: User | None, source: Source) -> Service:
    service.last_checked_on = timezone.localdate()
    service.last_checked_by = user
    stamp(service, user=user, source=source)
    service.save(update_fields=["last_checked_on", "last_checked_by", "updated_at"])
    return service


def service_archive(*, service: Service, user: User | None, source: Source) -> Service:
    """Archived services leave the register and the mapping but keep their history."""
    if service.archived_at is None:
        service.archived_at = timezone.now()
        stamp(service, user=user, source=source)
        service.save(update_fields=["archived_at", "updated_at"])
    return service


def service_restore(*, service: Service, user: User | None, source: Source) -> Service:
    if service.archived_at is not None:
        service.archived_at = None
        stamp(service, user=user, source=source)
        service.save(update_fields=["archived_at", "updated_at"])
    return service


def _require_current(service: Service) -> None:
    if service.archived_at is not None:
        raise ValidationError({"__all__": "This service is archived. Restore it before changing its mapping."})


def _check_share(capacity_share: int) -> None:
    if not 0 <= capacity_share <= 100:
        raise ValidationError({"capacity_share": "Enter a share from 0 to 100."})


def _share_error(total: int) -> ValidationError:
    return ValidationError(
        {
            "capacity_share": (
                f"The shares of this service's capacity would add up to {total}%. "
                "Shares across all groupings must add up to 100% or less."
            )
        }
    )


@transaction.atomic
def offer_set(
    *,
    service: Service,
    grouping: Grouping,
    user: User | None,
    source: Source,
    capacity_share: int,
    description: str = "",
) -> Offer:
    """Create or change the service's offer in one grouping.

    The service row is locked so two people mapping the same service at once cannot
    together push its shares past 100%.
    """
    Service.objects.select_for_update().filter(pk=service.pk).first()
    _require_current(service)
    _check_share(capacity_share)
    others = (
        Offer.objects.filter(service=service).exclude(grouping=grouping).aggregate(total=Sum("capacity_share"))["total"]
        or 0
    )
    if others + capacity_share > 100:
        raise _share_error(others + capacity_share)
    offer = Offer.objects.filter(service=service, grouping=grouping).first() or Offer(
        service=service, grouping=grouping
    )
    offer.capacity_share = capacity_share
    offer.description = description.strip()
    stamp(offer, user=user, source=source)
    offer.save()
    return offer


@transaction.atomic
def offer_remove(*, service: Service, grouping: Grouping, user: User | None, source: Source) -> None:
    offer = Offer.objects.filter(service=service, grouping=grouping).first()
    if offer is not None:
        stamp(offer, user=user, source=source)
        offer.delete()


@dataclass(frozen=True)
class OfferInput:
    grouping: Grouping
    capacity_share: int
    description: str = ""


@transaction.atomic
def offers_replace(*, service: Service, offers: Iterable[OfferInput], user: User | None, source: Source) -> list[Offer]:
    """Set the service's whole mapping at once: groupings left out are unmapped."""
    Service.objects.select_for_update().filter(pk=service.pk).first()
    _require_current(service)
    wanted = list(offers)
    for item in wanted:
        _check_share(item.capacity_share)
    total = sum(o.capacity_share for o in wanted)
    if total > 100:
        raise _share_error(total)
    keep = {o.grouping.pk for o in wanted}
    for offer in Offer.objects.filter(service=service).exclude(grouping_id__in=keep):
        stamp(offer, user=user, source=source)
        offer.delete()
    saved = []
    existing = {o.grouping_id: o for o in Offer.objects.filter(service=service)}
    for item in wanted:
        offer = existing.get(item.grouping.pk) or Offer(service=service, grouping=item.grouping)
        if offer.pk and offer.capacity_share == item.capacity_share and offer.description == item.description.strip():
            saved.append(offer)
            continue
        offer.capacity_share = item.capacity_share
        offer.description = item.description.strip()
        stamp(offer, user=user, source=source)
        offer.save()
        saved.append(offer)
    return saved
