"""What the API reads and writes for a site's gap analysis: runs and their results,
decisions on improvement items, the site's assumptions and population, and the
prevalence figures.

A run's results come from gaps.results (the same typed results the pages show),
read from what the run stored, never recomputed; these serializers only format
them. Input serializers only parse and type the body, with fields built from
core.limits; the rules (a need split adding up to 100, a reason for a dismissal)
are checked in gaps.services and sites.services.

Choice fields name their schema component explicitly: "status" already means a
service's status in the schema, and a run's or a decision's status must not be
merged with it or renamed by hash.
"""

from decimal import Decimal
from typing import Any

from django.db import models
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from core.limits import DISMISS_REASON, DUE_DATE, MANUAL_RANK, OWNER, PDSA_DATE, PDSA_NOTE, PRINCIPLE_WEIGHT
from core.serializers import date_field, decimal_field, integer_field, text_field
from sites.models import AgeBand
from sites.services import population_limit

from .models import ASSUMPTION_LIMITS, AnalysisRun, DecisionStatus, PdsaStage, RunStatus, RunTrigger, SiteAssumptions
from .results import RunResults


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


@extend_schema_field(serializers.CharField(allow_null=True, help_text="The person's username."))
class UsernameField(serializers.Field[Any, Any, Any, Any]):
    """A person by username; DRF shows nobody (None) as null without asking the field."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: User) -> str:
        return value.username


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
    """The site's assumptions: the project's defaults (version 0) until the site sets
    its own."""

    principle_weights = serializers.DictField(
        child=serializers.DecimalField(max_digits=4, decimal_places=2),
        help_text="Weight of each THRIVE principle in the priority, by principle code, from 0 to 3; "
        "1 for a principle not listed.",
    )
    uses_defaults = serializers.SerializerMethodField()
    updated_by = UsernameField(help_text="Username of whoever last changed them.")

    class Meta:
        model = SiteAssumptions
        fields = [
            *ASSUMPTION_LIMITS,
            "principle_weights",
            "uses_defaults",
            "version",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "version": {"help_text": "Rises with every change, 0 while the site uses the defaults; the ETag."},
            "updated_at": {"allow_null": True},
        }

    @extend_schema_field(serializers.BooleanField(help_text="True until the site saves assumptions of its own."))
    def get_uses_defaults(self, assumptions: SiteAssumptions) -> bool:
        return assumptions.pk is None


def _assumption_field(name: str, help_text: str) -> Any:
    limit = ASSUMPTION_LIMITS[name]
    if isinstance(limit.maximum, Decimal):
        return decimal_field(limit, max_digits=5, decimal_places=2, help_text=help_text)
    return integer_field(limit, help_text=help_text)


NEED_SHARE = (
    "Share of the children and young people with a probable mental disorder whose needs fall in this "
    "grouping (%). The four shares add up to 100."
)


class GapAssumptionsInputSerializer(serializers.Serializer[dict[str, Any]]):
    """A PUT of the assumptions sets every value."""

    thriving_percent = _assumption_field(
        "thriving_percent", "Share of all children and young people met by Thriving offers (%)."
    )
    advice_percent = _assumption_field("advice_percent", NEED_SHARE)
    help_percent = _assumption_field("help_percent", NEED_SHARE)
    more_help_percent = _assumption_field("more_help_percent", NEED_SHARE)
    risk_percent = _assumption_field("risk_percent", NEED_SHARE)
    max_wait_weeks = _assumption_field(
        "max_wait_weeks", "Services that usually wait longer than this many weeks are a gap."
    )
    self_referral_percent = _assumption_field(
        "self_referral_percent", "Less advice and help capacity than this percentage open to self-referral is a gap."
    )
    principle_weights = serializers.DictField(
        child=decimal_field(PRINCIPLE_WEIGHT, max_digits=4, decimal_places=2),
        required=False,
        default=dict,
        help_text="Weight of each THRIVE principle in the priority, by principle code, from 0 to 3; "
        "1 for a principle not listed. Left out of a PUT, every weight goes back to 1.",
    )


class PopulationByAgeBandSerializer(serializers.Serializer[dict[str, int]]):
    """Children and young people living in the site, one field per age band. The five
    bands are one resource: a PUT sets them all at once."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields: dict[str, serializers.Field[Any, Any, Any, Any]] = {
            band.value: integer_field(population_limit(band), help_text=f"Children and young people aged {band.label}.")
            for band in AgeBand
        }
        fields["version"] = serializers.IntegerField(
            read_only=True, help_text="Rises with every change, 0 while no band is set; the ETag."
        )
        return fields


