"""Reads of a site's register and mapping. Callers pass a site already resolved
through sites.selectors, so everything here is scoped to that site."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Lower
from django.http import Http404
from django.utils import timezone

from sites.models import AgeBand, Site

from .models import (
    COUNTED_STATUSES,
    COUNTING_RULE,
    Area,
    DeliverySetting,
    Grouping,
    Offer,
    Organisation,
    ReferralRoute,
    Sector,
    Service,
    ServiceStatus,
)


def stale_cutoff(*, today: date | None = None) -> date:
    """Records last checked before this date are stale."""
    today = today or timezone.localdate()
    return today - timedelta(days=settings.STALE_AFTER_DAYS)


def groupings_in_order() -> QuerySet[Grouping]:
    return Grouping.objects.order_by("order")


def delivery_settings_in_order() -> QuerySet[DeliverySetting]:
    return DeliverySetting.objects.order_by("order", "label")


def referral_routes_in_order() -> QuerySet[ReferralRoute]:
    return ReferralRoute.objects.order_by("order", "label")


def organisations_for_site(*, site: Site) -> QuerySet[Organisation]:
    # Names sort as people read them: "eXtra Care" between "Dove" and "Zebra".
    return Organisation.objects.filter(site=site).order_by(Lower("name"), "pk")


def organisation_get(*, site: Site, public_id: UUID | str) -> Organisation:
    try:
        return organisations_for_site(site=site).get(public_id=public_id)
    except (Organisation.DoesNotExist, ValueError):
        raise Http404("No such organisation") from None


def areas_for_site(*, site: Site) -> QuerySet[Area]:
    return Area.objects.filter(site=site).order_by(Lower("name"), "pk")


def services_with_offers(*, site: Site, include_archived: bool = False) -> QuerySet[Service]:
    """The site's services with their organisation and offers: what the service list
    and the mapping matrix show, in two queries whatever the number of services."""
    services = Service.objects.filter(site=site)
    if not include_archived:
        services = services.current()
    return services.select_related("organisation").prefetch_related(
        Prefetch("offers", queryset=Offer.objects.select_related("grouping").order_by("grouping__order"))
    )


def services_for_site(*, site: Site, include_archived: bool = False) -> QuerySet[Service]:
    """The site's services with everything a service's page or the API shows: the
    offers, and who last checked them, settings, routes and areas, in a fixed number
    of queries whatever the number of services."""
    return (
        services_with_offers(site=site, include_archived=include_archived)
        .select_related("last_checked_by")
        .prefetch_related("delivery_settings", "referral_routes", "areas")
    )


def services_counted(*, site: Site) -> QuerySet[Service]:
    """The site's services that count towards its capacity and coverage, on the overview
    and in the gap analysis alike: in the register (not archived) and of a counted
    status (COUNTED_STATUSES, stated for people as COUNTING_RULE)."""
    return Service.objects.current().filter(site=site, status__in=COUNTED_STATUSES)


def service_get(*, site: Site, public_id: UUID | str, include_archived: bool = True) -> Service:
    try:
        return services_for_site(site=site, include_archived=include_archived).get(public_id=public_id)
    except (Service.DoesNotExist, ValueError):
        raise Http404("No such service") from None


def service_is_stale(*, service: Service, today: date | None = None) -> bool:
    return service.last_checked_on is None or service.last_checked_on < stale_cutoff(today=today)


@dataclass
class GroupingSummary:
    grouping: Grouping
    services: int = 0
    capacity: int = 0
    sectors: list[str] = field(default_factory=list)
    youngest: int | None = None
    oldest: int | None = None
    bands_covered: list[str] = field(default_factory=list)
    bands_missing: list[str] = field(default_factory=list)


UNMAPPED_SHOWN = 10


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    services: int


@dataclass
class SiteOverview:
    site: Site
    groupings: list[GroupingSummary]
    unmapped: list[Service]
    unmapped_count: int
    total_services: int
    counted_services: int
    # Services in the register that the counting rule leaves out, by status.
    not_counted: list[StatusCount]
    max_capacity: int
    counting_rule: str = COUNTING_RULE

    @property
    def not_counted_total(self) -> int:
        return sum(row.services for row in self.not_counted)

    @property
    def not_counted_sentence(self) -> str:
        """ "2 planned and 1 paused services are in the register but not counted." """
        if not self.not_counted:
            return ""
        parts = [f"{row.services:,} {row.label.lower()}" for row in self.not_counted]
        listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
        noun, verb = ("service", "is") if self.not_counted_total == 1 else ("services", "are")
        return f"{listed} {noun} {verb} in the register but not counted."


def site_overview(*, site: Site) -> SiteOverview:
    """Per grouping, in THRIVE order: services, capacity given to the grouping (annual
    capacity times the offer's share, rounded down per service), sectors present and
    age coverage, counting only the services the counting rule counts
    (services_counted), as the gap analysis does.

    The database does the sums: one grouped query gives each grouping's services,
    capacity, age span, and how many of its services reach each age band and come from
    each sector, so the page reads five rows and costs the same number of queries for 5
    services or 5,000.
    """
    groupings = list(groupings_in_order())
    summaries = {g.pk: GroupingSummary(grouping=g, bands_missing=[b.label for b in AgeBand]) for g in groupings}
    bands = {
        f"band_{index}": Count("pk", filter=Q(service__min_age__lte=high, service__max_age__gte=low))
        for index, (low, high) in enumerate(AgeBand.bounds(band) for band in AgeBand)
    }
    sectors = {
        f"sector_{index}": Count("pk", filter=Q(service__sector=code)) for index, code in enumerate(Sector.values)
    }
    totals = (
        Offer.objects.filter(service__in=services_counted(site=site))
        .values("grouping_id")
        .order_by("grouping_id")
        .annotate(
            services=Count("pk"),
            capacity=Sum(Coalesce(F("service__annual_capacity"), 0) * F("capacity_share") / 100),
            youngest=Min("service__min_age"),
            oldest=Max("service__max_age"),
            **bands,
            **sectors,
        )
    )
    rows: list[Mapping[str, Any]] = list(totals)
    for row in rows:
        summary = summaries[row["grouping_id"]]
        summary.services = row["services"]
        summary.capacity = row["capacity"] or 0
        summary.youngest, summary.oldest = row["youngest"], row["oldest"]
        summary.sectors = sorted(label for index, label in enumerate(Sector.labels) if row[f"sector_{index}"])
        summary.bands_covered = [band.label for index, band in enumerate(AgeBand) if row[f"band_{index}"]]
        summary.bands_missing = [band.label for index, band in enumerate(AgeBand) if not row[f"band_{index}"]]
    by_status = dict(
        Service.objects.current()
        .filter(site=site)
        .values("status")
        .order_by("status")
        .annotate(services=Count("pk"))
        .values_list("status", "services")
    )
    unmapped = (
        Service.objects.current()
        .filter(site=site)
        .exclude(status=ServiceStatus.DECOMMISSIONED)
        .filter(offers__isnull=True)
        .select_related("organisation")
        .order_by(Lower("name"), "pk")
    )
    ordered = [summaries[g.pk] for g in groupings]
    return SiteOverview(
        site=site,
        groupings=ordered,
        unmapped=list(unmapped[:UNMAPPED_SHOWN]),
        unmapped_count=unmapped.count(),
        total_services=sum(by_status.values()),
        counted_services=sum(n for status, n in by_status.items() if status in COUNTED_STATUSES),
        not_counted=[
            StatusCount(status=status.value, label=status.label, services=by_status[status.value])
            for status in ServiceStatus
            if status.value not in COUNTED_STATUSES and by_status.get(status.value)
        ],
        max_capacity=max((s.capacity for s in ordered), default=0),
    )
