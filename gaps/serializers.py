"""What the API reads and writes for a site's gap analysis: runs and their results,
decisions on improvement items, the site's assumptions and population, and the
prevalence figures.

A run's results are read from what the run stored (its gaps, improvement items and
the snapshot of its inputs), never recomputed, so they read the same however often
they are fetched. Input serializers only parse and type the body; the rules (a need
split adding up to 100, a reason for a dismissal) are checked in gaps.services and
sites.services.

Choice fields name their schema component explicitly: "status" already means a
service's status in the schema, and a run's or a decision's status must not be
merged with it or renamed by hash.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from sites.models import AgeBand

from .engine import Kind
from .models import (
    AnalysisRun,
    DecisionStatus,
    Gap,
    Improvement,
    ImprovementDecision,
    PdsaEntry,
    PdsaStage,
    RunStatus,
    RunTrigger,
    SiteAssumptions,
)

NEED_SHARE = {
    "required": True,
    "min_value": Decimal(0),
    "max_value": Decimal(100),
    "help_text": "Share of the children and young people with a probable mental disorder whose needs "
    "fall in this grouping (%). The four shares add up to 100.",
}


def _percent(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=2, **kwargs)


def _enum(choices: type[models.TextChoices]) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(choices.values),
        "description": "; ".join(f"`{value}`: {label}" for value, label in choices.choices),
    }


@extend_schema_field(_enum(RunStatus), component_name="GapRunStatus")
class RunStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RunStatus.choices, **kwargs)


@extend_schema_field(_enum(RunTrigger), component_name="GapRunTrigger")
class RunTriggerField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RunTrigger.choices, **kwargs)


@extend_schema_field(_enum(DecisionStatus), component_name="ImprovementDecisionStatus")
class DecisionStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=DecisionStatus.choices, **kwargs)


@extend_schema_field(_enum(PdsaStage), component_name="PdsaStage")
class PdsaStageField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=PdsaStage.choices, **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        "description": "The numbers behind the gap, by name (for example need, capacity, coverage_percent).",
    }
)
class GapNumbersField(serializers.DictField):
    pass


def _username(user: User | None) -> str | None:
    return user.username if user is not None else None


# Prevalence and assumptions


class PrevalenceFigureSerializer(serializers.Serializer[Any]):
    """A prevalence figure, from the table (reference data) or as a run recorded it."""

    age_band = serializers.CharField(help_text="Age band in years, for example 5-10.")
    percent = _percent(help_text="Share of children and young people in the band with a probable mental disorder.")
    survey = serializers.CharField()
    wave = serializers.CharField(help_text="The survey wave the figure comes from, for example 2023 (wave 4).")
    measure = serializers.CharField(help_text="What the figure measures.")
    source_ages = serializers.CharField(help_text="The ages the published figure covers.")
    caveat = serializers.CharField(help_text="How far the figure can be compared or applied to the band.")


class GapAssumptionsSerializer(serializers.ModelSerializer[SiteAssumptions]):
    """The site's assumptions. Read, they show the project's defaults until the site
    sets its own; written (PUT), every value is replaced."""

    principle_weights = serializers.DictField(
        child=serializers.DecimalField(max_digits=4, decimal_places=2),
        required=False,
        default=dict,
        help_text="Weight of each THRIVE principle in the priority, by principle code, from 0 to 3; "
        "1 for a principle not listed. Left out of a PUT, every weight goes back to 1.",
    )
    uses_defaults = serializers.SerializerMethodField()
    updated_by = serializers.SerializerMethodField()

    class Meta:
        model = SiteAssumptions
        fields = [
            "thriving_percent",
            "advice_percent",
            "help_percent",
            "more_help_percent",
            "risk_percent",
            "max_wait_weeks",
            "self_referral_percent",
            "principle_weights",
            "uses_defaults",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        # The model's defaults would make every field optional; a PUT sets them all.
        extra_kwargs = {
            "thriving_percent": {
                "required": True,
                "help_text": "Share of all children and young people met by Thriving offers (%).",
            },
            "advice_percent": NEED_SHARE,
            "help_percent": NEED_SHARE,
            "more_help_percent": NEED_SHARE,
            "risk_percent": NEED_SHARE,
            "max_wait_weeks": {
                "required": True,
                "help_text": "Services that usually wait longer than this many weeks are a gap.",
            },
            "self_referral_percent": {
                "required": True,
                "help_text": "Less advice and help capacity than this percentage open to self-referral is a gap.",
            },
        }

    @extend_schema_field(serializers.BooleanField(help_text="True until the site saves assumptions of its own."))
    def get_uses_defaults(self, assumptions: SiteAssumptions) -> bool:
        return assumptions.pk is None

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Username of whoever last changed them."))
    def get_updated_by(self, assumptions: SiteAssumptions) -> str | None:
        return _username(assumptions.updated_by)

    def validate_principle_weights(self, weights: dict[str, Decimal]) -> dict[str, float]:
        # Stored as JSON numbers, as the assumptions page stores them.
        return {code: float(weight) for code, weight in weights.items()}


class PopulationByAgeBandSerializer(serializers.Serializer[dict[str, int]]):
    """Children and young people living in the site, one field per age band. A PUT
    sets all five bands at once."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            band.value: serializers.IntegerField(
                help_text=f"Children and young people aged {band.label}.",
                error_messages={
                    "required": f"Enter the number of people aged {band.label}.",
                    "invalid": f"The number of people aged {band.label} must be a whole number, like 21000.",
                    "null": f"Enter the number of people aged {band.label}.",
                },
            )
            for band in AgeBand
        }


