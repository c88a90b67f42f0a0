"""The THRIVE Assessment Tool as data, and the rounds a site scores with it.

An instrument (a versioned set of items: the three parts of the system × the eight
THRIVE principles) is loaded from a file, never written in code, so the official
wording can replace the project's draft without a release. Rounds keep the version
they were scored on.
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from sites.models import Site


class Instrument(models.Model):
    version = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=160)
    is_draft = models.BooleanField(default=False, help_text="Wording written by the project, not the official tool.")
    note = models.TextField(blank=True)
    scale_min = models.PositiveSmallIntegerField(default=1)
    scale_max = models.PositiveSmallIntegerField(default=4)
    threshold = models.PositiveSmallIntegerField(
        default=3, help_text="A score at or above this is THRIVE-like on that item."
    )
    scale_labels = models.JSONField(default=dict, help_text='Label of each score, e.g. {"1": "..."}.')
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-loaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"

    @property
    def scores(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))


class Part(models.Model):
    """A part of the system the tool considers separately (system, service, individual)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="parts")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    short_label = models.CharField(max_length=40)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["instrument", "order"]
        constraints = [models.UniqueConstraint(fields=["instrument", "code"], name="unique_part_code")]

    def __str__(self) -> str:
        return self.label


class Principle(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="principles")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["instrument", "order"]
        constraints = [models.UniqueConstraint(fields=["instrument", "code"], name="unique_principle_code")]

    def __str__(self) -> str:
        return self.label


class EvidenceType(models.TextChoices):
    QUANTITATIVE = "quantitative", "A measure"
    DESCRIPTION = "description", "A description"


class Item(models.Model):
    """One principle in one part of the system, with what THRIVE-like practice looks
    like and a descriptor for each score."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="items")
    principle = models.ForeignKey(Principle, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(max_length=90)
    description = models.TextField()
    descriptors = models.JSONField(help_text='What each score looks like, e.g. {"1": "...", "4": "..."}.')
    evidence_type = models.CharField(max_length=20, choices=EvidenceType.choices)
    evidence_unit = models.CharField(max_length=60, blank=True)
    evidence_prompt = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["instrument", "order"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="unique_item_code"),
            models.UniqueConstraint(fields=["instrument", "part", "principle"], name="one_item_per_part_principle"),
        ]

    def __str__(self) -> str:
        return f"{self.principle.label} – {self.part.short_label}"

    def descriptor(self, score: int) -> str:
        return str(self.descriptors.get(str(score), ""))


class RoundStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    LOCKED = "locked", "Locked"


class Round(models.Model):
    """One scoring of the tool by a site: the baseline (sequence 0) or a follow-up."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="assessment_rounds")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="rounds")
    sequence = models.PositiveSmallIntegerField(help_text="0 for the baseline, then 1, 2... for follow-ups.")
    held_on = models.DateField("date of the round")
    status = models.CharField(max_length=20, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Rises by one with every change; a save based on an older version is refused
    # (core.versioning) instead of silently overwriting someone else's change.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["site", "sequence"]
        constraints = [models.UniqueConstraint(fields=["site", "sequence"], name="one_round_per_sequence")]

    def __str__(self) -> str:
        return f"{self.site}: {self.label}"

    @property
    def label(self) -> str:
        return "Baseline" if self.sequence == 0 else f"Follow-up {self.sequence}"

    @property
    def is_editable(self) -> bool:
        return self.status == RoundStatus.DRAFT


class AgreedScore(models.Model):
    """The score the site settles on for one item in a round: the one that counts.

    `version` rises with every save so a save made from a stale page is refused
    instead of silently overwriting someone else's change.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="agreed_scores")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="agreed_scores")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    evidence_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    evidence_text = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["round", "item__order"]
        constraints = [models.UniqueConstraint(fields=["round", "item"], name="one_agreed_score_per_item")]

    def __str__(self) -> str:
        return f"{self.round}: {self.item} = {self.score}"


class Rating(models.Model):
    """One participant's own rating of an item, recorded to show the spread in the room."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="ratings")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="ratings")
    participant = models.CharField(max_length=80, help_text="Name or role of the person rating, as said in the room.")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["round", "item__order", "participant"]
        constraints = [
            models.UniqueConstraint(fields=["round", "item", "participant"], name="one_rating_per_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.participant}: {self.item} = {self.score}"
