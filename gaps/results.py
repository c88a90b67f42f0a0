"""A stored run turned into typed results: the one read model of the gap analysis.

`run_results` reads what a run stored (its gaps and improvement items, which never
change after the run, and the snapshot of what it used, gaps.snapshot) with the
site's current decisions on the items, in a fixed number of queries, and returns
one RunResults. The site's gap analysis page, a run's page, an improvement's page
and the API all read these; the API's serializers only format them. Nothing here
recomputes the analysis.

To show something new a run records, add it to gaps.snapshot.RunInputs (which
RunResults.inputs carries as it is) and, if pages need it shaped, a field here built
from it: pages and the API then both have it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from assessment.principles import FALLBACK_PRINCIPLES
from assessment.selectors import principles_current
from mapping.models import Grouping
from sites.models import AgeBand, Site
from sites.selectors import Population, population_get

from .engine import Kind
from .models import (
    ASSUMPTION_DEFAULTS,
    DEFAULT_MAX_WAIT_WEEKS,
    DEFAULT_NEED_SPLIT,
    DEFAULT_SELF_REFERRAL_PERCENT,
    DEFAULT_THRIVING_PERCENT,
    AnalysisRun,
    DecisionStatus,
    Gap,
    Improvement,
    ImprovementDecision,
    PdsaEntry,
    PdsaStage,
    PrevalenceFigure,
    RunStatus,
    SiteAssumptions,
)
from .selectors import (
    assumptions_for_site,
    decisions_for_site,
    improvement_run_get,
    latest_succeeded_run,
    prevalence_figures,
    run_current,
    run_gaps,
    run_improvements,
)
from .snapshot import AssumptionsUsed, PrevalenceUsed, RunInputs

# How the numbers behind a gap are labelled; the keys are the engine's.
NUMBER_LABELS = {
    "need": "Estimated need a year",
    "capacity": "Capacity a year",
    "coverage_percent": "Coverage (%)",
    "acuity": "Acuity weight",
    "services": "Services",
    "sectors": "Sectors",
    "sector_names": "Sectors present",
    "population": "Population",
    "services_open": "Services open to self-referral",
    "capacity_percent": "Capacity open to self-referral (%)",
    "services_over": "Services over the target",
    "longest_weeks": "Longest wait (weeks)",
    "target_weeks": "Target (weeks)",
    "score": "Score",
    "threshold": "THRIVE-like from",
    "stale": "Records not checked",
    "days": "Stale after (days)",
}


def plain_number(value: Decimal | int | str) -> str:
    """A number as people write it: 80, 50.5."""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except ArithmeticError:
        return str(value)


# Gaps, decisions and improvements -----------------------------------------------------


@dataclass(frozen=True)
class GapResult:
    key: str
    kind: str
    kind_label: str
    grouping: str  # "" when the gap is not about one grouping
    grouping_label: str
    age_band: str  # "" when the gap is not about one band
    principle: str
    severity: int
    children_affected: int
    numbers: Mapping[str, int | str]
    sentence: str
    data_quality: bool
    position: int

    @property
    def labelled_numbers(self) -> list[tuple[str, int | str]]:
        """The numbers with their labels, in the engine's order (JSON keeps none)."""
        order = list(NUMBER_LABELS)
        keys = sorted(self.numbers, key=lambda k: (order.index(k) if k in order else len(order), k))
        return [(NUMBER_LABELS.get(k, k.replace("_", " ").capitalize()), self.numbers[k]) for k in keys]


@dataclass(frozen=True)
class PdsaResult:
    stage: str
    stage_label: str
    note: str
    recorded_on: date
    recorded_by: User | None
    created_at: datetime


@dataclass(frozen=True)
class DecisionResult:
    """The site's decision on an improvement; an item nobody has decided on reads as
    open, with nothing set, at version 0."""

    key: str
    status: str
    dismiss_reason: str
    owner: str
    due_on: date | None
    manual_rank: int | None
    version: int
    updated_by: User | None
    updated_at: datetime | None
    pdsa_entries: tuple[PdsaResult, ...]
    # Due before today and not dismissed.
    overdue: bool

    @property
    def status_label(self) -> str:
        return DecisionStatus(self.status).label

    @property
    def decided(self) -> bool:
        return self.status != DecisionStatus.OPEN or bool(self.owner) or self.due_on is not None

    @property
    def placed_by_hand(self) -> bool:
        return self.manual_rank is not None