# Decisions and PDSA


class PdsaEntrySerializer(serializers.ModelSerializer[PdsaEntry]):
    stage = PdsaStageField(read_only=True)
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = PdsaEntry
        fields = ["stage", "note", "recorded_on", "recorded_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Username of whoever recorded the step."))
    def get_recorded_by(self, entry: PdsaEntry) -> str | None:
        return _username(entry.recorded_by)


class PdsaInputSerializer(serializers.Serializer[dict[str, Any]]):
    stage = PdsaStageField(error_messages={"invalid_choice": "Choose plan, do, study or act."})
    note = serializers.CharField(
        max_length=4000,
        help_text="What was planned, done, learned or changed.",
        error_messages={
            "required": "Describe what happened in this step.",
            "blank": "Describe what happened in this step.",
            "max_length": "Describe the step in 4,000 characters or fewer.",
        },
    )
    recorded_on = serializers.DateField(required=False, help_text="The date of the step; today when left out.")


class ImprovementDecisionSerializer(serializers.ModelSerializer[ImprovementDecision]):
    """What the site decided about an improvement item. An item nobody has decided on
    yet reads as open, with no owner, date or position."""

    status = DecisionStatusField(read_only=True)
    pdsa_entries = serializers.SerializerMethodField()
    updated_by = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementDecision
        fields = [
            "key",
            "status",
            "dismiss_reason",
            "owner",
            "due_on",
            "manual_rank",
            "pdsa_entries",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"updated_at": {"allow_null": True}}

    @extend_schema_field(PdsaEntrySerializer(many=True))
    def get_pdsa_entries(self, decision: ImprovementDecision) -> list[dict[str, Any]]:
        if decision.pk is None:
            return []
        return PdsaEntrySerializer(decision.pdsa_entries.all(), many=True).data  # type: ignore[return-value]

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Username of whoever last decided."))
    def get_updated_by(self, decision: ImprovementDecision) -> str | None:
        return _username(decision.updated_by)


class DecisionInputSerializer(serializers.Serializer[dict[str, Any]]):
    """A change to the site's decision. Only the fields sent change; null clears the
    owner, the due date or the position."""

    status = DecisionStatusField(
        required=False, error_messages={"invalid_choice": "Choose accepted, dismissed or open."}
    )
    dismiss_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=2000,
        help_text="Needed to dismiss an improvement; kept only while it is dismissed.",
        error_messages={"max_length": "Give the reason in 2,000 characters or fewer."},
    )
    owner = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=120,
        help_text="The person or team who leads the improvement.",
        error_messages={"max_length": "Enter the owner in 120 characters or fewer."},
    )
    due_on = serializers.DateField(required=False, allow_null=True)
    manual_rank = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=999,
        help_text="Position in the site's list, 1 first; null to follow the priority.",
        error_messages={
            "min_value": "The position must be 1 or more.",
            "max_value": "The position must be 999 or less.",
        },
    )


