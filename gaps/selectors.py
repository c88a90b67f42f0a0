"""Reads for the gap analysis: the snapshot of a site the engine works on, and a
site's runs, gaps and improvement items. Callers pass a site already resolved
through sites.selectors."""

from collections import defaultdict
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Q
from django.http import Http404

from assessment.models import AgreedScore, Principle, Round, RoundStatus
from mapping.models import Grouping, Offer, ReferralRoute, Sector, Service, ServiceStatus
from sites.models import AgeBand, Site, SitePopulation

from .engine import (
    AgeBandInput,
    AnalysisInput,
    AssessmentInput,
    AssessmentItemInput,
    Assumptions,
    OfferInput,
    ServiceInput,
)
from .models import AnalysisRun, Improvement, ImprovementDecision, PrevalenceFigure, RunStatus, SiteAssumptions


def assumptions_for_site(*, site: Site) -> SiteAssumptions:
    """The site's assumptions, or the defaults (unsaved) if it has not set any."""
    return SiteAssumptions.objects.filter(site=site).first() or SiteAssumptions(site=site)


def population_for_site(*, site: Site) -> dict[str, int]:
    people = dict(SitePopulation.objects.filter(site=site).values_list("age_band", "people"))
    return {band.value: people.get(band.value, 0) for band in AgeBand}


def prevalence_figures() -> list[PrevalenceFigure]:
    order = {band.value: index for index, band in enumerate(AgeBand)}
    return sorted(PrevalenceFigure.objects.all(), key=lambda f: order.get(f.age_band, 99))


def latest_submitted_round(*, site: Site) -> Round | None:
    return (
        Round.objects.filter(site=site, status__in=[RoundStatus.SUBMITTED, RoundStatus.LOCKED])
        .select_related("instrument")
        .order_by("-sequence")
        .first()
    )


def _assessment_input(*, site: Site) -> AssessmentInput | None:
    round_ = latest_submitted_round(site=site)
    if round_ is None:
        return None
    items = []
    agreed = (
        AgreedScore.objects.filter(round=round_, score__isnull=False)
        .select_related("item__part", "item__principle")
        .order_by("item__order")
    )
    for row in agreed:
        evidence = " – ".join(
            part
            for part in (
                f"{row.evidence_value.normalize():f} {row.item.evidence_unit}".strip()
                if row.evidence_value is not None
                else "",
                row.evidence_text,
            )
            if part
        )
        items.append(
            AssessmentItemInput(
                code=row.item.code,
                principle=row.item.principle.code,
                principle_label=row.item.principle.label,
                part_label=row.item.part.label,
                score=row.score or 0,
                evidence=evidence,
            )
        )
    return AssessmentInput(
        round_label=round_.label,
        held_on=round_.held_on,
        threshold=round_.instrument.threshold,
        scale_min=round_.instrument.scale_min,
        items=tuple(items),
    )


def _services_input(*, site: Site) -> tuple[ServiceInput, ...]:
    """Every current service of the site with its offers and referral routes, in three
    flat queries whatever the size of the register (codes are looked up in Python
    rather than joined, which keeps the queries on one table each)."""
    sector_labels = dict(Sector.choices)
    grouping_codes = dict(Grouping.objects.values_list("pk", "code"))
    route_codes = dict(ReferralRoute.objects.values_list("pk", "code"))
    current = Q(service__site=site, service__archived_at__isnull=True)
    offers: dict[int, list[OfferInput]] = defaultdict(list)
    for service_id, grouping_id, share in Offer.objects.filter(current).values_list(
        "service_id", "grouping_id", "capacity_share"
    ):
        offers[service_id].append(OfferInput(grouping_codes[grouping_id], share))
    routes: dict[int, set[str]] = defaultdict(set)
    through = Service.referral_routes.through
    for service_id, route_id in through.objects.filter(current).values_list("service_id", "referralroute_id"):
        routes[service_id].add(route_codes[route_id])
    rows = (
        Service.objects.filter(site=site, archived_at__isnull=True)
        .exclude(status=ServiceStatus.DECOMMISSIONED)
        .order_by("name", "pk")
        .values_list(
            "pk",
            "name",
            "sector",
            "min_age",
            "max_age",
            "annual_capacity",
            "typical_wait_weeks",
            "status",
            "last_checked_on",
        )
    )
    empty: frozenset[str] = frozenset()
    return tuple(
        ServiceInput(
            id=str(pk),
            name=name,
            sector=sector,
            sector_label=sector_labels.get(sector, sector),
            min_age=min_age,
            max_age=max_age,
            annual_capacity=capacity,
            typical_wait_weeks=wait,
            referral_routes=frozenset(routes[pk]) if pk in routes else empty,
            status=status,
            last_checked_on=checked,
            offers=tuple(offers.get(pk, ())),
        )
        for pk, name, sector, min_age, max_age, capacity, wait, status, checked in rows
    )


