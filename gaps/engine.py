"""The gap analysis: plain Python over plain data, no ORM and no broker.

`analyse(inputs)` takes a snapshot of a site (its register and mapping, population,
prevalence, local assumptions and latest submitted assessment round) and returns
gaps, each with a severity from 0 to 100, the numbers behind it and a sentence a
commissioner understands, and the ranked improvement items those gaps suggest.
The same inputs always give the same output, in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from assessment.principles import ACCESSIBILITY, COMMON_LANGUAGE, NEEDS_LED, PARTNERSHIP, PREVENTION
from mapping.groupings import ADVICE, HELP, MORE_HELP, RISK, THRIVING

# Getting Advice and Signposting and Getting Risk Support need a real multi-agency
# offer (i-THRIVE programme; docs/domain.md), so a single-sector offer there matters most.
MULTI_AGENCY_GROUPINGS = frozenset({ADVICE, RISK})
MULTI_AGENCY_SECTORS = 3
SELF_REFERRAL = "self"
# Self-referral routes matter for advice and help, where "no wrong door" applies.
SELF_REFERRAL_GROUPINGS = (ADVICE, HELP)
# Unmet need weighs more the more acute the grouping: a shortfall in population-wide
# Thriving offers (whose capacity counts are also the least reliable) is less
# severe than the same shortfall in risk support. The project's assumption.
ACUITY = {
    THRIVING: Decimal("0.5"),
    ADVICE: Decimal("0.8"),
    HELP: Decimal("0.9"),
    MORE_HELP: Decimal("1"),
    RISK: Decimal("1"),
}
# Reach adds up to half again to the priority of the item affecting the most children.
REACH_SPAN = Decimal("0.5")
COUNTED_STATUSES = frozenset({"active"})

# Severity weights, from 0 to 100. Each is the project's judgement, not a published
# figure; the line above each says why it has its value, so a change is deliberate.

# The top of the scale: rules that measure a share (of need unmet, of records stale,
# of the way below the assessment threshold) put the whole share at this.
MAX_SEVERITY = 100
# A grouping nobody offers at all is the worst gap the analysis can report.
NO_SERVICE_SEVERITY = MAX_SEVERITY
# One sector alone where the framework expects a multi-agency offer (advice, risk
# support): serious, though below having no service at all.
SINGLE_SECTOR_MULTI_AGENCY_SEVERITY = 70
# Two sectors where three are expected: between one sector and a full offer.
TOO_FEW_SECTORS_SEVERITY = 50
# One sector elsewhere is a resilience concern more than a gap in provision.
SINGLE_SECTOR_SEVERITY = 35
# An age band with nobody serving it, before the grouping's acuity: those children
# have no offer at all, but the band is a part of the population, not all of it.
AGE_BAND_SEVERITY = 80
# No advice or help open to self-referral: every child needs a professional to get in.
NO_SELF_REFERRAL_SEVERITY = 85
# Some self-referral, below the target: from 30 (just under) to 30 + 50 (almost none).
SELF_REFERRAL_FLOOR = 30
SELF_REFERRAL_SPAN = 50
# Waits above the target: from 40 (just over) to 40 + 60 once the longest wait is
# three times the target, when many children wait beyond any reasonable time.
WAIT_FLOOR = 40
WAIT_SPAN = 60


class Kind:
    COVERAGE = "coverage"
    NO_SERVICE = "no-service"
    SINGLE_SECTOR = "single-sector"
    AGE_BAND = "age-band"
    SELF_REFERRAL = "self-referral"
    WAIT = "wait"
    ASSESSMENT = "assessment"
    STALE = "stale"

    LABELS = {
        COVERAGE: "Capacity below estimated need",
        NO_SERVICE: "No service",
        SINGLE_SECTOR: "Single-sector offer",
        AGE_BAND: "Age band without provision",
        SELF_REFERRAL: "Little self-referral",
        WAIT: "Waits above target",
        ASSESSMENT: "Assessment item below threshold",
        STALE: "Stale service records",
    }


# Inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBandInput:
    code: str
    label: str
    low: int
    high: int
    population: int
    prevalence_percent: Decimal


@dataclass(frozen=True)
class OfferInput:
    grouping: str
    share: int


@dataclass(frozen=True)
class ServiceInput:
    id: str
    name: str
    sector: str
    sector_label: str
    min_age: int
    max_age: int
    annual_capacity: int | None
    typical_wait_weeks: int | None
    referral_routes: frozenset[str]
    status: str
    last_checked_on: date | None
    offers: tuple[OfferInput, ...]

    @cached_property
    def _shares(self) -> dict[str, int]:
        shares: dict[str, int] = {}
        for offer in self.offers:
            shares[offer.grouping] = shares.get(offer.grouping, 0) + offer.share
        return shares

    def capacity_in(self, grouping: str) -> int:
        return (self.annual_capacity or 0) * self._shares.get(grouping, 0) // 100

    def offers_grouping(self, grouping: str) -> bool:
        return grouping in self._shares

    def covers(self, low: int, high: int) -> bool:
        return self.min_age <= high and self.max_age >= low


@dataclass(frozen=True)
class AssessmentItemInput:
    code: str
    principle: str
    principle_label: str
    part_label: str
    score: int
    evidence: str = ""


@dataclass(frozen=True)
class AssessmentInput:
    round_label: str
    held_on: date
    threshold: int
    scale_min: int
    items: tuple[AssessmentItemInput, ...]


@dataclass(frozen=True)
class Assumptions:
    """Local assumptions, shown with every result. Need split: the percentage of
    children and young people with a probable mental disorder whose needs fall in
    each help grouping; Thriving is a share of the whole population."""

    thriving_percent: Decimal
    need_split_percent: Mapping[str, Decimal]
    max_wait_weeks: int
    principle_weights: Mapping[str, Decimal]
    # Records not checked for longer than this are stale.
    stale_after_days: int
    # Share of advice and help capacity open to self-referral below which it is a gap.
    self_referral_percent: int


@dataclass(frozen=True)
class AnalysisInput:
    site: str
    today: date
    groupings: tuple[tuple[str, str], ...]  # (code, label) in THRIVE order
    age_bands: tuple[AgeBandInput, ...]
    services: tuple[ServiceInput, ...]
    assumptions: Assumptions
    assessment: AssessmentInput | None = None
    principle_labels: Mapping[str, str] = field(default_factory=dict)

    # Indexes the rules share, built once per analysis.
    @cached_property
    def counted_services(self) -> list[ServiceInput]:
        return [s for s in self.services if s.status in COUNTED_STATUSES]

    @cached_property
    def offering(self) -> dict[str, list[ServiceInput]]:
        """Counted services offering each grouping."""
        by_grouping: dict[str, list[ServiceInput]] = {code: [] for code, _ in self.groupings}
        for service in self.counted_services:
            for code in service._shares:
                by_grouping.setdefault(code, []).append(service)
        return by_grouping

    @cached_property
    def capacity(self) -> dict[str, int]:
        """Capacity given to each grouping by the counted services."""
        return {code: sum(s.capacity_in(code) for s in self.offering.get(code, ())) for code, _ in self.groupings}


# Outputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    key: str
    kind: str
    grouping: str | None
    age_band: str | None
    principle: str
    severity: int
    children_affected: int
    numbers: dict[str, int | str]
    sentence: str
    data_quality: bool = False


@dataclass(frozen=True)
class Improvement:
    key: str
    title: str
    gap_keys: tuple[str, ...]
    principle: str
    severity: int
    children_affected: int
    reach: Decimal
    weight: Decimal
    priority: Decimal
    explanation: str
    data_quality: bool = False


@dataclass(frozen=True)
class AnalysisResult:
    gaps: tuple[Gap, ...]
    improvements: tuple[Improvement, ...]
    need_by_grouping: dict[str, int]
    capacity_by_grouping: dict[str, int]


# Helpers -----------------------------------------------------------------------------


def _round(value: Decimal | float, places: str = "1") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _clamp(value: float | Decimal, low: int = 0, high: int = MAX_SEVERITY) -> int:
    rounded = int(_round(Decimal(str(value))))
    return max(low, min(high, rounded))


def _people(number: int) -> str:
    return f"{number:,}"


def _band_need(band: AgeBandInput, grouping: str, assumptions: Assumptions) -> Decimal:
    if grouping == THRIVING:
        return Decimal(band.population) * assumptions.thriving_percent / 100
    split = assumptions.need_split_percent.get(grouping, Decimal(0))
    return Decimal(band.population) * band.prevalence_percent / 100 * split / 100


# Rules -------------------------------------------------------------------------------


def need_by_grouping(inputs: AnalysisInput) -> dict[str, int]:
    """Estimated children and young people needing each grouping in a year."""
    need: dict[str, int] = {}
    for code, _ in inputs.groupings:
        total = Decimal(0)
        for band in inputs.age_bands:
            total += _band_need(band, code, inputs.assumptions)
        need[code] = int(_round(total))
    return need


def capacity_by_grouping(inputs: AnalysisInput) -> dict[str, int]:
    return dict(inputs.capacity)


def coverage_gaps(inputs: AnalysisInput) -> list[Gap]:
    """Capacity against estimated need per grouping; severity is the share of need
    not met times the grouping's acuity (a coverage ratio of 0.3 in risk support is
    severity 70, in Thriving 35)."""
    need = need_by_grouping(inputs)
    capacity = capacity_by_grouping(inputs)
    gaps = []
    for code, label in inputs.groupings:
        if need[code] <= 0 or capacity[code] >= need[code]:
            continue
        ratio = Decimal(capacity[code]) / Decimal(need[code])
        percent = int(_round(ratio * 100))
        gaps.append(
            Gap(
                key=f"{Kind.COVERAGE}:{code}",
                kind=Kind.COVERAGE,
                grouping=code,
                age_band=None,
                principle=PREVENTION if code == THRIVING else ACCESSIBILITY,
                severity=_clamp((1 - ratio) * MAX_SEVERITY * ACUITY.get(code, Decimal(1))),
                children_affected=need[code] - capacity[code],
                numbers={
                    "need": need[code],
                    "capacity": capacity[code],
                    "coverage_percent": percent,
                    "acuity": str(ACUITY.get(code, Decimal(1))),
                },
                sentence=(
                    f"{label}: services can see about {_people(capacity[code])} children and young people "
                    f"a year against an estimated need of {_people(need[code])} ({percent}% coverage)."
                ),
            )
        )
    return gaps


def offer_breadth_gaps(inputs: AnalysisInput) -> list[Gap]:
    """Groupings served by no service, or by a single sector; Getting Advice and
    Signposting and Getting Risk Support need at least three sectors."""
    need = need_by_grouping(inputs)
    gaps = []
    for code, label in inputs.groupings:
        offering = inputs.offering[code]
        sectors = sorted({s.sector_label for s in offering})
        if not offering:
            gaps.append(
                Gap(
                    key=f"{Kind.NO_SERVICE}:{code}",
                    kind=Kind.NO_SERVICE,
                    grouping=code,
                    age_band=None,
                    principle=ACCESSIBILITY,
                    severity=NO_SERVICE_SEVERITY,
                    children_affected=need[code],
                    numbers={"services": 0, "need": need[code]},
                    sentence=f"{label}: no active service in the register offers this grouping.",
                )
            )
        elif len(sectors) == 1 or (code in MULTI_AGENCY_GROUPINGS and len(sectors) < MULTI_AGENCY_SECTORS):
            multi_agency = code in MULTI_AGENCY_GROUPINGS
            plural = "s" if len(offering) != 1 else ""
            if len(sectors) == 1:
                severity = SINGLE_SECTOR_MULTI_AGENCY_SEVERITY if multi_agency else SINGLE_SECTOR_SEVERITY
                sentence = f"{label}: all {len(offering)} service{plural} offering this grouping are {sectors[0]}."
            else:
                severity = TOO_FEW_SECTORS_SEVERITY
                sentence = f"{label}: the {len(offering)} service{plural} offering this grouping come from only " + (
                    f"{len(sectors)} sectors ({' and '.join(sectors)})."
                )
            if multi_agency:
                sentence += (
                    f" This grouping depends on a multi-agency offer of at least {MULTI_AGENCY_SECTORS} sectors."
                )
            gaps.append(
                Gap(
                    key=f"{Kind.SINGLE_SECTOR}:{code}",
                    kind=Kind.SINGLE_SECTOR,
                    grouping=code,
                    age_band=None,
                    principle=PARTNERSHIP,
                    severity=severity,
                    children_affected=need[code],
                    numbers={"services": len(offering), "sectors": len(sectors), "sector_names": ", ".join(sectors)},
                    sentence=sentence,
                )
            )
    return gaps


def age_band_gaps(inputs: AnalysisInput) -> list[Gap]:
    """Age bands with children and young people but no service in a grouping."""
    gaps = []
    for code, label in inputs.groupings:
        offering = inputs.offering[code]
        if not offering:
            continue  # reported once as "no service" rather than once per band
        for band in inputs.age_bands:
            if band.population <= 0 or any(s.covers(band.low, band.high) for s in offering):
                continue
            need = int(_round(_band_need(band, code, inputs.assumptions)))
            gaps.append(
                Gap(
                    key=f"{Kind.AGE_BAND}:{code}:{band.code}",
                    kind=Kind.AGE_BAND,
                    grouping=code,
                    age_band=band.code,
                    principle=NEEDS_LED,
                    severity=_clamp(AGE_BAND_SEVERITY * ACUITY.get(code, Decimal(1))),
                    children_affected=need,
                    numbers={"population": band.population, "need": need},
                    sentence=(
                        f"{label}: no service covers ages {band.label}, where about {_people(need)} "
                        f"of {_people(band.population)} young people are estimated to need it."
                    ),
                )
            )
    return gaps


def self_referral_gaps(inputs: AnalysisInput) -> list[Gap]:
    """How much advice and help capacity children and families can reach by
    referring themselves; under the site's target (half, unless the site says
    otherwise) is a gap, none is severe."""
    services = [s for s in inputs.counted_services if any(s.offers_grouping(g) for g in SELF_REFERRAL_GROUPINGS)]
    if not services:
        return []
    total = sum(s.capacity_in(g) for s in services for g in SELF_REFERRAL_GROUPINGS)
    open_capacity = sum(
        s.capacity_in(g) for s in services if SELF_REFERRAL in s.referral_routes for g in SELF_REFERRAL_GROUPINGS
    )
    open_services = sum(1 for s in services if SELF_REFERRAL in s.referral_routes)
    share = Decimal(open_capacity) / Decimal(total) if total else Decimal(0)
    target_percent = inputs.assumptions.self_referral_percent
    target = Decimal(target_percent) / 100
    if share >= target:
        return []
    severity = (
        NO_SELF_REFERRAL_SEVERITY
        if open_services == 0
        else _clamp(SELF_REFERRAL_FLOOR + SELF_REFERRAL_SPAN * (1 - share / target))
    )
    percent = int(_round(share * 100))
    need = need_by_grouping(inputs)
    return [
        Gap(
            key=f"{Kind.SELF_REFERRAL}:advice-help",
            kind=Kind.SELF_REFERRAL,
            grouping=ADVICE,
            age_band=None,
            principle=ACCESSIBILITY,
            severity=severity,
            children_affected=sum(need.get(g, 0) for g in SELF_REFERRAL_GROUPINGS),
            numbers={
                "services_open": open_services,
                "services": len(services),
                "capacity_percent": percent,
                "target_percent": target_percent,
            },
            sentence=(
                f"Only {open_services} of {len(services)} advice and help services accept self-referral "
                f"({percent}% of their capacity, against a target of {target_percent}%); children and families "
                "mostly need a professional to refer them."
                if open_services
                else "No advice or help service accepts self-referral: every child needs a professional to refer them."
            ),
        )
    ]


def wait_gaps(inputs: AnalysisInput) -> list[Gap]:
    """Groupings where services wait longer than the site's target."""
    target = inputs.assumptions.max_wait_weeks
    gaps = []
    for code, label in inputs.groupings:
        if code == THRIVING:
            continue
        over = [s for s in inputs.offering[code] if s.typical_wait_weeks is not None and s.typical_wait_weeks > target]
        if not over:
            continue
        longest = max(s.typical_wait_weeks or 0 for s in over)
        waiting_capacity = sum(s.capacity_in(code) for s in over)
        names = ", ".join(f"{s.name} ({s.typical_wait_weeks} weeks)" for s in sorted(over, key=lambda s: s.name)[:3])
        gaps.append(
            Gap(
                key=f"{Kind.WAIT}:{code}",
                kind=Kind.WAIT,
                grouping=code,
                age_band=None,
                principle=ACCESSIBILITY,
                severity=_clamp(WAIT_FLOOR + WAIT_SPAN * (longest - target) / max(target * 2, 1)),
                children_affected=waiting_capacity,
                numbers={"services_over": len(over), "longest_weeks": longest, "target_weeks": target},
                sentence=(
                    f"{label}: {len(over)} service{'s' if len(over) != 1 else ''} wait longer than the "
                    f"{target}-week target, the longest {longest} weeks: {names}" + ("…" if len(over) > 3 else ".")
                ),
            )
        )
    return gaps


