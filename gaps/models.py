"""Inputs and results of the gap analysis.

A run is the source of truth for one analysis: its status, progress, who asked,
timings, the snapshot of inputs it used and, once it succeeded, its gaps and
improvement items, which never change afterwards. Decisions on improvement items
(accept, dismiss, owner, PDSA progress) belong to the site and are matched to a
run's items by key, so they carry over from run to run.
"""

import uuid
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from core.limits import PERCENT, PRINCIPLE_WEIGHT, SELF_REFERRAL_TARGET, WAIT_TARGET, NumberLimit
from mapping.groupings import ADVICE, HELP, MORE_HELP, RISK
from sites.models import AgeBand, Site


class PrevalenceFigure(models.Model):
    """Share of children and young people with a probable mental disorder, by age
    band, with the survey it comes from. Editable by staff in the admin."""

    age_band = models.CharField(max_length=5, choices=AgeBand.choices, unique=True)
    percent = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    survey = models.CharField(max_length=200)
    wave = models.CharField(max_length=60)
    measure = models.CharField(max_length=120)
    source_ages = models.CharField(max_length=60, help_text="The ages the published figure covers.")
    caveat = models.TextField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["age_band"]

    def __str__(self) -> str:
        return f"{self.get_age_band_display()}: {self.percent}% ({self.wave})"


DEFAULT_THRIVING_PERCENT = Decimal(80)
DEFAULT_NEED_SPLIT = {ADVICE: Decimal(50), HELP: Decimal(30), MORE_HELP: Decimal(15), RISK: Decimal(5)}
# The assumptions' need-split fields and the help grouping each one is for.
NEED_SPLIT_FIELDS = {
    "advice_percent": ADVICE,
    "help_percent": HELP,
    "more_help_percent": MORE_HELP,
    "risk_percent": RISK,
}
DEFAULT_MAX_WAIT_WEEKS = 18
# Half of advice and help capacity open to self-referral ("no wrong door").
DEFAULT_SELF_REFERRAL_PERCENT = 50
# Every assumption's project default, by field.
ASSUMPTION_DEFAULTS: dict[str, Decimal | int] = {
    "thriving_percent": DEFAULT_THRIVING_PERCENT,
    **{name: DEFAULT_NEED_SPLIT[code] for name, code in NEED_SPLIT_FIELDS.items()},
    "max_wait_weeks": DEFAULT_MAX_WAIT_WEEKS,
    "self_referral_percent": DEFAULT_SELF_REFERRAL_PERCENT,
}
# The limits on each assumption (core.limits), with messages that name it.
ASSUMPTION_LIMITS: dict[str, NumberLimit] = {
    "thriving_percent": replace(PERCENT, what="Thriving share"),
    "advice_percent": replace(PERCENT, what="Getting Advice and Signposting share"),
    "help_percent": replace(PERCENT, what="Getting Help share"),
    "more_help_percent": replace(PERCENT, what="Getting More Help share"),
    "risk_percent": replace(PERCENT, what="Getting Risk Support share"),
    "max_wait_weeks": WAIT_TARGET,
    "self_referral_percent": SELF_REFERRAL_TARGET,
}


def principle_weight_limit(label: str) -> NumberLimit:
    return replace(PRINCIPLE_WEIGHT, what=f"weight for {label}")


