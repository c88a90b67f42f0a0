from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords


class AgeBand(models.TextChoices):
    """Age bands of the NHS England MHCYP survey, used for population and coverage."""

    AGE_0_4 = "0-4", "0 to 4"
    AGE_5_10 = "5-10", "5 to 10"
    AGE_11_16 = "11-16", "11 to 16"
    AGE_17_19 = "17-19", "17 to 19"
    AGE_20_25 = "20-25", "20 to 25"

    @classmethod
    def bounds(cls, band: "AgeBand | str") -> tuple[int, int]:
        low, high = str(band).split("-")
        return int(low), int(high)


class Site(models.Model):
    """A locality implementing THRIVE."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True, help_text="Used in web addresses.")
    region = models.CharField(max_length=80, help_text="NHS England region, for example London.")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SitePopulation(models.Model):
    """Number of children and young people living in a site, by age band."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="population")
    age_band = models.CharField(max_length=5, choices=AgeBand.choices)
    people = models.PositiveIntegerField()
    # Rises by one with every change; a save based on an older version is refused
    # (core.versioning) instead of silently overwriting someone else's change.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "age_band"], name="one_population_per_band"),
        ]
        ordering = ["site", "age_band"]

    def __str__(self) -> str:
        return f"{self.site}: {self.get_age_band_display()} ({self.people})"


class Role(models.TextChoices):
    COMMISSIONER = "commissioner", "Commissioner"
    VIEWER = "viewer", "Site viewer"


class Membership(models.Model):
    """A person's role in one site. A person can belong to several sites."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="one_membership_per_site"),
        ]
        ordering = ["site", "user"]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} of {self.site}"

    def clean(self) -> None:
        super().clean()
        user = getattr(self, "user", None)
        if self.role == Role.COMMISSIONER and user is not None and user.is_programme_reviewer:
            raise ValidationError(
                {
                    "role": f"{user} is a programme reviewer: they read every site and change none. "
                    "Make them a site viewer, or take away the programme reviewer flag first."
                }
            )