@dataclass(frozen=True)
class ImprovementResult:
    key: str
    title: str
    # Place in the site's order, from 1: positions the site chose, the rest by priority.
    position: int
    # Place by priority in the run, from 1.
    rank: int
    priority: Decimal
    severity: int
    children_affected: int
    reach: Decimal
    principle: str
    principle_label: str
    weight: Decimal
    explanation: str
    gap_keys: tuple[str, ...]
    gaps: tuple[GapResult, ...]
    decision: DecisionResult
    # The decision was made before this run, and carried over to it by the item's key.
    kept: bool


@dataclass(frozen=True)
class GroupingNeed:
    code: str
    label: str
    need: int
    capacity: int
    # Need and capacity as a share (0 to 100) of the largest figure of any grouping.
    need_width: float
    capacity_width: float

    @property
    def coverage(self) -> int | None:
        return round(100 * self.capacity / self.need) if self.need else None


@dataclass(frozen=True)
class ChangedGap:
    gap: GapResult
    before: int
    after: int


@dataclass(frozen=True)
class Comparison:
    """New, resolved and changed gaps against the run this one is compared with."""

    previous_run: AnalysisRun
    new: tuple[GapResult, ...]
    resolved: tuple[GapResult, ...]
    changed: tuple[ChangedGap, ...]


@dataclass(frozen=True)
class SettingUsed:
    """An assumption or weight, with where its value comes from: "default" (the
    project's), "site" (set by the site) or "setting" (the product's)."""

    label: str
    value: str
    origin: str


@dataclass(frozen=True)
class BandUsed:
    code: str
    label: str
    population: int
    prevalence_percent: Decimal
    source: PrevalenceUsed | None

    @property
    def percent(self) -> str:
        return plain_number(self.prevalence_percent)


@dataclass(frozen=True)
class RunResults:
    run: AnalysisRun
    inputs: RunInputs
    # Every gap, most severe first, data-quality gaps last.
    gaps: tuple[GapResult, ...]
    improvements: tuple[ImprovementResult, ...]
    need_and_capacity: tuple[GroupingNeed, ...]
    comparison: Comparison | None
    bands: tuple[BandUsed, ...]
    assumptions_used: tuple[SettingUsed, ...]
    weights_used: tuple[SettingUsed, ...]

    @property
    def provision_gaps(self) -> list[GapResult]:
        return [gap for gap in self.gaps if not gap.data_quality]

    @property
    def data_quality(self) -> list[GapResult]:
        return [gap for gap in self.gaps if gap.data_quality]

    @property
    def gap_count(self) -> int:
        return len(self.provision_gaps)

    @property
    def gaps_by_kind(self) -> list[tuple[str, list[GapResult]]]:
        groups = []
        for kind, label in Kind.LABELS.items():
            of_kind = [gap for gap in self.provision_gaps if gap.kind == kind]
            if of_kind:
                groups.append((label, of_kind))
        return groups

    @property
    def survey(self) -> str:
        return "; ".join(sorted({p.survey for p in self.inputs.prevalence or () if p.survey}))

    @property
    def prevalence_recorded(self) -> bool:
        return self.inputs.prevalence is not None

    @cached_property
    def summary(self) -> "RunSummary":
        """What a commissioner decides on first; pages and the API both read this."""
        return run_summary(results=self)


# The summary: the first improvements and the gaps by grouping ----------------------------

# How many improvements the summary shows: the few a commissioner can weigh at once, and
# what fits one screen beside the gaps by grouping.
TOP_IMPROVEMENTS = 5


@dataclass(frozen=True)
class GroupingSummary:
    """A THRIVE grouping with its need, capacity and the provision gaps found in it;
    with code "" and no need, the gaps not about one grouping."""

    code: str
    label: str
    need: GroupingNeed | None
    # Most severe first.
    gaps: tuple[GapResult, ...]

    @property
    def gap_count(self) -> int:
        return len(self.gaps)

    @property
    def worst_severity(self) -> int | None:
        return max((gap.severity for gap in self.gaps), default=None)

    @property
    def kinds(self) -> list[str]:
        """The kinds of its gaps, each once, the most severe kind first."""
        return list(dict.fromkeys(gap.kind for gap in self.gaps))

    @property
    def kind_labels(self) -> list[str]:
        return list(dict.fromkeys(gap.kind_label for gap in self.gaps))

    @property
    def gap_keys(self) -> list[str]:
        return [gap.key for gap in self.gaps]

    @property
    def anchor(self) -> str:
        """The id of its section among the run's gaps."""
        return f"gaps-{self.code}" if self.code else "gaps-other"