def assessment_gaps(inputs: AnalysisInput) -> list[Gap]:
    """Items of the latest submitted round below the THRIVE-like threshold, weighted
    by how far below: one below is half-way severe, the bottom of the scale fully."""
    assessment = inputs.assessment
    if assessment is None:
        return []
    reach = sum(
        int(_round(_band_need(b, g, inputs.assumptions)))
        for b in inputs.age_bands
        for g, _ in inputs.groupings
        if g != THRIVING
    )
    span = max(assessment.threshold - assessment.scale_min, 1)
    gaps = []
    for item in assessment.items:
        if item.score >= assessment.threshold:
            continue
        gaps.append(
            Gap(
                key=f"{Kind.ASSESSMENT}:{item.code}",
                kind=Kind.ASSESSMENT,
                grouping=None,
                age_band=None,
                principle=item.principle,
                severity=_clamp(MAX_SEVERITY * (assessment.threshold - item.score) / span),
                children_affected=reach,
                numbers={"score": item.score, "threshold": assessment.threshold},
                sentence=(
                    f"{item.principle_label} in {item.part_label.lower()} scored {item.score} at the "
                    f"{assessment.round_label.lower()} ({assessment.held_on:%-d %B %Y}); "
                    f"{assessment.threshold} or more is THRIVE-like."
                    + (f" Evidence: {item.evidence}" if item.evidence else "")
                ),
            )
        )
    return gaps


