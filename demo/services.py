"""Loading the demo: accounts, then each locality of `demo/localities/` written
through the apps' services (so the demo has the same history and rules as data
entered in the pages), its assessment rounds, and a finished gap analysis run.

The data is in the files; this module only loads it. To give the format a new field,
add it to `demo/schema.json`: a service's fields reach mapping.services.service_create
under their own names, except the ones `_service_data` resolves; anything else (an
area's or the site's) gets its line where that record is written below.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from assessment.management.commands.load_instrument import load_default_instrument
from assessment.models import Item, RoundStatus
from assessment.services import (
    AgreedScoreInput,
    agreed_score_save,
    rating_save,
    round_create,
    round_lock,
    round_submit,
)
from gaps.models import AnalysisRun, RunTrigger
from gaps.services import run_execute
from mapping import services as mapping_services
from mapping.models import Area, DeliverySetting, Grouping, Offer, Organisation, ReferralRoute, Service
from sites.models import Membership, Role, Site
from sites.services import population_set

from .localities import DataFile, demo_data_read

# Published with the demo and printed by the command: it only ever guards made-up data,
# which is why load_demo refuses to run with DEBUG off unless told it is a demo server.
DEMO_PASSWORD = "thrive-demo-2026"  # noqa: S105

# The fields of a service in a locality file that the loader handles itself (a comment,
# names and codes it turns into records, a relative date); every other field goes to
# mapping.services.service_create as it is.
RESOLVED_SERVICE_FIELDS = frozenset(
    {"comment", "organisation", "delivery_settings", "referral_routes", "areas", "last_checked_days_ago", "offers"}
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    # What the command prints as the account's role.
    description: str
    memberships: tuple[tuple[str, str], ...] = ()
    is_programme_reviewer: bool = False
    is_superuser: bool = False


@dataclass
class SiteResult:
    site: Site
    action: str
    organisations: int = 0
    services: int = 0
    offers: int = 0


@dataclass
class DemoResult:
    sites: list[SiteResult] = field(default_factory=list)
    accounts: list[tuple[DemoAccount, User]] = field(default_factory=list)
    token_for: str = ""
    token: str = ""


def demo_load(*, reset: bool = False, localities_dir: Path | None = None) -> DemoResult:
    """Create the demo accounts and sites. A demo site that already exists is left as
    it is (people may have edited it during a demonstration) unless `reset` is set,
    in which case it is deleted and loaded again. Accounts are always brought back to
    their demo roles and password, so running this twice changes nothing.

    Raises DemoDataError, having written nothing, when a data file is wrong."""
    demo = demo_data_read(localities_dir=localities_dir)
    accounts = _accounts(demo.localities, demo.accounts)
    with transaction.atomic():
        result = DemoResult(token_for=demo.accounts.data["api_token_for"])
        users = {account.username: _account_ensure(account) for account in accounts}
        for locality in demo.localities:
            existing = Site.objects.filter(slug=locality.data["slug"]).first()
            if existing is not None and not reset:
                result.sites.append(SiteResult(site=existing, action="already loaded, left as it is"))
                continue
            if existing is not None:
                _site_delete(existing)
            recorded_by = users[locality.data["recorded_by"]]
            result.sites.append(
                _site_load(locality, recorded_by=recorded_by, action="reloaded" if existing else "created")
            )
        for account in accounts:
            _memberships_ensure(account, users[account.username])
            result.accounts.append((account, users[account.username]))
        token, _ = Token.objects.get_or_create(user=users[result.token_for])
        result.token = token.key
    return result


def _accounts(localities: tuple[DataFile, ...], site_less: DataFile) -> list[DemoAccount]:
    """Each locality's own accounts, in file order, then the accounts of no site."""
    accounts = [
        DemoAccount(
            username=account["username"],
            first_name=account["first_name"],
            last_name=account["last_name"],
            description=f"{Role(account['role']).label} of {locality.data['name']}",
            memberships=((locality.data["slug"], account["role"]),),
        )
        for locality in localities
        for account in locality.data["accounts"]
    ]
    accounts += [
        DemoAccount(
            username=account["username"],
            first_name=account["first_name"],
            last_name=account["last_name"],
            description=account["description"],
            is_programme_reviewer=account.get("is_programme_reviewer", False),
            is_superuser=account.get("is_superuser", False),
        )
        for account in site_less.data["accounts"]
    ]
    return accounts


def _account_ensure(account: DemoAccount) -> User:
    user = User.objects.filter(username=account.username).first() or User(username=account.username)
    user.first_name = account.first_name
    user.last_name = account.last_name
    user.email = f"{account.username}@example.org"
    user.is_active = True
    user.is_programme_reviewer = account.is_programme_reviewer
    user.is_superuser = account.is_superuser
    user.is_staff = account.is_superuser
    # The demo password must pass the same rules as a real one (12 characters or more).
    validate_password(DEMO_PASSWORD, user)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def _memberships_ensure(account: DemoAccount, user: User) -> None:
    wanted = dict(account.memberships)
    Membership.objects.filter(user=user).exclude(site__slug__in=wanted).delete()
    for slug, role in wanted.items():
        site = Site.objects.get(slug=slug)
        Membership.objects.update_or_create(user=user, site=site, defaults={"role": role})


def _site_delete(site: Site) -> None:
    """Delete a demo site with its register and the register's history.

    Services go first because a service protects its organisation from deletion.
    """
    service_ids = list(Service.objects.filter(site=site).values_list("pk", flat=True))
    Service.objects.filter(pk__in=service_ids).delete()
    site_id = site.pk
    site.delete()
    Service.history.filter(site_id=site_id).delete()
    Offer.history.filter(service_id__in=service_ids).delete()
    Organisation.history.filter(site_id=site_id).delete()


