"""What the API reads and writes for the THRIVE Assessment Tool: instrument versions,
a site's rounds, agreed scores, participants' ratings, results and comparisons.

Input serializers only parse and type the body; the rules (scores within the
instrument's scale, a figure only for a quantitative item, only draft rounds
change, a stale save) are checked in assessment.services. Items are named by their
code within the round's own version of the tool, rounds and ratings by public id.

Scores and the THRIVE-like threshold come from the instrument, so no serializer
hard-codes the 1 to 4 scale. Means are decimals serialised as strings ("3.50").

Choice fields name their schema component explicitly: "status" already means a
service's status in the schema, and a round's status must not be merged with it or
renamed by hash.
"""

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from core.limits import EVIDENCE, MEASURE, NOTES, PARTICIPANT, ROUND_DATE, measure_limit
from core.serializers import date_field, decimal_field, text_field

from .models import EvidenceType, Instrument, Item, Part, Principle, Rating, Round, RoundStatus
from .selectors import instrument_items

ITEM_NOT_IN_ROUND = "Choose an item of the version of the tool this round is scored on."


def _enum(choices: type[models.TextChoices]) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(choices.values),
        "description": "; ".join(f"`{value}`: {label}" for value, label in choices.choices),
    }


@extend_schema_field(_enum(RoundStatus), component_name="AssessmentRoundStatus")
class RoundStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RoundStatus.choices, **kwargs)


@extend_schema_field(_enum(EvidenceType), component_name="AssessmentEvidenceType")
class EvidenceTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=EvidenceType.choices, **kwargs)


class Direction(models.TextChoices):
    """The words of assessment.results.Change.direction."""

    IMPROVED = "improved", "The later score is higher"
    WORSE = "worse", "The later score is lower"
    NO_CHANGE = "no change", "The same score"
    NOT_COMPARABLE = "not comparable", "One of the two is not scored, or the item is new"


@extend_schema_field(_enum(Direction), component_name="AssessmentChangeDirection")
class DirectionField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Direction.choices, **kwargs)


def _mean_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True, **kwargs)


def _username_field(**kwargs: Any) -> serializers.SlugRelatedField[User]:
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True, **kwargs)


# Instruments


class ScoreLabelSerializer(serializers.Serializer[dict[str, Any]]):
    score = serializers.IntegerField()
    # The stubs type Field.label (a field's caption) on the serializer itself; a field
    # named "label" is what DRF declares here, so the ignores below are only for mypy.
    label = serializers.CharField()  # type: ignore[assignment]


class InstrumentScaleSerializer(serializers.Serializer[dict[str, Any]]):
    min = serializers.IntegerField(help_text="The lowest score.")
    max = serializers.IntegerField(help_text="The highest score.")
    labels = ScoreLabelSerializer(many=True, help_text="What each score means, lowest first.")


class InstrumentSerializer(serializers.ModelSerializer[Instrument]):
    threshold = serializers.IntegerField(read_only=True, help_text="A score at or above this is THRIVE-like.")
    scale = serializers.SerializerMethodField()
    item_count = serializers.IntegerField(read_only=True, help_text="How many items a round on this version scores.")

    class Meta:
        model = Instrument
        fields = ["version", "name", "is_draft", "note", "threshold", "scale", "item_count", "loaded_at"]
        read_only_fields = fields

    @extend_schema_field(InstrumentScaleSerializer)
    def get_scale(self, instrument: Instrument) -> dict[str, Any]:
        labels = instrument.scale_labels or {}
        return {
            "min": instrument.scale_min,
            "max": instrument.scale_max,
            "labels": [{"score": s, "label": str(labels.get(str(s), ""))} for s in instrument.scores],
        }


class InstrumentPartSerializer(serializers.ModelSerializer[Part]):
    class Meta:
        model = Part
        fields = ["code", "label", "short_label", "description"]


class InstrumentPrincipleSerializer(serializers.ModelSerializer[Principle]):
    class Meta:
        model = Principle
        fields = ["code", "label", "description"]