def stale_gaps(inputs: AnalysisInput) -> list[Gap]:
    """Records not checked within the site's window: a data-quality gap, kept apart."""
    cutoff = inputs.today - timedelta(days=inputs.assumptions.stale_after_days)
    current = [s for s in inputs.services if s.status != "decommissioned"]
    stale = [s for s in current if s.last_checked_on is None or s.last_checked_on < cutoff]
    if not stale:
        return []
    names = ", ".join(s.name for s in sorted(stale, key=lambda s: s.name)[:3])
    return [
        Gap(
            key=f"{Kind.STALE}:register",
            kind=Kind.STALE,
            grouping=None,
            age_band=None,
            principle=COMMON_LANGUAGE,
            severity=_clamp(MAX_SEVERITY * len(stale) / len(current)),
            children_affected=0,
            numbers={"stale": len(stale), "services": len(current), "days": inputs.assumptions.stale_after_days},
            sentence=(
                f"{len(stale)} of {len(current)} service records have not been checked for more than "
                f"{inputs.assumptions.stale_after_days} days ({names}{'…' if len(stale) > 3 else ''}); "
                "the figures above rely on them."
            ),
            data_quality=True,
        )
    ]


RULES = (
    coverage_gaps,
    offer_breadth_gaps,
    age_band_gaps,
    self_referral_gaps,
    wait_gaps,
    assessment_gaps,
    stale_gaps,
)