# Runs


class RunLinksSerializer(serializers.Serializer[Any]):
    run = serializers.URLField(help_text="This run in the API: poll it for progress and results.")


class GapRunSerializer(serializers.ModelSerializer[AnalysisRun]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = RunStatusField(read_only=True)
    trigger = RunTriggerField(read_only=True)
    requested_by = serializers.SerializerMethodField()
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    gap_count = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "status",
            "progress",
            "progress_message",
            "trigger",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "gap_count",
            "links",
        ]
        read_only_fields = fields
        extra_kwargs = {"progress": {"help_text": "Per cent done, 0 to 100."}}

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="Username of whoever asked; null for nightly runs.")
    )
    def get_requested_by(self, run: AnalysisRun) -> str | None:
        return _username(run.requested_by)

    @extend_schema_field(
        serializers.IntegerField(
            allow_null=True, help_text="Gaps found, not counting data-quality gaps; null until the run succeeds."
        )
    )
    def get_gap_count(self, run: AnalysisRun) -> int | None:
        if run.status != RunStatus.SUCCEEDED:
            return None
        counted = getattr(run, "gap_count", None)
        return counted if counted is not None else run.gaps.filter(data_quality=False).count()

    @extend_schema_field(RunLinksSerializer)
    def get_links(self, run: AnalysisRun) -> dict[str, str]:
        # The API passes the site it resolved from the URL, saving a query per run.
        site = self.context.get("site") or run.site
        path = reverse("api-gap-run-detail", kwargs={"site_slug": site.slug, "public_id": run.public_id})
        request = self.context.get("request")
        return {"run": request.build_absolute_uri(path) if request is not None else path}


class GapRunRequestSerializer(serializers.Serializer[Any]):
    run = GapRunSerializer()
    enqueued = serializers.BooleanField(
        help_text="False when the job service could not be reached: the run is kept and starts "
        "automatically when the service is back."
    )
    message = serializers.CharField(help_text="What happened, in words to show the person who asked.")


class GapSerializer(serializers.ModelSerializer[Gap]):
    kind_label = serializers.SerializerMethodField()
    numbers = GapNumbersField(read_only=True)

    class Meta:
        model = Gap
        fields = [
            "key",
            "kind",
            "kind_label",
            "grouping",
            "age_band",
            "principle",
            "severity",
            "children_affected",
            "numbers",
            "sentence",
            "data_quality",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "grouping": {"help_text": "The THRIVE grouping's code; empty when the gap is not about one grouping."},
            "age_band": {"help_text": "The age band, for example 0-4; empty when the gap is not about one band."},
            "principle": {"help_text": "The THRIVE principle the gap bears on, by code."},
            "severity": {"help_text": "From 0 (none) to 100 (the worst)."},
            "data_quality": {"help_text": "A gap in the data (stale records), shown apart from provision gaps."},
        }

    @extend_schema_field(serializers.CharField())
    def get_kind_label(self, gap: Gap) -> str:
        return Kind.LABELS.get(gap.kind, gap.kind)