# Decisions and PDSA


class PdsaEntrySerializer(serializers.Serializer[Any]):
    """A plan-do-study-act step (gaps.results.PdsaResult)."""

    stage = PdsaStageField(read_only=True)
    note = serializers.CharField(read_only=True)
    recorded_on = serializers.DateField(read_only=True)
    recorded_by = UsernameField(help_text="Username of whoever recorded the step.")
    created_at = serializers.DateTimeField(read_only=True)


class PdsaInputSerializer(serializers.Serializer[dict[str, Any]]):
    stage = PdsaStageField(error_messages={"invalid_choice": "Choose plan, do, study or act."})
    note = text_field(
        PDSA_NOTE,
        help_text="What was planned, done, learned or changed.",
        error_messages={
            "required": "Describe what happened in this step.",
            "blank": "Describe what happened in this step.",
        },
    )
    recorded_on = date_field(PDSA_DATE, required=False, help_text="The date of the step; today when left out.")


class ImprovementDecisionSerializer(serializers.Serializer[Any]):
    """What the site decided about an improvement item (gaps.results.DecisionResult).
    An item nobody has decided on yet reads as open, with nothing set, at version 0."""

    key = serializers.CharField(read_only=True)
    status = DecisionStatusField(read_only=True)
    dismiss_reason = serializers.CharField(read_only=True)
    owner = serializers.CharField(read_only=True)
    due_on = serializers.DateField(read_only=True, allow_null=True)
    overdue = serializers.BooleanField(read_only=True, help_text="Due before today and not dismissed.")
    manual_rank = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Position chosen by the site; null to follow the priority."
    )
    pdsa_entries = PdsaEntrySerializer(many=True, read_only=True)
    version = serializers.IntegerField(read_only=True, help_text="Rises with every change; the ETag.")
    updated_by = UsernameField(help_text="Username of whoever last decided.")
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class DecisionInputSerializer(serializers.Serializer[dict[str, Any]]):
    """A change to the site's decision. Only the fields sent change; null clears the
    owner, the due date or the position."""

    status = DecisionStatusField(
        required=False, error_messages={"invalid_choice": "Choose accepted, dismissed or open."}
    )
    dismiss_reason = text_field(
        DISMISS_REASON,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Needed to dismiss an improvement; kept only while it is dismissed.",
    )
    owner = text_field(
        OWNER,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The person or team who leads the improvement.",
    )
    due_on = date_field(DUE_DATE, required=False, allow_null=True)
    manual_rank = integer_field(
        MANUAL_RANK,
        required=False,
        allow_null=True,
        help_text="Position in the site's list, 1 first; null to follow the priority.",
    )


# Runs


class RunLinksSerializer(serializers.Serializer[Any]):
    run = serializers.URLField(help_text="This run in the API: poll it for progress and results.")