class ItemDescriptorSerializer(serializers.Serializer[dict[str, Any]]):
    score = serializers.IntegerField()
    descriptor = serializers.CharField(help_text="What practice scoring this looks like.")


class InstrumentItemSerializer(serializers.ModelSerializer[Item]):
    part = serializers.CharField(source="part.code", read_only=True, help_text="The part of the system's code.")
    principle = serializers.CharField(source="principle.code", read_only=True, help_text="The principle's code.")
    descriptors = serializers.SerializerMethodField()
    evidence_type = EvidenceTypeField(read_only=True)

    class Meta:
        model = Item
        fields = [
            "code",
            "part",
            "principle",
            "description",
            "descriptors",
            "evidence_type",
            "evidence_unit",
            "evidence_prompt",
        ]
        read_only_fields = fields

    @extend_schema_field(ItemDescriptorSerializer(many=True))
    def get_descriptors(self, item: Item) -> list[dict[str, Any]]:
        # instrument_load checks there is one descriptor per score of the scale.
        scores = sorted(int(score) for score in item.descriptors)
        return [{"score": score, "descriptor": item.descriptor(score)} for score in scores]


class InstrumentDetailSerializer(InstrumentSerializer):
    """A version with its parts, principles and items, each in the tool's order."""

    parts = InstrumentPartSerializer(many=True, read_only=True)
    principles = InstrumentPrincipleSerializer(many=True, read_only=True)
    items = serializers.SerializerMethodField()

    class Meta(InstrumentSerializer.Meta):
        fields = [*InstrumentSerializer.Meta.fields, "parts", "principles", "items"]
        read_only_fields = fields

    @extend_schema_field(InstrumentItemSerializer(many=True))
    def get_items(self, instrument: Instrument) -> list[dict[str, Any]]:
        return list(InstrumentItemSerializer(instrument_items(instrument=instrument), many=True).data)


# Rounds


class RoundProgressSerializer(serializers.Serializer[dict[str, Any]]):
    scored = serializers.IntegerField(help_text="Items with an agreed score.")
    total = serializers.IntegerField(help_text="Items in the round's version of the tool.")


class RoundSerializer(serializers.ModelSerializer[Round]):
    """A round as read through assessment.selectors.rounds_for_site (which counts its progress)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    label = serializers.CharField(  # type: ignore[assignment]
        read_only=True, help_text="Baseline, Follow-up 1, Follow-up 2..."
    )
    status = RoundStatusField(read_only=True)
    instrument: serializers.SlugRelatedField[Instrument] = serializers.SlugRelatedField(
        slug_field="version", read_only=True, help_text="The version of the tool the round is scored on."
    )
    progress = serializers.SerializerMethodField()
    created_by = _username_field()
    submitted_by = _username_field()
    locked_by = _username_field()

    class Meta:
        model = Round
        fields = [
            "id",
            "label",
            "sequence",
            "held_on",
            "status",
            "instrument",
            "progress",
            "notes",
            "created_by",
            "created_at",
            "submitted_by",
            "submitted_at",
            "locked_by",
            "locked_at",
            "version",
        ]
        read_only_fields = fields
        extra_kwargs = {"version": {"help_text": "Rises with every change; the ETag of the round."}}

    @extend_schema_field(RoundProgressSerializer)
    def get_progress(self, round_: Round) -> dict[str, int]:
        return {"scored": round_.scored, "total": round_.item_total}  # type: ignore[attr-defined]


class RoundCreateSerializer(serializers.Serializer[dict[str, Any]]):
    held_on = date_field(ROUND_DATE, help_text="The date of the round.")
    notes = text_field(NOTES, allow_blank=True, default="")
    instrument = serializers.SlugRelatedField(
        slug_field="version",
        queryset=Instrument.objects.all(),
        required=False,
        help_text="The version of the tool to score on (default: the newest loaded).",
        error_messages={"does_not_exist": "No version {slug_name}={value} of the tool is loaded."},
    )


class RoundUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    held_on = date_field(ROUND_DATE, required=False, help_text="The date of the round.")
    notes = text_field(NOTES, required=False, allow_blank=True)


# Agreed scores


class AgreedScoreSerializer(serializers.Serializer[dict[str, Any]]):
    """One item's agreed score in a round: what counts in the results."""

    item = serializers.CharField(help_text="The item's code.")
    part = serializers.CharField(help_text="The item's part of the system.")
    principle = serializers.CharField(help_text="The item's principle.")
    score = serializers.IntegerField(allow_null=True, help_text="Null while the item is not yet scored.")
    evidence_value = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    evidence_text = serializers.CharField(allow_blank=True)
    notes = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(
        help_text="Rises with every save; 0 for an item never saved. The ETag of the agreed score."
    )
    updated_by = serializers.CharField(allow_null=True, help_text="Username of whoever saved it last.")
    updated_at = serializers.DateTimeField(allow_null=True)