@dataclass(frozen=True)
class RunSummary:
    """The first improvements in the site's order and a gap summary by grouping, in
    THRIVE order, then the gaps not about one grouping."""

    top_improvements: tuple[ImprovementResult, ...]
    improvement_count: int
    by_grouping: tuple[GroupingSummary, ...]
    gap_count: int
    data_quality_count: int


NOT_ONE_GROUPING = "Not about one grouping"


def run_summary(*, results: RunResults, top: int = TOP_IMPROVEMENTS) -> RunSummary:
    provision = results.provision_gaps
    rows = [
        GroupingSummary(
            code=need.code,
            label=need.label,
            need=need,
            gaps=tuple(gap for gap in provision if gap.grouping == need.code),
        )
        for need in results.need_and_capacity
    ]
    # A gap about a grouping the run did not list (none today) still shows, under its code.
    listed = {row.code for row in rows}
    for code in dict.fromkeys(gap.grouping for gap in provision if gap.grouping and gap.grouping not in listed):
        of_code = tuple(gap for gap in provision if gap.grouping == code)
        rows.append(GroupingSummary(code=code, label=of_code[0].grouping_label or code, need=None, gaps=of_code))
    rows.append(
        GroupingSummary(
            code="", label=NOT_ONE_GROUPING, need=None, gaps=tuple(gap for gap in provision if not gap.grouping)
        )
    )
    return RunSummary(
        top_improvements=results.improvements[:top],
        improvement_count=len(results.improvements),
        by_grouping=tuple(rows),
        gap_count=len(provision),
        data_quality_count=len(results.data_quality),
    )


def gap_result(gap: Gap, grouping_labels: Mapping[str, str]) -> GapResult:
    return GapResult(
        key=gap.key,
        kind=gap.kind,
        kind_label=Kind.LABELS.get(gap.kind, gap.kind),
        grouping=gap.grouping,
        grouping_label=grouping_labels.get(gap.grouping, ""),
        age_band=gap.age_band,
        principle=gap.principle,
        severity=gap.severity,
        children_affected=gap.children_affected,
        numbers=dict(gap.numbers),
        sentence=gap.sentence,
        data_quality=gap.data_quality,
        position=gap.position,
    )


def pdsa_result(entry: PdsaEntry) -> PdsaResult:
    return PdsaResult(
        stage=entry.stage,
        stage_label=PdsaStage(entry.stage).label,
        note=entry.note,
        recorded_on=entry.recorded_on,
        recorded_by=entry.recorded_by,
        created_at=entry.created_at,
    )


def decision_result(decision: ImprovementDecision | None, *, key: str, today: date | None = None) -> DecisionResult:
    """The decision as pages and the API show it."""
    today = today or timezone.localdate()
    if decision is None:
        return DecisionResult(
            key=key,
            status=DecisionStatus.OPEN,
            dismiss_reason="",
            owner="",
            due_on=None,
            manual_rank=None,
            version=0,
            updated_by=None,
            updated_at=None,
            pdsa_entries=(),
            overdue=False,
        )
    return DecisionResult(
        key=decision.key,
        status=decision.status,
        dismiss_reason=decision.dismiss_reason,
        owner=decision.owner,
        due_on=decision.due_on,
        manual_rank=decision.manual_rank,
        version=decision.version,
        updated_by=decision.updated_by,
        # A decision that holds PDSA steps only (version 0) has not been changed by anyone.
        updated_at=decision.updated_at if decision.version else None,
        # From the prefetch when decisions_for_site read the decision, else one query.
        pdsa_entries=tuple(pdsa_result(entry) for entry in decision.pdsa_entries.all()),
        overdue=decision.due_on is not None and decision.due_on < today and decision.status != DecisionStatus.DISMISSED,
    )


def in_site_order(items: Sequence[Improvement], decisions: Mapping[str, ImprovementDecision]) -> list[Improvement]:
    """Items the site placed by hand at their chosen position, the rest by priority."""
    by_priority = sorted(items, key=lambda item: item.rank)

    def chosen(item: Improvement) -> int | None:
        decision = decisions.get(item.key)
        return decision.manual_rank if decision is not None else None

    placed = sorted((i for i in by_priority if chosen(i)), key=lambda i: (chosen(i) or 0, i.rank))
    ordered = [i for i in by_priority if not chosen(i)]
    for item in placed:
        position = max((chosen(item) or 1) - 1, 0)
        ordered.insert(min(position, len(ordered)), item)
    return ordered


