"""`manage.py load_demo`: a realistic fictional locality with the gaps real sites report,
demo accounts that can sign in, and a second site kept apart from the first.

The demo is loaded once for the module inside a transaction that is rolled back at
the end (like TestCase.setUpTestData); each test runs in its own savepoint, so the
tests that load it again or reset it cannot leak into the others.
"""

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Sum
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import User
from demo.localities import LOCALITIES_DIR, LOCALITY_VALIDATOR
from demo.services import DEMO_PASSWORD
from gaps.models import RunStatus
from mapping.models import Grouping, Offer, Organisation, Sector, Service, ServiceStatus
from mapping.selectors import stale_cutoff
from sites.models import Membership, Role, Site, SitePopulation
from sites.selectors import sites_visible_to

pytestmark = pytest.mark.django_db

HELP_GROUPINGS = ("getting-help", "getting-more-help")


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", "--force", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo()
        transaction.set_rollback(True)


@pytest.fixture
def northbridge(demo: str, db: Any) -> Site:
    return Site.objects.get(slug="northbridge")


def services_of(site: Site) -> Any:
    return Service.objects.current().filter(site=site)


def test_demo_loads_at_least_sixty_northbridge_services_from_every_sector(northbridge: Site) -> None:
    services = services_of(northbridge)
    assert services.count() >= 60
    assert set(services.values_list("sector", flat=True)) == set(Sector.values)
    assert Organisation.objects.filter(site=northbridge).count() >= 20


def test_demo_maps_northbridge_services_to_all_five_groupings(northbridge: Site) -> None:
    mapped = set(Offer.objects.filter(service__site=northbridge).values_list("grouping__code", flat=True))
    assert mapped == set(Grouping.objects.values_list("code", flat=True))


def test_no_demo_service_gives_more_than_all_its_capacity(demo: str) -> None:
    totals = Service.objects.annotate(total=Sum("offers__capacity_share")).values_list("name", "total")
    assert all((total or 0) <= 100 for _, total in totals)
    assert Offer.objects.filter(description="").count() == 0


def test_demo_services_have_plausible_ages_capacity_and_waits(demo: str) -> None:
    for service in Service.objects.all():
        assert 0 <= service.min_age <= service.max_age <= 25, service.name
        assert service.annual_capacity is None or 10 <= service.annual_capacity <= 5000, service.name
        assert service.typical_wait_weeks is None or service.typical_wait_weeks <= 52, service.name
        assert service.delivery_settings.exists(), service.name


