"""Reads for the gap analysis: the snapshot of a site the engine works on, and a
site's runs, gaps and improvement items. Callers pass a site already resolved
through sites.selectors."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from assessment.models import AgreedScore, Round, RoundStatus
from assessment.selectors import principle_labels
from mapping.models import Grouping, Offer, ReferralRoute, Sector, Service, ServiceStatus
from sites.models import AgeBand, Site
from sites.selectors import population_get

from .engine import (
    AgeBandInput,
    AnalysisInput,
    AssessmentInput,
    AssessmentItemInput,
    Assumptions,
    OfferInput,
    ServiceInput,
)
from .models import (
    AnalysisRun,
    Gap,
    Improvement,
    ImprovementDecision,
    PdsaEntry,
    PrevalenceFigure,
    RunStatus,
    SiteAssumptions,
)
from .snapshot import PrevalenceUsed


def assumptions_for_site(*, site: Site) -> SiteAssumptions:
    """The site's assumptions, or the defaults (unsaved, version 0) if it has not set any."""
    return SiteAssumptions.objects.filter(site=site).select_related("updated_by").first() or SiteAssumptions(
        site=site, version=0
    )


def prevalence_figures() -> list[PrevalenceFigure]:
    order = {band.value: index for index, band in enumerate(AgeBand)}
    return sorted(PrevalenceFigure.objects.all(), key=lambda f: order.get(f.age_band, 99))


def prevalence_used() -> tuple[PrevalenceUsed, ...]:
    """The prevalence table as a run keeps it, with the survey behind each figure."""
    return tuple(
        PrevalenceUsed(
            age_band=f.age_band,
            percent=f.percent,
            survey=f.survey,
            wave=f.wave,
            measure=f.measure,
            source_ages=f.source_ages,
            caveat=f.caveat,
        )
        for f in prevalence_figures()
    )


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
    population = population_get(site=site).people
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
        principle_labels=principle_labels(),
    )


# Runs and their stored results -------------------------------------------------------


def runs_for_site(*, site: Site) -> QuerySet[AnalysisRun]:
    return (
        AnalysisRun.objects.filter(site=site).select_related("requested_by", "previous").order_by("-created_at", "-pk")
    )


def runs_with_gap_counts(*, site: Site) -> QuerySet[AnalysisRun]:
    """The site's runs, newest first, each with `gap_count`: its gaps not counting
    data-quality ones (0 until it succeeds)."""
    return runs_for_site(site=site).annotate(gap_count=Count("gaps", filter=Q(gaps__data_quality=False)))


def run_get(*, site: Site, public_id: UUID | str) -> AnalysisRun:
    """One run of the site; 404 for any other. It reads the run's row alone: the
    progress poll calls it while the run writes its results."""
    try:
        return runs_for_site(site=site).get(public_id=public_id)
    except (AnalysisRun.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such run") from None


def run_current(*, site: Site) -> AnalysisRun | None:
    """The site's newest run, whatever its status."""
    return runs_for_site(site=site).first()


def latest_succeeded_run(*, site: Site) -> AnalysisRun | None:
    return runs_for_site(site=site).filter(status=RunStatus.SUCCEEDED).first()


def improvement_run_get(*, site: Site, key: str) -> AnalysisRun:
    """The site's latest succeeded run that suggested the improvement with this key;
    404 if none ever did (data-quality items are not improvements)."""
    run = (
        runs_for_site(site=site)
        .filter(status=RunStatus.SUCCEEDED, improvements__key=key, improvements__data_quality=False)
        .first()
    )
    if run is None:
        raise Http404("No such improvement")
    return run


def run_gaps(*, run: AnalysisRun) -> list[Gap]:
    return list(Gap.objects.filter(run=run).order_by("position"))


def run_improvements(*, run: AnalysisRun) -> list[Improvement]:
    """The run's improvement items by priority; data-quality items are shown as gaps."""
    return list(Improvement.objects.filter(run=run, data_quality=False).order_by("rank"))


def decisions_for_site(*, site_id: int) -> dict[str, ImprovementDecision]:
    """The site's decisions by improvement key, with who made them and their PDSA
    steps, in a fixed number of queries."""
    steps = PdsaEntry.objects.select_related("recorded_by").order_by("recorded_on", "created_at")
    decisions = (
        ImprovementDecision.objects.filter(site_id=site_id)
        .select_related("updated_by")
        .prefetch_related(Prefetch("pdsa_entries", queryset=steps))
    )
    return {decision.key: decision for decision in decisions}


def decision_get(*, site: Site, key: str) -> ImprovementDecision | None:
    return decisions_for_site(site_id=site.pk).get(key)