def _improvement_results(
    run: AnalysisRun,
    items: Sequence[Improvement],
    decisions: Mapping[str, ImprovementDecision],
    gaps: Mapping[str, GapResult],
    labels: Mapping[str, str],
    today: date,
) -> tuple[ImprovementResult, ...]:
    results = []
    for position, item in enumerate(in_site_order(items, decisions), start=1):
        decision = decisions.get(item.key)
        results.append(
            ImprovementResult(
                key=item.key,
                title=item.title,
                position=position,
                rank=item.rank,
                priority=item.priority,
                severity=item.severity,
                children_affected=item.children_affected,
                reach=item.reach,
                principle=item.principle,
                principle_label=labels.get(item.principle, item.principle),
                weight=item.weight,
                explanation=item.explanation,
                gap_keys=tuple(item.gap_keys),
                gaps=tuple(gaps[key] for key in item.gap_keys if key in gaps),
                decision=decision_result(decision, key=item.key, today=today),
                kept=decision is not None and bool(decision.version) and decision.updated_at < run.created_at,
            )
        )
    return tuple(results)


def _need_and_capacity(inputs: RunInputs) -> tuple[GroupingNeed, ...]:
    need, capacity = inputs.need_by_grouping, inputs.capacity_by_grouping
    top = max([*need.values(), *capacity.values(), 1])
    return tuple(
        GroupingNeed(
            code=g.code,
            label=g.label,
            need=need.get(g.code, 0),
            capacity=capacity.get(g.code, 0),
            need_width=round(100 * need.get(g.code, 0) / top, 1),
            capacity_width=round(100 * capacity.get(g.code, 0) / top, 1),
        )
        for g in inputs.groupings
    )


def _comparison(run: AnalysisRun, current: Sequence[GapResult], labels: Mapping[str, str]) -> Comparison | None:
    previous = run.previous
    if previous is None:
        return None
    now = {gap.key: gap for gap in current}
    earlier = {gap.key: gap_result(gap, labels) for gap in run_gaps(run=previous)}
    return Comparison(
        previous_run=previous,
        new=tuple(gap for key, gap in now.items() if key not in earlier),
        resolved=tuple(gap for key, gap in earlier.items() if key not in now),
        changed=tuple(
            ChangedGap(gap=gap, before=earlier[key].severity, after=gap.severity)
            for key, gap in now.items()
            if key in earlier and earlier[key].severity != gap.severity
        ),
    )


def _bands(inputs: RunInputs) -> tuple[BandUsed, ...]:
    return tuple(
        BandUsed(
            code=band.code,
            label=band.label,
            population=band.population,
            prevalence_percent=band.prevalence_percent,
            source=inputs.source_of(band),
        )
        for band in inputs.age_bands
    )


def assumption_rows(
    assumptions: AssumptionsUsed, *, grouping_labels: Mapping[str, str], principles: Iterable[tuple[str, str]]
) -> tuple[tuple[SettingUsed, ...], tuple[SettingUsed, ...]]:
    """Assumptions and principle weights as the site sees them, each marked as the
    project's default or the site's own."""

    def origin(value: Any, default: Any) -> str:
        return "default" if Decimal(str(value)) == Decimal(str(default)) else "site"

    split = assumptions.need_split_percent
    rows = [
        SettingUsed(
            "Thriving: share of all children and young people",
            f"{plain_number(assumptions.thriving_percent)}%",
            origin(assumptions.thriving_percent, DEFAULT_THRIVING_PERCENT),
        ),
        *(
            SettingUsed(
                f"{grouping_labels.get(code, code)}: share of need",
                f"{plain_number(split.get(code, 0))}%",
                origin(split.get(code, 0), default),
            )
            for code, default in DEFAULT_NEED_SPLIT.items()
        ),
        SettingUsed(
            "Maximum wait target",
            f"{assumptions.max_wait_weeks} weeks",
            origin(assumptions.max_wait_weeks, DEFAULT_MAX_WAIT_WEEKS),
        ),
        SettingUsed(
            "Self-referral target: share of advice and help capacity",
            f"{assumptions.self_referral_percent}%",
            origin(assumptions.self_referral_percent, DEFAULT_SELF_REFERRAL_PERCENT),
        ),
        SettingUsed("Records count as stale after", f"{assumptions.stale_after_days} days", "setting"),
    ]
    weights = assumptions.principle_weights
    weight_rows = tuple(
        SettingUsed(label, plain_number(weights.get(code, 1)), origin(weights.get(code, 1), 1))
        for code, label in principles
    )
    return tuple(rows), weight_rows