class ImprovementSerializer(serializers.ModelSerializer[Improvement]):
    position = serializers.SerializerMethodField()
    gap_keys = serializers.ListField(child=serializers.CharField(), read_only=True)
    decision = serializers.SerializerMethodField()

    class Meta:
        model = Improvement
        fields = [
            "key",
            "title",
            "position",
            "rank",
            "priority",
            "severity",
            "children_affected",
            "reach",
            "principle",
            "weight",
            "explanation",
            "gap_keys",
            "decision",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "key": {"help_text": "Stays the same from run to run; the site's decision is kept by it."},
            "rank": {"help_text": "Position by priority in this run, from 1."},
            "priority": {"help_text": "severity × reach × principle weight, as the explanation spells out."},
            "severity": {"help_text": "The worst severity of the item's gaps."},
        }

    @extend_schema_field(serializers.IntegerField(help_text="Position in the site's order, from 1."))
    def get_position(self, item: Improvement) -> int:
        return int(self.context["positions"][item.key])

    @extend_schema_field(ImprovementDecisionSerializer)
    def get_decision(self, item: Improvement) -> dict[str, Any]:
        decision = getattr(item, "decision", None) or ImprovementDecision(key=item.key)
        return ImprovementDecisionSerializer(decision).data


class ComparedGapSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(source="gap.key")
    kind = serializers.CharField(source="gap.kind")
    grouping = serializers.CharField(source="gap.grouping")
    age_band = serializers.CharField(source="gap.age_band")
    severity = serializers.IntegerField(source="gap.severity")
    sentence = serializers.CharField(source="gap.sentence")


class ChangedGapSerializer(ComparedGapSerializer):
    severity_before = serializers.IntegerField(source="before")
    severity_after = serializers.IntegerField(source="after")


class ComparisonSerializer(serializers.Serializer[Any]):
    previous_run = serializers.UUIDField(help_text="The run this one is compared with.")
    new = ComparedGapSerializer(many=True, help_text="Gaps found now but not in the previous run.")
    resolved = ComparedGapSerializer(
        many=True, help_text="Gaps of the previous run not found now, with their severity then."
    )
    changed = ChangedGapSerializer(many=True, help_text="Gaps in both runs whose severity changed.")


# The snapshot of inputs a run stored (gaps.selectors.inputs_snapshot), as plain JSON.


# A declared field named "label" shadows Field.label only in the stubs: DRF's
# metaclass moves declared fields off the class.
class CodeLabelSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class PopulationUsedSerializer(serializers.Serializer[Any]):
    age_band = serializers.CharField(source="code")
    label = serializers.CharField()  # type: ignore[assignment]
    people = serializers.IntegerField(source="population")


class AssumptionsUsedSerializer(serializers.Serializer[Any]):
    thriving_percent = _percent()
    need_split_percent = serializers.DictField(
        child=_percent(), help_text="Share of need in each help grouping, by grouping code."
    )
    max_wait_weeks = serializers.IntegerField()
    self_referral_percent = serializers.IntegerField(
        required=False, help_text="The self-referral target; absent from runs made before it could be set (50)."
    )
    principle_weights = serializers.DictField(
        child=serializers.DecimalField(max_digits=4, decimal_places=2),
        help_text="The site's weights by principle code; 1 for a principle not listed.",
    )
    stale_after_days = serializers.IntegerField(help_text="Records not checked for longer than this count as stale.")


class ServicesUsedSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(help_text="Current services the analysis read.")
    by_status = serializers.DictField(child=serializers.IntegerField(), help_text="How many had each status.")


class AssessmentItemUsedSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    principle = serializers.CharField()
    principle_label = serializers.CharField()
    part_label = serializers.CharField()
    score = serializers.IntegerField(help_text="The agreed score.")
    evidence = serializers.CharField()


class AssessmentUsedSerializer(serializers.Serializer[Any]):
    round_label = serializers.CharField()
    held_on = serializers.DateField()
    threshold = serializers.IntegerField(help_text="Items scored below this count as a gap.")
    scale_min = serializers.IntegerField()
    items = AssessmentItemUsedSerializer(many=True)