SCORE_INVALID = "The score must be a whole number on the tool's scale"
SCORE_MESSAGES: dict[str, Any] = {"invalid": SCORE_INVALID, "max_string_length": SCORE_INVALID}


def _measure_field(limit: Any = MEASURE) -> Any:
    return decimal_field(
        limit,
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        default=None,
        help_text="The measured figure, only for items whose evidence is quantitative: from 0, and at most 100 "
        "for a percentage.",
    )


class AgreedScoreInputSerializer(serializers.Serializer[dict[str, Any]]):
    """With the item in the context, its measure is held to the range of its unit."""

    score = serializers.IntegerField(
        allow_null=True,
        help_text="A score on the instrument's scale, or null for not yet scored.",
        error_messages=SCORE_MESSAGES,
    )
    evidence_value = _measure_field()
    evidence_text = text_field(EVIDENCE, allow_blank=True, default="")
    notes = text_field(NOTES, allow_blank=True, default="")
    version = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="The version of the agreed score you last read (0 if never saved), if not sent in If-Match. "
        "If someone has saved it since, the change is refused with 412 and their value.",
        error_messages={"min_value": "The version is 0 or more: send the version you last read"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        item: Item | None = self.context.get("item")
        if item is not None and item.evidence_type == EvidenceType.QUANTITATIVE:
            self.fields["evidence_value"] = _measure_field(measure_limit(item.evidence_unit))


# Ratings


class RatingSerializer(serializers.ModelSerializer[Rating]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    item = serializers.CharField(source="item.code", read_only=True, help_text="The item's code.")
    recorded_by = _username_field(help_text="Username of whoever entered the rating.")

    class Meta:
        model = Rating
        fields = ["id", "item", "participant", "score", "notes", "version", "recorded_by", "updated_at"]
        read_only_fields = fields
        extra_kwargs = {"version": {"help_text": "Rises with every change; the ETag of the rating."}}


class RatingCreateSerializer(serializers.Serializer[dict[str, Any]]):
    item = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Item.objects.none(),
        help_text="The code of an item of the round's version of the tool.",
        error_messages={"does_not_exist": ITEM_NOT_IN_ROUND},
    )
    participant = text_field(
        PARTICIPANT,
        help_text="Name or role of the person rating, at most one rating per person and item (names compared "
        "ignoring case).",
    )
    score = serializers.IntegerField(help_text="A score on the instrument's scale.", error_messages=SCORE_MESSAGES)
    notes = text_field(NOTES, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        round_: Round | None = self.context.get("round")
        if round_ is not None:
            self.fields["item"].queryset = instrument_items(instrument=round_.instrument)  # type: ignore[attr-defined]


class RatingUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    score = serializers.IntegerField(help_text="A score on the instrument's scale.", error_messages=SCORE_MESSAGES)
    notes = text_field(NOTES, allow_blank=True, required=False, help_text="Left as it is if not sent.")


class RatingListQuerySerializer(serializers.Serializer[dict[str, Any]]):
    item = serializers.SlugField(required=False, help_text="Only the ratings of the item with this code.")


# Refusals


class AssessmentRefusalSerializer(serializers.Serializer[dict[str, Any]]):
    non_field_errors = serializers.ListField(child=serializers.CharField(), help_text="Why it was refused.")


class AssessmentConflictSerializer(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField(help_text="Why it was refused, in words to show the user.")
    code = serializers.CharField(help_text="`locked` or `submitted`: the round cannot change.")


class RatingExistsSerializer(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField(help_text="Why it was refused, in words to show the user.")
    code = serializers.CharField(help_text="`exists`, or `locked` or `submitted` when the round cannot change.")
    current = RatingSerializer(required=False, help_text="With `exists`: the participant's rating as it now is.")
    url = serializers.URLField(
        required=False, help_text="With `exists`: the rating's URL, to change it with PUT or PATCH and If-Match."
    )


# Results


class AssessmentMeanSerializer(serializers.Serializer[dict[str, Any]]):
    mean = _mean_field(help_text="Mean of the scored items to 2 decimal places; null if none is scored.")
    scored = serializers.IntegerField()
    total = serializers.IntegerField()
    thrive_like = serializers.BooleanField(help_text="The mean is at or above the threshold.")


class AssessmentAxisMeanSerializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    mean = _mean_field(help_text="Mean of the scored items to 2 decimal places; null if none is scored.")
    scored = serializers.IntegerField()
    total = serializers.IntegerField()
    thrive_like = serializers.BooleanField(help_text="The mean is at or above the threshold.")


class AssessmentHeatmapCellSerializer(serializers.Serializer[dict[str, Any]]):
    principle = serializers.CharField()
    part = serializers.CharField()
    item = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)


class AssessmentBelowThresholdSerializer(AssessmentHeatmapCellSerializer):
    description = serializers.CharField()
    evidence = serializers.CharField(allow_blank=True, help_text="The figure with its unit, and the description.")


class RoundResultsSerializer(serializers.Serializer[dict[str, Any]]):
    threshold = serializers.IntegerField(help_text="A score or mean at or above this is THRIVE-like.")
    principles = AssessmentAxisMeanSerializer(many=True)
    parts = AssessmentAxisMeanSerializer(many=True)
    overall = AssessmentMeanSerializer()
    heatmap = AssessmentHeatmapCellSerializer(many=True, help_text="Every item, in the instrument's order.")
    below_threshold = AssessmentBelowThresholdSerializer(
        many=True, help_text="Scored items below the threshold, lowest first."
    )
    not_scored = serializers.ListField(child=serializers.CharField(), help_text="Codes of the items not yet scored.")


# Comparison


class RoundSummarySerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField()
    label = serializers.CharField()  # type: ignore[assignment]
    held_on = serializers.DateField()
    status = RoundStatusField()
    instrument = serializers.CharField(help_text="The version of the tool the round is scored on.")


class AssessmentMeanChangeSerializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    before = _mean_field()
    after = _mean_field()
    change = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    direction = DirectionField()


class AssessmentOverallChangeSerializer(serializers.Serializer[dict[str, Any]]):
    before = _mean_field()
    after = _mean_field()
    change = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    direction = DirectionField()


class AssessmentItemChangeSerializer(serializers.Serializer[dict[str, Any]]):
    item = serializers.CharField()
    principle = serializers.CharField()
    part = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    before = serializers.IntegerField(allow_null=True, help_text="Null if not scored, or not in the baseline.")
    after = serializers.IntegerField(allow_null=True)
    change = serializers.IntegerField(allow_null=True)
    direction = DirectionField()


class RoundComparisonSerializer(serializers.Serializer[dict[str, Any]]):
    round = RoundSummarySerializer()
    items = AssessmentItemChangeSerializer(many=True)
    principles = AssessmentMeanChangeSerializer(many=True)
    parts = AssessmentMeanChangeSerializer(many=True)
    overall = AssessmentOverallChangeSerializer()


class AssessmentComparisonSerializer(serializers.Serializer[dict[str, Any]]):
    baseline = RoundSummarySerializer(allow_null=True, help_text="Null until two rounds are submitted.")
    comparisons = RoundComparisonSerializer(many=True, help_text="The baseline against each later submitted round.")