def run_results(*, run: AnalysisRun, today: date | None = None) -> RunResults:
    """Everything a succeeded run found and used, with the site's current decisions."""
    today = today or timezone.localdate()
    inputs = RunInputs.from_json(run.inputs)
    labels = inputs.grouping_labels
    gaps = tuple(gap_result(gap, labels) for gap in run_gaps(run=run))
    decisions = decisions_for_site(site_id=run.site_id)
    principle_names = dict(FALLBACK_PRINCIPLES) | dict(inputs.principle_labels)
    assumptions, weights = assumption_rows(
        inputs.assumptions,
        grouping_labels=labels,
        principles=((code, principle_names.get(code, code)) for code, _ in FALLBACK_PRINCIPLES),
    )
    return RunResults(
        run=run,
        inputs=inputs,
        gaps=gaps,
        improvements=_improvement_results(
            run, run_improvements(run=run), decisions, {gap.key: gap for gap in gaps}, principle_names, today
        ),
        need_and_capacity=_need_and_capacity(inputs),
        comparison=_comparison(run, gaps, labels),
        bands=_bands(inputs),
        assumptions_used=assumptions,
        weights_used=weights,
    )


# What each page reads ------------------------------------------------------------------


def failure_in_plain_words(run: AnalysisRun) -> str:
    """The first line of a failed run's error: what stopped it, without the traceback."""
    return (run.error or "").strip().split("\n", 1)[0][:300]


@dataclass(frozen=True)
class GapAnalysisHome:
    current_run: AnalysisRun | None
    in_progress: bool
    failed_run: AnalysisRun | None
    failed_error: str
    # The latest succeeded run's results; None until one has succeeded.
    results: RunResults | None
    population_missing: bool


def gap_analysis_home(*, site: Site) -> GapAnalysisHome:
    current = run_current(site=site)
    latest = latest_succeeded_run(site=site)
    failed = current if current is not None and current.status == RunStatus.FAILED else None
    return GapAnalysisHome(
        current_run=current,
        in_progress=current is not None and not current.is_finished,
        failed_run=failed,
        failed_error=failure_in_plain_words(failed) if failed is not None else "",
        results=run_results(run=latest) if latest is not None else None,
        population_missing=not population_get(site=site).is_set,
    )


@dataclass(frozen=True)
class ImprovementPage:
    """One improvement as the latest run that suggested it found it, with the site's
    decision on it (kept across runs by its key)."""

    run: AnalysisRun
    item: ImprovementResult
    latest_run: AnalysisRun | None

    @property
    def in_latest_run(self) -> bool:
        return self.latest_run is not None and self.latest_run.pk == self.run.pk


def improvement_page(*, site: Site, key: str, today: date | None = None) -> ImprovementPage:
    """404 if no run of the site ever suggested the improvement."""
    run = improvement_run_get(site=site, key=key)
    results = run_results(run=run, today=today)
    item = next(item for item in results.improvements if item.key == key)
    return ImprovementPage(run=run, item=item, latest_run=latest_succeeded_run(site=site))


@dataclass(frozen=True)
class SiteInputs:
    """What the next run will use: the site's population and assumptions, as the
    population and assumptions page shows them, and the prevalence table."""

    population: Population
    assumptions: SiteAssumptions
    principles: list[tuple[str, str]]
    assumption_rows: tuple[SettingUsed, ...]
    weight_rows: tuple[SettingUsed, ...]
    prevalence: list[PrevalenceFigure]

    @property
    def uses_defaults(self) -> bool:
        return self.assumptions.pk is None

    @property
    def defaults(self) -> dict[str, str]:
        """Each assumption's project default, as people write it, by field."""
        return {name: plain_number(value) for name, value in ASSUMPTION_DEFAULTS.items()}

    @property
    def population_rows(self) -> list[tuple[str, int]]:
        return [(band.label, self.population.people[band.value]) for band in AgeBand]


def site_inputs(*, site: Site) -> SiteInputs:
    assumptions = assumptions_for_site(site=site)
    principles = principles_current()
    rows, weights = assumption_rows(
        AssumptionsUsed(
            thriving_percent=assumptions.thriving_percent,
            need_split_percent=assumptions.need_split(),
            max_wait_weeks=assumptions.max_wait_weeks,
            self_referral_percent=assumptions.self_referral_percent,
            principle_weights={k: Decimal(str(v)) for k, v in (assumptions.principle_weights or {}).items()},
            stale_after_days=settings.STALE_AFTER_DAYS,
        ),
        grouping_labels=dict(Grouping.objects.values_list("code", "label")),
        principles=principles,
    )
    return SiteInputs(
        population=population_get(site=site),
        assumptions=assumptions,
        principles=principles,
        assumption_rows=rows,
        weight_rows=weights,
        prevalence=prevalence_figures(),
    )