class GapRunSerializer(serializers.ModelSerializer[AnalysisRun]):
    """A run, read through gaps.selectors.runs_with_gap_counts."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    status = RunStatusField(read_only=True)
    trigger = RunTriggerField(read_only=True)
    requested_by = UsernameField(help_text="Username of whoever asked; null for nightly runs.")
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
        serializers.IntegerField(
            allow_null=True, help_text="Gaps found, not counting data-quality gaps; null until the run succeeds."
        )
    )
    def get_gap_count(self, run: AnalysisRun) -> int | None:
        # Runs read through gaps.selectors.runs_with_gap_counts carry their count.
        return getattr(run, "gap_count", None) if run.status == RunStatus.SUCCEEDED else None

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


class GapSerializer(serializers.Serializer[Any]):
    """A gap a run found (gaps.results.GapResult)."""

    key = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    grouping = serializers.CharField(
        help_text="The THRIVE grouping's code; empty when the gap is not about one grouping."
    )
    age_band = serializers.CharField(
        help_text="The age band, for example 0-4; empty when the gap is not about one band."
    )
    principle = serializers.CharField(help_text="The THRIVE principle the gap bears on, by code.")
    severity = serializers.IntegerField(help_text="From 0 (none) to 100 (the worst).")
    children_affected = serializers.IntegerField()
    numbers = GapNumbersField(read_only=True)
    sentence = serializers.CharField()
    data_quality = serializers.BooleanField(
        help_text="A gap in the data (stale records), shown apart from provision gaps."
    )


class ImprovementSerializer(serializers.Serializer[Any]):
    """An improvement item in the site's order (gaps.results.ImprovementResult)."""

    key = serializers.CharField(help_text="Stays the same from run to run; the site's decision is kept by it.")
    title = serializers.CharField()
    position = serializers.IntegerField(help_text="Position in the site's order, from 1.")
    rank = serializers.IntegerField(help_text="Position by priority in this run, from 1.")
    priority = serializers.DecimalField(
        max_digits=7, decimal_places=1, help_text="severity × reach × principle weight, as the explanation spells out."
    )
    severity = serializers.IntegerField(help_text="The worst severity of the item's gaps.")
    children_affected = serializers.IntegerField()
    reach = serializers.DecimalField(max_digits=4, decimal_places=2)
    principle = serializers.CharField()
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    explanation = serializers.CharField()
    gap_keys = serializers.ListField(child=serializers.CharField())
    decision = ImprovementDecisionSerializer()


class ComparedGapSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    kind = serializers.CharField()
    grouping = serializers.CharField()
    age_band = serializers.CharField()
    severity = serializers.IntegerField()
    sentence = serializers.CharField()


class ChangedGapSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(source="gap.key")
    kind = serializers.CharField(source="gap.kind")
    grouping = serializers.CharField(source="gap.grouping")
    age_band = serializers.CharField(source="gap.age_band")
    severity = serializers.IntegerField(source="gap.severity")
    sentence = serializers.CharField(source="gap.sentence")
    severity_before = serializers.IntegerField(source="before")
    severity_after = serializers.IntegerField(source="after")


class ComparisonSerializer(serializers.Serializer[Any]):
    previous_run = serializers.UUIDField(
        source="previous_run.public_id", help_text="The run this one is compared with."
    )
    new = ComparedGapSerializer(many=True, help_text="Gaps found now but not in the previous run.")
    resolved = ComparedGapSerializer(
        many=True, help_text="Gaps of the previous run not found now, with their severity then."
    )
    changed = ChangedGapSerializer(many=True, help_text="Gaps in both runs whose severity changed.")


# What a run used (gaps.snapshot.RunInputs)


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
        help_text="The self-referral target; 50 for runs made before it could be set."
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
    analysed_on = serializers.DateField()
    groupings = CodeLabelSerializer(many=True)
    population = PopulationUsedSerializer(many=True, source="age_bands")
    prevalence = PrevalenceFigureSerializer(
        many=True,
        source="figures",
        help_text="The figures the run used. Runs made before the survey was kept with each run have only "
        "the percentages: their survey, wave, measure, ages and caveat are blank.",
    )
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


# The summary a commissioner decides on first (gaps.results.RunSummary)


class SummaryImprovementSerializer(serializers.Serializer[Any]):
    """One of the first improvements in the site's order (gaps.results.ImprovementResult);
    `improvements` has all of them, with everything else known about each."""

    key = serializers.CharField(help_text="The item's key, as in `improvements`.")
    title = serializers.CharField()
    position = serializers.IntegerField(help_text="Position in the site's order, from 1.")
    priority = serializers.DecimalField(max_digits=7, decimal_places=1)
    severity = serializers.IntegerField(help_text="The worst severity of the item's gaps, from 0 to 100.")
    children_affected = serializers.IntegerField()
    decision_status = DecisionStatusField(source="decision.status", read_only=True)
    overdue = serializers.BooleanField(source="decision.overdue", help_text="Due before today and not dismissed.")