def _site_load(locality: DataFile, *, recorded_by: User, action: str) -> SiteResult:
    data = locality.data
    site = Site.objects.create(name=data["name"], slug=data["slug"], region=data["region"])
    with locality.at("population"):
        population_set(site=site, user=recorded_by, people=data["population"], source="demo", expected_version=None)
    areas = {area["name"]: Area.objects.create(site=site, name=area["name"]) for area in data["areas"]}
    organisations = {}
    for index, organisation in enumerate(data["organisations"]):
        with locality.at(f"organisations[{index}]", organisation["name"]):
            organisations[organisation["name"]] = mapping_services.organisation_create(
                site=site,
                user=recorded_by,
                source="demo",
                name=organisation["name"],
                sector=organisation["sector"],
                website=organisation.get("website", ""),
            )
    references = _References()
    today = timezone.localdate()
    offers = 0
    for index, raw in enumerate(data["services"]):
        place = f"services[{index}]"
        with locality.at(place, raw["name"]):
            service = mapping_services.service_create(
                site=site,
                user=recorded_by,
                source="demo",
                data=_service_data(
                    raw, index=index, today=today, organisations=organisations, areas=areas, references=references
                ),
            )
        if raw["offers"]:
            with locality.at(f"{place}.offers", raw["name"]):
                groupings = references.pick("grouping", references.groupings, [o["grouping"] for o in raw["offers"]])
                mapping_services.offers_replace(
                    service=service,
                    offers=[
                        mapping_services.OfferInput(grouping, offer["capacity_share"], offer["description"])
                        for grouping, offer in zip(groupings, raw["offers"], strict=True)
                    ],
                    user=recorded_by,
                    source="demo",
                )
            offers += len(raw["offers"])
    _rounds_load(locality, site=site, user=recorded_by)
    # Last, so the analysis sees the register and the assessment.
    _run_load(site=site, user=recorded_by)
    return SiteResult(
        site=site,
        action=action,
        organisations=len(organisations),
        services=len(data["services"]),
        offers=offers,
    )


class _References:
    """The shared reference lists, by code, read once per locality."""

    def __init__(self) -> None:
        self.delivery_settings = {s.code: s for s in DeliverySetting.objects.all()}
        self.referral_routes = {r.code: r for r in ReferralRoute.objects.all()}
        self.groupings = {g.code: g for g in Grouping.objects.all()}

    @staticmethod
    def pick(field: str, known: dict[str, Any], codes: list[str]) -> list[Any]:
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise ValidationError(
                {field: f"{', '.join(map(repr, unknown))}: not known here. Use one of: {', '.join(known)}."}
            )
        return [known[code] for code in codes]


def _service_data(
    raw: dict[str, Any],
    *,
    index: int,
    today: date,
    organisations: dict[str, Organisation],
    areas: dict[str, Area],
    references: _References,
) -> dict[str, Any]:
    data = {name: value for name, value in raw.items() if name not in RESOLVED_SERVICE_FIELDS}
    days_ago = raw.get("last_checked_days_ago")
    if days_ago is None:
        days_ago = 7 + (index * 37) % 300
    data.update(
        organisation=organisations[raw["organisation"]],
        delivery_settings=references.pick("delivery_settings", references.delivery_settings, raw["delivery_settings"]),
        referral_routes=references.pick("referral_routes", references.referral_routes, raw["referral_routes"]),
        areas=[areas[name] for name in raw["areas"]] if "areas" in raw else list(areas.values()),
        last_checked_on=today - timedelta(days=days_ago),
    )
    return data


def _rounds_load(locality: DataFile, *, site: Site, user: User) -> None:
    """Each round as a room would score it: participants' ratings, the agreed scores,
    then submitted and locked as the file says."""
    rounds = locality.data.get("assessment_rounds", [])
    if not rounds:
        return
    instrument = load_default_instrument()
    items = {item.code: item for item in Item.objects.filter(instrument=instrument)}

    def item(code: str) -> Item:
        if code not in items:
            raise ValidationError(f"{code!r} is not an item of the THRIVE Assessment Tool {instrument.version}.")
        return items[code]

    for index, raw in enumerate(rounds):
        place = f"assessment_rounds[{index}]"
        with locality.at(place):
            round_ = round_create(
                site=site,
                user=user,
                held_on=date.fromisoformat(raw["held_on"]),
                instrument=instrument,
                source="demo",
            )
        for code, ratings in raw.get("ratings", {}).items():
            for number, rating in enumerate(ratings):
                with locality.at(f"{place}.ratings.{code}[{number}]"):
                    rating_save(
                        round_=round_,
                        item=item(code),
                        user=user,
                        participant=rating["participant"],
                        score=rating["score"],
                        source="demo",
                        seen=None,
                    )
        for code, score in raw["scores"].items():
            value = score.get("evidence_value")
            with locality.at(f"{place}.scores.{code}"):
                agreed_score_save(
                    round_=round_,
                    item=item(code),
                    user=user,
                    data=AgreedScoreInput(
                        score=score["score"],
                        evidence_value=Decimal(str(value)) if value is not None else None,
                        evidence_text=score.get("evidence_text", ""),
                    ),
                    expected_version=None,
                    source="demo",
                )
        with locality.at(place):
            if raw["status"] in (RoundStatus.SUBMITTED, RoundStatus.LOCKED):
                round_submit(round_=round_, user=user, source="demo", expected_version=None)
            if raw["status"] == RoundStatus.LOCKED:
                round_lock(round_=round_, user=user, source="demo", expected_version=None)


def _run_load(*, site: Site, user: User) -> AnalysisRun:
    """A finished gap analysis, run in-process, so the gap pages have results at first look."""
    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.DEMO, requested_by=user)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run