# Improvements -------------------------------------------------------------------------


def _improvement_key_and_title(gap: Gap, inputs: AnalysisInput) -> tuple[str, str]:
    labels = dict(inputs.groupings)
    label = labels.get(gap.grouping or "", "")
    if gap.kind in (Kind.COVERAGE, Kind.NO_SERVICE):
        return f"grow:{gap.grouping}", f"Increase {label} capacity to meet estimated need"
    if gap.kind == Kind.SINGLE_SECTOR:
        return f"multi-agency:{gap.grouping}", f"Build a multi-agency {label} offer"
    if gap.kind == Kind.AGE_BAND:
        return f"ages:{gap.grouping}", f"Extend {label} to the age bands it does not reach"
    if gap.kind == Kind.SELF_REFERRAL:
        return "self-referral", "Open self-referral routes into advice and help"
    if gap.kind == Kind.WAIT:
        return (
            f"waits:{gap.grouping}",
            f"Bring {label} waits within the {inputs.assumptions.max_wait_weeks}-week target",
        )
    if gap.kind == Kind.ASSESSMENT:
        principle = inputs.principle_labels.get(gap.principle, gap.principle)
        return f"principle:{gap.principle}", f"Become THRIVE-like on {principle}"
    return "data-quality:register", "Check and update stale service records"