class SiteAssumptions(models.Model):
    """The site's local assumptions. Defaults are the project's, not published
    figures; every result shows the values it used."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="gap_assumptions")
    thriving_percent = models.DecimalField(
        "Thriving: share of all children and young people (%)",
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_THRIVING_PERCENT,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    advice_percent = models.DecimalField(
        "Getting Advice and Signposting (%)",
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_NEED_SPLIT[ADVICE],
    )
    help_percent = models.DecimalField(
        "Getting Help (%)", max_digits=5, decimal_places=2, default=DEFAULT_NEED_SPLIT[HELP]
    )
    more_help_percent = models.DecimalField(
        "Getting More Help (%)", max_digits=5, decimal_places=2, default=DEFAULT_NEED_SPLIT[MORE_HELP]
    )
    risk_percent = models.DecimalField(
        "Getting Risk Support (%)", max_digits=5, decimal_places=2, default=DEFAULT_NEED_SPLIT[RISK]
    )
    max_wait_weeks = models.PositiveSmallIntegerField(
        "Maximum wait target (weeks)",
        default=DEFAULT_MAX_WAIT_WEEKS,
        validators=[MaxValueValidator(int(WAIT_TARGET.maximum))],
    )
    self_referral_percent = models.PositiveSmallIntegerField(
        "Self-referral target (% of advice and help capacity)",
        default=DEFAULT_SELF_REFERRAL_PERCENT,
        validators=[MaxValueValidator(100)],
    )
    principle_weights = models.JSONField(
        default=dict, blank=True, help_text='Weight per principle code, e.g. {"accessibility": 1.5}; 1 when absent.'
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Rises by one with every change; a save based on an older version is refused
    # (core.versioning) instead of silently overwriting someone else's change.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "site assumptions"

    def __str__(self) -> str:
        return f"Assumptions for {self.site}"

    def need_split(self) -> dict[str, Decimal]:
        return {code: getattr(self, name) for name, code in NEED_SPLIT_FIELDS.items()}


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    PAGE = "page", "Site page"
    API = "api", "API"
    NIGHTLY = "nightly", "Nightly schedule"
    DEMO = "demo", "Demo data"


class AnalysisRun(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="analysis_runs")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    progress_message = models.CharField(max_length=200, blank=True)
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    inputs = models.JSONField(null=True, blank=True, help_text="Snapshot of everything the analysis used.")
    error = models.TextField(blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The run compared against.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["site", "status", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.site}: run of {self.created_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Gap(models.Model):
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="gaps")
    key = models.CharField(max_length=120)
    kind = models.CharField(max_length=30)
    grouping = models.CharField(max_length=40, blank=True)
    age_band = models.CharField(max_length=5, blank=True)
    principle = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    children_affected = models.PositiveIntegerField()
    numbers = models.JSONField(default=dict)
    sentence = models.TextField()
    data_quality = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="one_gap_per_key_per_run")]

    def __str__(self) -> str:
        return self.key


class Improvement(models.Model):
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="improvements")
    key = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    gap_keys = models.JSONField(default=list)
    principle = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField()
    children_affected = models.PositiveIntegerField()
    reach = models.DecimalField(max_digits=4, decimal_places=2)
    weight = models.DecimalField(max_digits=5, decimal_places=2)
    priority = models.DecimalField(max_digits=7, decimal_places=1)
    explanation = models.TextField()
    data_quality = models.BooleanField(default=False)
    rank = models.PositiveSmallIntegerField(help_text="Position by priority in this run, from 1.")

    class Meta:
        ordering = ["run", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="one_improvement_per_key_per_run")]

    def __str__(self) -> str:
        return self.title


class DecisionStatus(models.TextChoices):
    OPEN = "open", "Not yet decided"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class ImprovementDecision(models.Model):
    """What the site decided about an improvement, kept across runs by its key."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="improvement_decisions")
    key = models.CharField(max_length=120)
    status = models.CharField(max_length=20, choices=DecisionStatus.choices, default=DecisionStatus.OPEN)
    dismiss_reason = models.TextField(blank=True)
    manual_rank = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Position chosen by the site; empty to follow the priority."
    )
    owner = models.CharField(max_length=120, blank=True)
    due_on = models.DateField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Rises by one with every change; a save based on an older version is refused
    # (core.versioning) instead of silently overwriting someone else's change.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "key"], name="one_decision_per_improvement")]

    def __str__(self) -> str:
        return f"{self.site}: {self.key} ({self.status})"


class PdsaStage(models.TextChoices):
    PLAN = "plan", "Plan"
    DO = "do", "Do"
    STUDY = "study", "Study"
    ACT = "act", "Act"


class PdsaEntry(models.Model):
    """A step of a plan-do-study-act cycle recorded against an improvement."""

    decision = models.ForeignKey(ImprovementDecision, on_delete=models.CASCADE, related_name="pdsa_entries")
    stage = models.CharField(max_length=10, choices=PdsaStage.choices)
    note = models.TextField()
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["decision", "recorded_on", "created_at"]
        verbose_name_plural = "PDSA entries"

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.note[:40]}"