class GroupingSummarySerializer(serializers.Serializer[Any]):
    """A THRIVE grouping with its estimated need, capacity and the provision gaps found
    in it; the last row, with an empty grouping, holds the gaps not about one grouping."""

    grouping = serializers.CharField(
        source="code", help_text="The grouping's code; empty for the gaps not about one grouping."
    )
    label = serializers.CharField()  # type: ignore[assignment]
    need = serializers.IntegerField(
        source="need.need",
        allow_null=True,
        help_text="Estimated children and young people needing the grouping a year; null for the gaps not "
        "about one grouping.",
    )
    capacity = serializers.IntegerField(
        source="need.capacity", allow_null=True, help_text="Places a year the site's active services offer."
    )
    coverage_percent = serializers.IntegerField(
        source="need.coverage", allow_null=True, help_text="Capacity as a share of need; null where need is 0."
    )
    gap_count = serializers.IntegerField()
    worst_severity = serializers.IntegerField(allow_null=True, help_text="From 0 to 100; null without gaps.")
    kinds = serializers.ListField(
        child=serializers.CharField(), help_text="The kinds of its gaps, each once, the most severe first."
    )
    gap_keys = serializers.ListField(
        child=serializers.CharField(), help_text="Its gaps, most severe first, by their key in `gaps`."
    )


class RunSummarySerializer(serializers.Serializer[Any]):
    gap_count = serializers.IntegerField(help_text="Gaps found, not counting data-quality gaps.")
    improvement_count = serializers.IntegerField()
    data_quality_count = serializers.IntegerField(help_text="Data-quality gaps (stale records), shown apart.")
    top_improvements = SummaryImprovementSerializer(
        many=True, help_text="The first improvements in the site's order, at most five."
    )
    by_grouping = GroupingSummarySerializer(
        many=True,
        help_text="The five THRIVE groupings in THRIVE order, then the gaps not about one grouping.",
    )


class GapRunDetailSerializer(GapRunSerializer):
    """A run with, once it has succeeded, everything it used and found: the
    gaps.results.RunResults the API passes in the context as `results` (None until
    the run has succeeded)."""

    error = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    improvements = serializers.SerializerMethodField()
    gaps = serializers.SerializerMethodField()
    comparison = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()

    class Meta(GapRunSerializer.Meta):
        # The summary first, then the details in the order the run's page shows them.
        fields = [
            *GapRunSerializer.Meta.fields,
            "error",
            "summary",
            "improvements",
            "gaps",
            "comparison",
            "inputs",
        ]
        read_only_fields = fields

    def _results(self) -> RunResults | None:
        results: RunResults | None = self.context.get("results")
        return results

    def get_gap_count(self, run: AnalysisRun) -> int | None:
        results = self._results()
        return None if results is None else results.gap_count

    @extend_schema_field(
        serializers.CharField(
            allow_null=True, help_text="What stopped a failed run, in one line; null unless the run failed."
        )
    )
    def get_error(self, run: AnalysisRun) -> str | None:
        return self.context.get("failure") if run.status == RunStatus.FAILED else None

    @extend_schema_field(
        RunSummarySerializer(
            allow_null=True,
            help_text="What a commissioner decides on first, as the run's page shows it: the first "
            "improvements in the site's order and the gaps by grouping; null until the run succeeds.",
        )
    )
    def get_summary(self, run: AnalysisRun) -> dict[str, Any] | None:
        results = self._results()
        return None if results is None else RunSummarySerializer(results.summary).data

    @extend_schema_field(
        RunInputsSerializer(allow_null=True, help_text="Everything the run used; null until it succeeds.")
    )
    def get_inputs(self, run: AnalysisRun) -> dict[str, Any] | None:
        results = self._results()
        return None if results is None else RunInputsSerializer(results.inputs).data

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
        return None if results is None else ImprovementSerializer(results.improvements, many=True).data

    @extend_schema_field(
        ComparisonSerializer(
            allow_null=True, help_text="Changes since the site's previous succeeded run; null if there was none."
        )
    )
    def get_comparison(self, run: AnalysisRun) -> dict[str, Any] | None:
        results = self._results()
        if results is None or results.comparison is None:
            return None
        return ComparisonSerializer(results.comparison).data
