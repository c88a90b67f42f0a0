"""Reads of a site's register and mapping. Callers pass a site already resolved
through sites.selectors, so everything here is scoped to that site."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from sites.models import AgeBand, Site

from .models import Area, Grouping, Offer, Organisation, Sector, Service, ServiceStatus


def stale_cutoff(*, today: date | None = None) -> date:
    """Records last checked before this date are stale."""
    today = today or timezone.localdate()
    return today - timedelta(days=settings.STALE_AFTER_DAYS)


def groupings_in_order() -> QuerySet[Grouping]:
    return Grouping.objects.order_by("order")


def organisations_for_site(*, site: Site) -> QuerySet[Organisation]:
    return Organisation.objects.filter(site=site).order_by("name")


def organisation_get(*, site: Site, public_id: UUID | str) -> Organisation:
    try:
        return organisations_for_site(site=site).get(public_id=public_id)
    except (Organisation.DoesNotExist, ValueError):
        raise Http404("No such organisation") from None


def areas_for_site(*, site: Site) -> QuerySet[Area]:
    return Area.objects.filter(site=site).order_by("name")


def services_for_site(*, site: Site, include_archived: bool = False) -> QuerySet[Service]:
    """The site's services with everything a list or detail page shows, in a fixed
    number of queries whatever the number of services."""
    services = Service.objects.filter(site=site)
    if not include_archived:
        services = services.current()
    return services.select_related("organisation", "last_checked_by").prefetch_related(
        Prefetch("offers", queryset=Offer.objects.select_related("grouping").order_by("grouping__order")),
        "delivery_settings",
        "referral_routes",
        "areas",
    )


def service_get(*, site: Site, public_id: UUID | str, include_archived: bool = True) -> Service:
    try:
        return services_for_site(site=site, include_archived=include_archived).get(public_id=public_id)
    except (Service.DoesNotExist, ValueError):
        raise Http404("No such service") from None


def service_is_stale(*, service: Service, today: date | None = None) -> bool:
    return service.last_checked_on is None or service.last_checked_on < stale_cutoff(today=today)


def service_history(*, service: Service) -> list[dict[str, object]]:
    """Every recorded change to the service and its offers, newest first, with the
    fields that changed, who changed them and whether through a page or the API."""
    entries: list[dict[str, object]] = []
    service_records = list(service.history.select_related("history_user").order_by("history_date"))
    previous = None
    for record in service_records:
        changes = []
        if previous is not None:
            delta = record.diff_against(previous)
            changes = [
                {"field": _field_label(Service, change.field), "old": change.old, "new": change.new}
                for change in delta.changes
            ]
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "source": record.history_change_reason or "",
                "what": "Service created" if record.history_type == "+" else _service_action(record),
                "changes": changes,
            }
        )
        previous = record
    offer_records = Offer.history.filter(service_id=service.pk).select_related("history_user", "grouping")
    for record in offer_records.order_by("history_date"):
        verb = {"+": "Mapped to", "~": "Changed offer in", "-": "Removed from"}[record.history_type]
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "source": record.history_change_reason or "",
                "what": f"{verb} {record.grouping.label}",
                "changes": [
                    {"field": "Share of capacity", "old": None, "new": f"{record.capacity_share}%"},
                    {"field": "Offer", "old": None, "new": record.description},
                ]
                if record.history_type != "-"
                else [],
            }
        )
    entries.sort(key=lambda entry: entry["when"], reverse=True)  # type: ignore[arg-type, return-value]
    return entries


def _service_action(record: object) -> str:
    if getattr(record, "history_type", "") == "-":
        return "Service deleted"
    return "Service updated"


def _field_label(model: type[Service], name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name).capitalize()
    except Exception:  # noqa: BLE001 - history may hold fields since removed
        return name


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


@dataclass
class SiteOverview:
    site: Site
    groupings: list[GroupingSummary]
    unmapped: list[Service]
    total_services: int
    max_capacity: int


def site_overview(*, site: Site) -> SiteOverview:
    """Per grouping, in THRIVE order: services, capacity given to the grouping (annual
    capacity times the offer's share), sectors present and age coverage.

    One query reads the offers of current, non-decommissioned services as plain
    values; the sums are done in Python so the page costs the same number of queries
    for 5 services or 5,000.
    """
    groupings = list(groupings_in_order())
    summaries = {g.pk: GroupingSummary(grouping=g) for g in groupings}
    sectors: dict[int, set[str]] = {g.pk: set() for g in groupings}
    ranges: dict[int, list[tuple[int, int]]] = {g.pk: [] for g in groupings}
    rows = (
        Offer.objects.filter(service__site=site, service__archived_at__isnull=True)
        .exclude(service__status=ServiceStatus.DECOMMISSIONED)
        .values_list(
            "grouping_id",
            "capacity_share",
            "service__annual_capacity",
            "service__sector",
            "service__min_age",
            "service__max_age",
        )
    )
    for grouping_id, share, capacity, sector, min_age, max_age in rows.iterator(chunk_size=2000):
        summary = summaries[grouping_id]
        summary.services += 1
        summary.capacity += (capacity or 0) * share // 100
        sectors[grouping_id].add(sector)
        ranges[grouping_id].append((min_age, max_age))
    sector_labels = dict(Sector.choices)
    for grouping_id, summary in summaries.items():
        summary.sectors = sorted(sector_labels[s] for s in sectors[grouping_id])
        spans = ranges[grouping_id]
        if spans:
            summary.youngest = min(low for low, _ in spans)
            summary.oldest = max(high for _, high in spans)
        for band in AgeBand:
            low, high = AgeBand.bounds(band)
            covered = any(s_low <= high and s_high >= low for s_low, s_high in spans)
            (summary.bands_covered if covered else summary.bands_missing).append(band.label)
    unmapped = list(
        Service.objects.current()
        .filter(site=site)
        .exclude(status=ServiceStatus.DECOMMISSIONED)
        .filter(offers__isnull=True)
        .select_related("organisation")
        .order_by("name")
    )
    ordered = [summaries[g.pk] for g in groupings]
    return SiteOverview(
        site=site,
        groupings=ordered,
        unmapped=unmapped,
        total_services=Service.objects.current().filter(site=site).count(),
        max_capacity=max((s.capacity for s in ordered), default=0),
    )
