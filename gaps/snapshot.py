"""What a run used, as a frozen, typed snapshot kept on the run (AnalysisRun.inputs).

The run builds it once, from the engine's inputs and result (RunInputs.from_analysis),
and stores it with to_json; everything that shows a run reads it back with
RunInputs.from_json. from_json is the only code that knows the formats earlier runs
were stored in, so a run stored by any version of THRIVE Mapper still displays:

- format 1, with no "format" key: written before this module. The date is "today"
  and groupings are [code, label] pairs. Runs made before the survey behind each
  prevalence figure was kept have no "prevalence"; runs made before a site could set
  its self-referral target have none in their assumptions (they used 50%); the
  first runs also listed the services' ids, which are not read.
- format 2: what to_json writes.

To record a new input (areas' population, services' hours, organisations, a site
setting): add a field whose default means "not recorded" to the dataclass here,
fill it in from_analysis, write it in to_json and read it in from_json with .get(),
so that older runs read as "not recorded". Bump FORMAT only when the meaning of a key
that is already stored changes, and teach from_json the old meaning.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from .engine import AnalysisInput, AnalysisResult

FORMAT = 2
# What runs of format 1 used before the self-referral target could be set, and the
# stale window before it was recorded with the run.
FORMAT_1_SELF_REFERRAL_PERCENT = 50
FORMAT_1_STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class GroupingUsed:
    code: str
    label: str


@dataclass(frozen=True)
class AgeBandUsed:
    code: str
    label: str
    low: int
    high: int
    population: int
    prevalence_percent: Decimal


@dataclass(frozen=True)
class PrevalenceUsed:
    """A prevalence figure with the survey it comes from, as the run read it."""

    age_band: str
    percent: Decimal
    survey: str
    wave: str
    measure: str
    source_ages: str
    caveat: str


@dataclass(frozen=True)
class AssumptionsUsed:
    thriving_percent: Decimal
    need_split_percent: Mapping[str, Decimal]
    max_wait_weeks: int
    self_referral_percent: int
    principle_weights: Mapping[str, Decimal]
    stale_after_days: int


@dataclass(frozen=True)
class ServicesUsed:
    count: int
    by_status: Mapping[str, int]


@dataclass(frozen=True)
class AssessmentItemUsed:
    code: str
    principle: str
    principle_label: str
    part_label: str
    score: int
    evidence: str


@dataclass(frozen=True)
class AssessmentUsed:
    round_label: str
    held_on: date
    threshold: int
    scale_min: int
    items: tuple[AssessmentItemUsed, ...]


@dataclass(frozen=True)
class RunInputs:
    """Everything a run used, and the need and capacity it worked out from it."""

    site: str
    analysed_on: date
    groupings: tuple[GroupingUsed, ...]
    age_bands: tuple[AgeBandUsed, ...]
    assumptions: AssumptionsUsed
    principle_labels: Mapping[str, str]
    services: ServicesUsed
    assessment: AssessmentUsed | None
    need_by_grouping: Mapping[str, int]
    capacity_by_grouping: Mapping[str, int]
    # The survey behind each figure; None for runs that kept only the percentages.
    prevalence: tuple[PrevalenceUsed, ...] | None = None

    @property
    def grouping_labels(self) -> dict[str, str]:
        return {grouping.code: grouping.label for grouping in self.groupings}

    def source_of(self, band: AgeBandUsed) -> PrevalenceUsed | None:
        """The survey behind a band's figure; None where the run kept only the percentage."""
        return next((p for p in self.prevalence or () if p.age_band == band.code), None)

    @property
    def figures(self) -> tuple[PrevalenceUsed, ...]:
        """The prevalence figure of every band, with the survey's details where the run
        kept them and blank ones where it kept only the percentage."""
        blank = PrevalenceUsed("", Decimal(0), survey="", wave="", measure="", source_ages="", caveat="")
        return tuple(
            replace(self.source_of(band) or blank, age_band=band.code, percent=band.prevalence_percent)
            for band in self.age_bands
        )

    @classmethod
    def from_analysis(
        cls, inputs: AnalysisInput, result: AnalysisResult, *, prevalence: Sequence[PrevalenceUsed]
    ) -> "RunInputs":
        statuses: dict[str, int] = {}
        for service in inputs.services:
            statuses[service.status] = statuses.get(service.status, 0) + 1
        assumptions = inputs.assumptions
        assessment = inputs.assessment
        return cls(
            site=inputs.site,
            analysed_on=inputs.today,
            groupings=tuple(GroupingUsed(code, label) for code, label in inputs.groupings),
            age_bands=tuple(
                AgeBandUsed(b.code, b.label, b.low, b.high, b.population, b.prevalence_percent)
                for b in inputs.age_bands
            ),
            assumptions=AssumptionsUsed(
                thriving_percent=assumptions.thriving_percent,
                need_split_percent=dict(assumptions.need_split_percent),
                max_wait_weeks=assumptions.max_wait_weeks,
                self_referral_percent=assumptions.self_referral_percent,
                principle_weights=dict(assumptions.principle_weights),
                stale_after_days=assumptions.stale_after_days,
            ),
            principle_labels=dict(inputs.principle_labels),
            services=ServicesUsed(count=len(inputs.services), by_status=dict(sorted(statuses.items()))),
            assessment=None
            if assessment is None
            else AssessmentUsed(
                round_label=assessment.round_label,
                held_on=assessment.held_on,
                threshold=assessment.threshold,
                scale_min=assessment.scale_min,
                items=tuple(
                    AssessmentItemUsed(i.code, i.principle, i.principle_label, i.part_label, i.score, i.evidence)
                    for i in assessment.items
                ),
            ),
            need_by_grouping=dict(result.need_by_grouping),
            capacity_by_grouping=dict(result.capacity_by_grouping),
            prevalence=tuple(prevalence),
        )

    def to_json(self) -> dict[str, Any]:
        assumptions = self.assumptions
        assessment = self.assessment
        return {
            "format": FORMAT,
            "site": self.site,
            "analysed_on": self.analysed_on.isoformat(),
            "groupings": [{"code": g.code, "label": g.label} for g in self.groupings],
            "age_bands": [
                {
                    "code": b.code,
                    "label": b.label,
                    "low": b.low,
                    "high": b.high,
                    "population": b.population,
                    "prevalence_percent": str(b.prevalence_percent),
                }
                for b in self.age_bands
            ],
            "prevalence": None
            if self.prevalence is None
            else [
                {
                    "age_band": p.age_band,
                    "percent": str(p.percent),
                    "survey": p.survey,
                    "wave": p.wave,
                    "measure": p.measure,
                    "source_ages": p.source_ages,
                    "caveat": p.caveat,
                }
                for p in self.prevalence
            ],
            "assumptions": {
                "thriving_percent": str(assumptions.thriving_percent),
                "need_split_percent": _strings(assumptions.need_split_percent),
                "max_wait_weeks": assumptions.max_wait_weeks,
                "self_referral_percent": assumptions.self_referral_percent,
                "principle_weights": _strings(assumptions.principle_weights),
                "stale_after_days": assumptions.stale_after_days,
            },
            "principle_labels": dict(self.principle_labels),
            "services": {"count": self.services.count, "by_status": dict(self.services.by_status)},
            "assessment": None
            if assessment is None
            else {
                "round_label": assessment.round_label,
                "held_on": assessment.held_on.isoformat(),
                "threshold": assessment.threshold,
                "scale_min": assessment.scale_min,
                "items": [
                    {
                        "code": i.code,
                        "principle": i.principle,
                        "principle_label": i.principle_label,
                        "part_label": i.part_label,
                        "score": i.score,
                        "evidence": i.evidence,
                    }
                    for i in assessment.items
                ],
            },
            "need_by_grouping": dict(self.need_by_grouping),
            "capacity_by_grouping": dict(self.capacity_by_grouping),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "RunInputs":
        """Read a stored snapshot of any format (see the module's docstring). Keys a
        format did not have read as "not recorded": empty, or the value every run of
        that time used."""
        data = data or {}
        assumptions = data.get("assumptions") or {}
        assessment = data.get("assessment")
        prevalence = data.get("prevalence")
        services = data.get("services") or {}
        return cls(
            site=str(data.get("site", "")),
            analysed_on=date.fromisoformat(data.get("analysed_on") or data["today"]),
            groupings=tuple(_grouping(g) for g in data.get("groupings") or ()),
            age_bands=tuple(
                AgeBandUsed(
                    code=b["code"],
                    label=b["label"],
                    low=int(b["low"]),
                    high=int(b["high"]),
                    population=int(b["population"]),
                    prevalence_percent=Decimal(str(b["prevalence_percent"])),
                )
                for b in data.get("age_bands") or ()
            ),
            assumptions=AssumptionsUsed(
                thriving_percent=Decimal(str(assumptions.get("thriving_percent", 0))),
                need_split_percent=_decimals(assumptions.get("need_split_percent") or {}),
                max_wait_weeks=int(assumptions.get("max_wait_weeks", 0)),
                self_referral_percent=int(assumptions.get("self_referral_percent", FORMAT_1_SELF_REFERRAL_PERCENT)),
                principle_weights=_decimals(assumptions.get("principle_weights") or {}),
                stale_after_days=int(assumptions.get("stale_after_days", FORMAT_1_STALE_AFTER_DAYS)),
            ),
            principle_labels=dict(data.get("principle_labels") or {}),
            services=ServicesUsed(
                count=int(services.get("count", 0)),
                by_status={str(k): int(v) for k, v in (services.get("by_status") or {}).items()},
            ),
            assessment=None
            if not assessment
            else AssessmentUsed(
                round_label=assessment["round_label"],
                held_on=date.fromisoformat(assessment["held_on"]),
                threshold=int(assessment["threshold"]),
                scale_min=int(assessment["scale_min"]),
                items=tuple(
                    AssessmentItemUsed(
                        code=i["code"],
                        principle=i["principle"],
                        principle_label=i.get("principle_label", i["principle"]),
                        part_label=i.get("part_label", ""),
                        score=int(i["score"]),
                        evidence=i.get("evidence", ""),
                    )
                    for i in assessment.get("items") or ()
                ),
            ),
            need_by_grouping={str(k): int(v) for k, v in (data.get("need_by_grouping") or {}).items()},
            capacity_by_grouping={str(k): int(v) for k, v in (data.get("capacity_by_grouping") or {}).items()},
            prevalence=None if prevalence is None else tuple(_prevalence(p) for p in prevalence),
        )


def _grouping(value: Mapping[str, str] | Sequence[str]) -> GroupingUsed:
    if isinstance(value, Mapping):
        return GroupingUsed(value["code"], value["label"])
    code, label = value  # format 1: a [code, label] pair
    return GroupingUsed(code, label)


def _prevalence(value: Mapping[str, Any]) -> PrevalenceUsed:
    return PrevalenceUsed(
        age_band=value["age_band"],
        percent=Decimal(str(value["percent"])),
        survey=value.get("survey", ""),
        wave=value.get("wave", ""),
        measure=value.get("measure", ""),
        source_ages=value.get("source_ages", ""),
        caveat=value.get("caveat", ""),
    )


def _decimals(values: Mapping[str, Any]) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in values.items()}


def _strings(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}