def capacity_in(site: Site, grouping_code: str) -> int:
    offers = Offer.objects.filter(service__site=site, grouping__code=grouping_code).select_related("service")
    return sum((o.service.annual_capacity or 0) * o.capacity_share // 100 for o in offers)


def test_northbridge_risk_support_is_thin_mostly_nhs_and_small(northbridge: Site) -> None:
    risk = Offer.objects.filter(service__site=northbridge, grouping__code="getting-risk-support")
    assert 2 <= risk.count() < 4
    assert risk.filter(service__sector=Sector.NHS).count() > risk.count() / 2
    assert capacity_in(northbridge, "getting-risk-support") * 10 < capacity_in(northbridge, "getting-help")


def test_few_northbridge_services_accept_self_referral(northbridge: Site) -> None:
    services = services_of(northbridge)
    self_referral = services.filter(referral_routes__code="self").count()
    assert 1 <= self_referral < 8
    assert self_referral * 8 < services.count()


def test_nothing_in_getting_help_or_more_help_reaches_twenty_to_twenty_five_in_northbridge(
    northbridge: Site,
) -> None:
    helping = services_of(northbridge).filter(offers__grouping__code__in=HELP_GROUPINGS).distinct()
    assert helping.exists()
    assert not helping.filter(max_age__gte=20).exists()
    # The band is missing from help, not from the whole locality.
    assert services_of(northbridge).filter(max_age__gte=20).exists()


def test_eastmere_does_offer_help_to_twenty_to_twenty_five_year_olds(demo: str) -> None:
    eastmere = Site.objects.get(slug="eastmere")
    helping = services_of(eastmere).filter(offers__grouping__code="getting-help", max_age__gte=20)
    assert helping.exists()


def test_northbridge_has_stale_unmapped_paused_and_planned_records(northbridge: Site) -> None:
    services = services_of(northbridge)
    assert services.filter(last_checked_on__lt=stale_cutoff()).count() >= 3
    assert services.filter(offers__isnull=True).count() == 2
    assert services.filter(status=ServiceStatus.PAUSED).count() == 1
    assert services.filter(status=ServiceStatus.PLANNED).count() == 1


def test_specialist_camhs_in_northbridge_has_a_long_wait(northbridge: Site) -> None:
    camhs = services_of(northbridge).get(name="Specialist CAMHS Community Team")
    assert camhs.typical_wait_weeks is not None and camhs.typical_wait_weeks >= 30


def test_both_sites_have_population_for_every_age_band_and_areas(demo: str) -> None:
    for slug in ("northbridge", "eastmere"):
        site = Site.objects.get(slug=slug)
        assert SitePopulation.objects.filter(site=site).count() == 5
        assert site.areas.count() >= 3
    assert 10 <= services_of(Site.objects.get(slug="eastmere")).count() <= 15


def test_demo_records_are_entered_as_demo_by_the_site_commissioner(northbridge: Site) -> None:
    service = services_of(northbridge).get(name="Specialist CAMHS Community Team")
    created = service.history.earliest("history_date")
    assert created.history_change_reason == "demo"
    assert created.history_user.username == "northbridge-commissioner"
    assert service.last_checked_by is not None and service.last_checked_by.username == "northbridge-commissioner"


@pytest.mark.parametrize(
    ("username", "site_slug", "role"),
    [
        ("northbridge-commissioner", "northbridge", Role.COMMISSIONER),
        ("northbridge-viewer", "northbridge", Role.VIEWER),
        ("eastmere-commissioner", "eastmere", Role.COMMISSIONER),
    ],
)
def test_site_accounts_belong_to_their_site_with_their_role(
    demo: str, username: str, site_slug: str, role: str
) -> None:
    user = User.objects.get(username=username)
    memberships = list(Membership.objects.filter(user=user).values_list("site__slug", "role"))
    assert memberships == [(site_slug, role)]
    assert list(sites_visible_to(user=user).values_list("slug", flat=True)) == [site_slug]


def test_programme_reviewer_and_admin_have_their_flags(demo: str) -> None:
    reviewer = User.objects.get(username="programme-reviewer")
    assert reviewer.is_programme_reviewer and not reviewer.is_staff and not reviewer.is_superuser
    assert not reviewer.memberships.exists()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    # Every demo site, whatever locality files are added.
    assert set(sites_visible_to(user=reviewer)) == set(Site.objects.all())
    assert Site.objects.count() >= 2


@pytest.mark.parametrize(
    "username",
    ["northbridge-commissioner", "northbridge-viewer", "eastmere-commissioner", "programme-reviewer", "admin"],
)
def test_every_demo_account_can_sign_in_with_the_demo_password(demo: str, username: str) -> None:
    assert len(DEMO_PASSWORD) >= 12
    client = Client()
    # Axes needs the request to count failed attempts, so client.login is given one.
    assert client.login(request=RequestFactory().post("/"), username=username, password=DEMO_PASSWORD)
    response = Client().post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_northbridge_commissioner_gets_an_api_token_printed(demo: str) -> None:
    token = Token.objects.get(user__username="northbridge-commissioner")
    assert token.key in demo
    assert "northbridge-commissioner" in demo and DEMO_PASSWORD in demo


def test_running_twice_changes_nothing(demo: str) -> None:
    counts = _counts()
    token = Token.objects.get().key
    output = load_demo()
    assert "already loaded" in output
    assert _counts() == counts
    assert Token.objects.get().key == token


def test_reset_reloads_the_demo_without_duplicates(demo: str) -> None:
    counts = _counts()
    service = Service.objects.get(site__slug="northbridge", name="Specialist CAMHS Community Team")
    service.name = "Renamed during a demonstration"
    service.save()
    output = load_demo("--reset")
    assert "reloaded" in output
    assert _counts() == counts
    assert Service.objects.filter(name="Specialist CAMHS Community Team").exists()
    assert not Service.objects.filter(name="Renamed during a demonstration").exists()
    assert not Service.history.exclude(site_id__in=Site.objects.values("pk")).exists()


def test_load_demo_refuses_to_run_with_debug_off_unless_forced(demo: str, settings: Any) -> None:
    settings.DEBUG = False
    counts = _counts()
    with pytest.raises(CommandError, match="published password"):
        call_command("load_demo", "--reset", stdout=StringIO())
    assert _counts() == counts


def _counts() -> dict[str, int]:
    return {
        "sites": Site.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "organisations": Organisation.objects.count(),
        "services": Service.objects.count(),
        "offers": Offer.objects.count(),
        "population": SitePopulation.objects.count(),
        "tokens": Token.objects.count(),
    }


def test_northbridge_ships_a_locked_baseline_and_a_submitted_follow_up(northbridge: Site) -> None:
    from assessment.models import Round, RoundStatus
    from assessment.selectors import rounds_compared

    rounds = list(Round.objects.filter(site=northbridge).order_by("sequence"))
    assert [(r.label, r.status) for r in rounds] == [
        ("Baseline", RoundStatus.LOCKED),
        ("Follow-up 1", RoundStatus.SUBMITTED),
    ]
    assert rounds[0].ratings.values("item").distinct().count() >= 3
    ((_, _, comparison),) = rounds_compared(site=northbridge)
    assert comparison.overall.direction == "improved"


def test_the_demo_gap_analysis_names_the_deliberate_gaps_first(northbridge: Site) -> None:
    from gaps.models import AnalysisRun, RunStatus

    run = AnalysisRun.objects.get(site=northbridge)
    assert run.status == RunStatus.SUCCEEDED
    top = list(run.improvements.order_by("rank").values_list("key", flat=True)[:7])
    assert "self-referral" in top
    assert "grow:getting-risk-support" in top
    assert {"ages:getting-help", "ages:getting-more-help"} <= set(top)
    assert run.gaps.filter(kind="stale", data_quality=True).exists()


LOCALITY_FILES = sorted(LOCALITIES_DIR.glob("*.json"))


@pytest.mark.parametrize("path", LOCALITY_FILES, ids=[path.name for path in LOCALITY_FILES])
def test_every_locality_file_validates_and_loads_as_written(demo: str, path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert not list(LOCALITY_VALIDATOR.iter_errors(data))
    site = Site.objects.get(slug=data["slug"])
    assert f"{data['name']} ({data['slug']}): created" in demo
    assert set(site.areas.values_list("name", flat=True)) == {area["name"] for area in data["areas"]}
    assert dict(SitePopulation.objects.filter(site=site).values_list("age_band", "people")) == data["population"]
    assert set(Organisation.objects.filter(site=site).values_list("name", flat=True)) == {
        organisation["name"] for organisation in data["organisations"]
    }
    assert sorted(services_of(site).values_list("name", flat=True)) == sorted(s["name"] for s in data["services"])
    assert Offer.objects.filter(service__site=site).count() == sum(len(s["offers"]) for s in data["services"])
    assert site.assessment_rounds.count() == len(data.get("assessment_rounds", []))
    assert site.analysis_runs.get().status == RunStatus.SUCCEEDED
    for account in data["accounts"]:
        assert Membership.objects.get(user__username=account["username"]).site == site