def improvements_from(gaps: Sequence[Gap], inputs: AnalysisInput) -> list[Improvement]:
    """Group gaps into improvement items and rank them.

    priority = severity × reach × principle weight, where severity is the worst of
    the item's gaps, reach runs from 1 (few children affected) to 1.5 (the most
    affected of any item), and the weight is the site's weight for the principle the
    item bears on (1 by default). Ties keep a stable order by key.
    """
    grouped: dict[str, list[Gap]] = defaultdict(list)
    titles: dict[str, str] = {}
    for gap in gaps:
        key, title = _improvement_key_and_title(gap, inputs)
        grouped[key].append(gap)
        titles[key] = title
    most_affected = max((max(g.children_affected for g in group) for group in grouped.values()), default=0)
    improvements = []
    for key, group in grouped.items():
        worst = max(group, key=lambda g: (g.severity, g.key))
        affected = max(g.children_affected for g in group)
        share = Decimal(affected) / Decimal(most_affected) if most_affected else Decimal(0)
        reach = _round(1 + REACH_SPAN * share, "0.01")
        weight = Decimal(str(inputs.assumptions.principle_weights.get(worst.principle, Decimal(1))))
        priority = _round(Decimal(worst.severity) * reach * weight, "0.1")
        principle_label = inputs.principle_labels.get(worst.principle, worst.principle)
        improvements.append(
            Improvement(
                key=key,
                title=titles[key],
                gap_keys=tuple(sorted(g.key for g in group)),
                principle=worst.principle,
                severity=worst.severity,
                children_affected=affected,
                reach=reach,
                weight=weight,
                priority=priority,
                explanation=(
                    f"Severity {worst.severity} (worst of {len(group)} gap{'s' if len(group) != 1 else ''}) "
                    f"× reach {reach} ({_people(affected)} children and young people affected; "
                    f"the most for any item is {_people(most_affected)}) "
                    f"× {principle_label} weight {weight.normalize():f} = {priority}"
                ),
                data_quality=all(g.data_quality for g in group),
            )
        )
    return sorted(improvements, key=lambda i: (i.data_quality, -i.priority, i.key))


def analyse(inputs: AnalysisInput) -> AnalysisResult:
    gaps: list[Gap] = []
    for rule in RULES:
        gaps.extend(rule(inputs))
    gaps.sort(key=lambda g: (g.data_quality, -g.severity, g.key))
    return AnalysisResult(
        gaps=tuple(gaps),
        improvements=tuple(improvements_from(gaps, inputs)),
        need_by_grouping=need_by_grouping(inputs),
        capacity_by_grouping=capacity_by_grouping(inputs),
    )
