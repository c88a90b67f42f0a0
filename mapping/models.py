import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from sites.models import Site

MAX_AGE = 25


class Sector(models.TextChoices):
    NHS = "nhs", "NHS"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    EDUCATION = "education", "Education"
    SOCIAL_CARE = "social_care", "Social care"
    VOLUNTARY = "voluntary", "Voluntary and community"
    PRIMARY_CARE = "primary_care", "Primary care"
    DIGITAL = "digital", "Digital"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    OTHER = "other", "Other"


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PLANNED = "planned", "Planned"
    PAUSED = "paused", "Paused"
    DECOMMISSIONED = "decommissioned", "Decommissioned"

    @classmethod
    def counted(cls) -> frozenset[str]:
        """The statuses whose services count towards a site's capacity and coverage:
        COUNTED_STATUSES."""
        return COUNTED_STATUSES


# The one rule for which services count, used by the site overview and the gap
# analysis alike (and stated on both pages in COUNTING_RULE's words): a planned or
# paused service is in the register but sees no one yet or now, so counting its
# capacity would hide a real gap. Archived services have left the register.
COUNTED_STATUSES: frozenset[str] = frozenset({ServiceStatus.ACTIVE.value})
COUNTING_RULE = (
    "Only active services are counted. Planned and paused services are listed in the register but are not "
    "counted until they are active, and decommissioned and archived services are not counted."
)


class Grouping(models.Model):
    """One of the five THRIVE needs-based groupings. Seeded by a migration.

    The code is stable; the label can follow local wording (some documents say
    "Coping" or "Getting Additional Help").
    """

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=80)
    short_label = models.CharField(max_length=30)
    order = models.PositiveSmallIntegerField(unique=True)
    description = models.TextField()

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.label


class DeliverySetting(models.Model):
    """Where a service is delivered (school, community, clinic, home, online...)."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=80)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label


class ReferralRoute(models.Model):
    """How a child or family reaches a service (self-referral, GP, school...)."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=80)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "label"]

    def __str__(self) -> str:
        return self.label


class Area(models.Model):
    """A part of a site (district, ward cluster) that services can serve."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="areas")
    name = models.CharField(max_length=80)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="unique_area_name_per_site")]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    """A provider of services in a site's register."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="organisations")
    name = models.CharField(max_length=160)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    website = models.URLField(blank=True)
    # Rises by one with every change; a save based on an older version is refused
    # (core.versioning) instead of silently overwriting someone else's change.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "site",
                Lower("name"),
                name="unique_organisation_name_per_site",
                violation_error_message="This site already has an organisation with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceQuerySet(models.QuerySet["Service"]):
    def current(self) -> "ServiceQuerySet":
        """Services that have not been archived."""
        return self.filter(archived_at__isnull=True)


class Service(models.Model):
    """A local service for children and young people's mental health."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="services")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    delivery_settings = models.ManyToManyField(DeliverySetting, blank=True, related_name="services")
    min_age = models.PositiveSmallIntegerField(
        "minimum age", validators=[MaxValueValidator(MAX_AGE)], help_text="In years, 0 to 25."
    )
    max_age = models.PositiveSmallIntegerField(
        "maximum age", validators=[MaxValueValidator(MAX_AGE)], help_text="In years, 0 to 25."
    )
    referral_routes = models.ManyToManyField(ReferralRoute, blank=True, related_name="services")
    annual_capacity = models.PositiveIntegerField(
        "annual capacity", null=True, blank=True, help_text="Children and young people seen in a year."
    )
    typical_wait_weeks = models.PositiveSmallIntegerField(
        "typical wait (weeks)", null=True, blank=True, validators=[MaxValueValidator(260)]
    )
    areas = models.ManyToManyField(Area, blank=True, related_name="services")
    status = models.CharField(max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE)
    website = models.URLField(blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    last_checked_on = models.DateField("last checked", null=True, blank=True)
    last_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # Rises by one with every change; a save based on an older version is refused
    # (core.versioning) instead of silently overwriting someone else's change.
    version = models.PositiveIntegerField(default=1, editable=False)
    # The version of the service's mapping as a whole (its offers), which changes
    # apart from the record: a new offer version is taken from it, so an offer's
    # version never repeats, even after the offer is removed and made again.
    mapping_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[delivery_settings, referral_routes, areas])

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_age__lte=models.F("max_age")),
                name="service_min_age_not_above_max",
                violation_error_message="Maximum age must be the same as or more than the minimum age",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "archived_at", "name"]),
            models.Index(fields=["site", "last_checked_on"]),
        ]

    def __str__(self) -> str:
        return self.name


class Offer(models.Model):
    """What a service offers in one THRIVE grouping, and the share of its capacity."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="offers")
    grouping = models.ForeignKey(Grouping, on_delete=models.PROTECT, related_name="offers")
    description = models.CharField(max_length=500, blank=True)
    capacity_share = models.PositiveSmallIntegerField(
        "share of capacity (%)", validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    # Taken from the service's mapping_version when the offer is written.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["grouping__order"]
        constraints = [
            models.UniqueConstraint(fields=["service", "grouping"], name="one_offer_per_grouping"),
            models.CheckConstraint(condition=models.Q(capacity_share__lte=100), name="offer_share_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.service} – {self.grouping}"