class RunInputsSerializer(serializers.Serializer[Any]):
    analysed_on = serializers.DateField(source="today")
    groupings = serializers.SerializerMethodField()
    population = PopulationUsedSerializer(many=True, source="age_bands")
    prevalence = serializers.SerializerMethodField()
    assumptions = AssumptionsUsedSerializer()
    need_by_grouping = serializers.DictField(
        child=serializers.IntegerField(), help_text="Estimated children and young people needing each grouping a year."
    )
    capacity_by_grouping = serializers.DictField(
        child=serializers.IntegerField(), help_text="Places a year the site's active services offer in each grouping."
    )
    services = ServicesUsedSerializer()
    assessment = AssessmentUsedSerializer(
        allow_null=True, help_text="The latest submitted assessment round; null if there was none."
    )

    @extend_schema_field(CodeLabelSerializer(many=True))
    def get_groupings(self, inputs: dict[str, Any]) -> list[dict[str, str]]:
        return [{"code": code, "label": label} for code, label in inputs.get("groupings") or []]

    @extend_schema_field(PrevalenceFigureSerializer(many=True))
    def get_prevalence(self, inputs: dict[str, Any]) -> Any:
        """The figures the run used. Runs from before the survey was recorded with the
        run kept only the percentages; their source reads as blank."""
        sources = {figure["age_band"]: figure for figure in inputs.get("prevalence") or []}
        blank = {"survey": "", "wave": "", "measure": "", "source_ages": "", "caveat": ""}
        figures = [
            {**blank, **sources.get(band["code"], {}), "age_band": band["code"], "percent": band["prevalence_percent"]}
            for band in inputs.get("age_bands") or []
        ]
        return PrevalenceFigureSerializer(figures, many=True).data


@dataclass(frozen=True)
class RunResults:
    """What a succeeded run found, read through gaps.selectors by the API."""

    gaps: list[Gap]
    improvements: list[Improvement]
    comparison: dict[str, Any] | None


class GapRunDetailSerializer(GapRunSerializer):
    """A run with, once it has succeeded, everything it used and found."""

    # The API reads the results through gaps.selectors and passes them in the context
    # as `results`: None until the run has succeeded.

    error = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()
    gaps = serializers.SerializerMethodField()
    improvements = serializers.SerializerMethodField()
    comparison = serializers.SerializerMethodField()

    class Meta(GapRunSerializer.Meta):
        fields = [*GapRunSerializer.Meta.fields, "error", "inputs", "gaps", "improvements", "comparison"]
        read_only_fields = fields

    def _results(self) -> RunResults | None:
        results: RunResults | None = self.context.get("results")
        return results

    @extend_schema_field(
        serializers.CharField(
            allow_null=True, help_text="What stopped a failed run, in one line; null unless the run failed."
        )
    )
    def get_error(self, run: AnalysisRun) -> str | None:
        if run.status != RunStatus.FAILED:
            return None
        return (run.error or "").strip().split("\n", 1)[0][:300]

    @extend_schema_field(
        RunInputsSerializer(allow_null=True, help_text="Everything the run used; null until it succeeds.")
    )
    def get_inputs(self, run: AnalysisRun) -> dict[str, Any] | None:
        if self._results() is None or not run.inputs:
            return None
        return RunInputsSerializer(run.inputs).data

    @extend_schema_field(
        GapSerializer(
            many=True,
            allow_null=True,
            help_text="Most severe first, data-quality gaps last; null until the run succeeds.",
        )
    )
    def get_gaps(self, run: AnalysisRun) -> Any:
        results = self._results()
        return None if results is None else GapSerializer(results.gaps, many=True).data

    @extend_schema_field(
        ImprovementSerializer(
            many=True,
            allow_null=True,
            help_text="Improvement items in the site's order (positions it chose, the rest by priority), "
            "each with the site's decision; null until the run succeeds.",
        )
    )
    def get_improvements(self, run: AnalysisRun) -> Any:
        results = self._results()
        if results is None:
            return None
        positions = {item.key: position for position, item in enumerate(results.improvements, start=1)}
        return ImprovementSerializer(results.improvements, many=True, context={"positions": positions}).data

    @extend_schema_field(
        ComparisonSerializer(
            allow_null=True, help_text="Changes since the site's previous succeeded run; null if there was none."
        )
    )
    def get_comparison(self, run: AnalysisRun) -> dict[str, Any] | None:
        results = self._results()
        if results is None or results.comparison is None or run.previous is None:
            return None
        return ComparisonSerializer({**results.comparison, "previous_run": run.previous.public_id}).data