def analysis_inputs(*, site: Site, today: date) -> AnalysisInput:
    assumptions = assumptions_for_site(site=site)
    population = population_for_site(site=site)
    prevalence = {f.age_band: f.percent for f in prevalence_figures()}
    bands = []
    for band in AgeBand:
        low, high = AgeBand.bounds(band)
        bands.append(
            AgeBandInput(
                code=band.value,
                label=band.label,
                low=low,
                high=high,
                population=population[band.value],
                prevalence_percent=prevalence.get(band.value, Decimal(0)),
            )
        )
    # Oldest instrument first, so the latest loaded wording is the one dict() keeps.
    principle_labels = dict(Principle.objects.order_by("code", "instrument__loaded_at").values_list("code", "label"))
    return AnalysisInput(
        site=site.slug,
        today=today,
        groupings=tuple(Grouping.objects.order_by("order").values_list("code", "label")),
        age_bands=tuple(bands),
        services=_services_input(site=site),
        assumptions=Assumptions(
            thriving_percent=assumptions.thriving_percent,
            need_split_percent=assumptions.need_split(),
            max_wait_weeks=assumptions.max_wait_weeks,
            self_referral_percent=assumptions.self_referral_percent,
            principle_weights={k: Decimal(str(v)) for k, v in (assumptions.principle_weights or {}).items()},
            stale_after_days=settings.STALE_AFTER_DAYS,
        ),
        assessment=_assessment_input(site=site),
        principle_labels=principle_labels,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def inputs_snapshot(inputs: AnalysisInput) -> dict[str, Any]:
    """Everything the run used, as JSON, kept on the run. Services are summarised
    (the register's own history keeps the detail); assumptions and figures in full."""
    statuses: dict[str, int] = defaultdict(int)
    for service in inputs.services:
        statuses[service.status] += 1
    data = {
        "site": inputs.site,
        "today": inputs.today,
        "groupings": [list(pair) for pair in inputs.groupings],
        "age_bands": [asdict(band) for band in inputs.age_bands],
        "assumptions": asdict(inputs.assumptions),
        "assessment": asdict(inputs.assessment) if inputs.assessment else None,
        "principle_labels": dict(inputs.principle_labels),
        "services": {"count": len(inputs.services), "by_status": dict(sorted(statuses.items()))},
    }
    return _jsonable(data)


# Runs and results ---------------------------------------------------------------------


def runs_for_site(*, site: Site) -> Any:
    return AnalysisRun.objects.filter(site=site).select_related("requested_by").order_by("-created_at", "-pk")


def run_get(*, site: Site, public_id: UUID | str) -> AnalysisRun:
    try:
        return runs_for_site(site=site).get(public_id=public_id)
    except (AnalysisRun.DoesNotExist, ValueError):
        raise Http404("No such run") from None


def latest_succeeded_run(*, site: Site) -> AnalysisRun | None:
    return runs_for_site(site=site).filter(status=RunStatus.SUCCEEDED).first()


def improvements_with_decisions(*, run: AnalysisRun) -> list[Improvement]:
    """The run's improvement items in the site's order: items the site placed by hand
    at their chosen position, the rest by priority; each with `.decision` attached."""
    decisions = {
        d.key: d for d in ImprovementDecision.objects.filter(site_id=run.site_id).prefetch_related("pdsa_entries")
    }
    items = list(run.improvements.filter(data_quality=False).order_by("rank"))
    for item in items:
        item.decision = decisions.get(item.key)  # type: ignore[attr-defined]
    placed = sorted(
        (i for i in items if i.decision and i.decision.manual_rank),  # type: ignore[attr-defined]
        key=lambda i: (i.decision.manual_rank, i.rank),  # type: ignore[attr-defined]
    )
    rest = [i for i in items if not (i.decision and i.decision.manual_rank)]  # type: ignore[attr-defined]
    ordered = rest[:]
    for item in placed:
        position = max(item.decision.manual_rank - 1, 0)  # type: ignore[attr-defined]
        ordered.insert(min(position, len(ordered)), item)
    return ordered


def run_comparison(*, run: AnalysisRun) -> dict[str, list[dict[str, Any]]] | None:
    """New, resolved and changed gaps against the run this one is compared with."""
    if run.previous_id is None:
        return None
    current = {g.key: g for g in run.gaps.all()}
    earlier = {g.key: g for g in run.previous.gaps.all()}  # type: ignore[union-attr]
    return {
        "new": [
            {"gap": current[k]} for k in sorted(current.keys() - earlier.keys(), key=lambda k: current[k].position)
        ],
        "resolved": [
            {"gap": earlier[k]} for k in sorted(earlier.keys() - current.keys(), key=lambda k: earlier[k].position)
        ],
        "changed": [
            {"gap": current[k], "before": earlier[k].severity, "after": current[k].severity}
            for k in sorted(current.keys() & earlier.keys(), key=lambda k: current[k].position)
            if current[k].severity != earlier[k].severity
        ],
    }
