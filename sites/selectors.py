"""The one way into a site's data: every view, form and API endpoint asks here.

A site the user may not see does not exist for them (404), so no response ever
confirms that another site's object exists.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User

from .models import AgeBand, Membership, Role, Site, SitePopulation


def _reads_every_site(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or getattr(user, "is_programme_reviewer", False)))


def sites_visible_to(*, user: User | AnonymousUser) -> QuerySet[Site]:
    if not user.is_authenticated:
        return Site.objects.none()
    if _reads_every_site(user):
        return Site.objects.all()
    return Site.objects.filter(memberships__user=user).distinct()


def site_get_for_user(*, user: User | AnonymousUser, slug: str) -> Site:
    """The site with this slug if the user may see it, else Http404."""
    try:
        return sites_visible_to(user=user).get(slug=slug)
    except Site.DoesNotExist:
        raise Http404("No such site") from None


def user_can_edit_site(*, user: User | AnonymousUser, site: Site) -> bool:
    """Commissioners of the site (and superusers) change it. A programme reviewer reads
    every site and changes none, whatever memberships they were also given."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if getattr(user, "is_programme_reviewer", False):
        return False
    return Membership.objects.filter(user=user, site=site, role=Role.COMMISSIONER).exists()


def user_role_label(*, user: User | AnonymousUser, site: Site) -> str:
    """How the user relates to the site, for the page header."""
    if not user.is_authenticated:
        return ""
    if getattr(user, "is_programme_reviewer", False) and not user.is_superuser:
        return "Programme reviewer"
    membership = Membership.objects.filter(user=user, site=site).first()
    if membership is not None:
        return membership.get_role_display()
    if user.is_superuser:
        return "Administrator"
    return ""


@dataclass(frozen=True)
class Population:
    """Children and young people living in a site by age band (0 for a band not set).

    The five bands are one resource, set all at once: its version is the highest
    band version, 0 while no band is set."""

    people: dict[str, int]
    version: int

    @property
    def is_set(self) -> bool:
        return any(self.people.values())


def population_from_rows(rows: "list[SitePopulation]") -> Population:
    by_band = {row.age_band: row.people for row in rows}
    return Population(
        people={band.value: by_band.get(band.value, 0) for band in AgeBand},
        version=max((row.version for row in rows), default=0),
    )


def population_get(*, site: Site) -> Population:
    return population_from_rows(list(SitePopulation.objects.filter(site=site)))
