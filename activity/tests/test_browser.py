"""The activity feed and History pages in Debian's Chromium: a reader finds who changed
what from the site navigation, narrows the feed with the keyboard, and every page
passes axe-core with no serious or critical violations."""

import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from assessment.models import AgreedScore, Rating, RoundStatus
from gaps.models import DecisionStatus, ImprovementDecision, PdsaEntry, PdsaStage, SiteAssumptions
from mapping import services as mapping_services
from mapping.models import Grouping, ReferralRoute
from sites.models import AgeBand, Role, Site, SitePopulation
from tests.browser import screenshot, serious_accessibility_violations, sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

from .helpers import deleted, item, saved, started_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_week_of_changes(site: Site, commissioner: User, groupings: dict[str, Grouping]) -> dict[str, Any]:
    colleague = UserFactory(username="colleague", first_name="Sam", last_name="Jones")
    MembershipFactory(user=colleague, site=site, role=Role.COMMISSIONER)
    organisation = mapping_services.organisation_create(
        site=site, user=commissioner, source="page", name="Northbridge Youth Trust", sector="voluntary"
    )
    service = mapping_services.service_create(
        site=site,
        user=commissioner,
        source="page",
        data={
            "organisation": organisation,
            "name": "Peer Support Drop-in",
            "sector": "voluntary",
            "min_age": 11,
            "max_age": 18,
            "typical_wait_weeks": 2,
            "referral_routes": list(ReferralRoute.objects.filter(code__in=["self", "school"])),
        },
    )
    mapping_services.offer_set(
        service=service,
        grouping=groupings["getting-advice"],
        user=colleague,
        source="api",
        capacity_share=60,
        expected_version=None,
    )
    mapping_services.organisation_update(
        organisation=organisation,
        user=colleague,
        source="api",
        data={"website": "https://youth-trust.example.org"},
        expected_version=None,
    )
    round_ = started_round(site, commissioner)
    score = saved(AgreedScore(round=round_, item=item(round_, "system-accessibility"), score=2), commissioner)
    score.score, score.evidence_text = 3, "Drop-ins open after school in every area."
    saved(score, colleague, minutes_later=1)
    rating = saved(
        Rating(round=round_, item=item(round_, "system-accessibility"), participant="Youth panel", score=3),
        commissioner,
    )
    deleted(rating, colleague, minutes_later=2)
    round_.notes = "Workshop at the civic centre."
    saved(round_, commissioner, minutes_later=3)
    round_.status = RoundStatus.SUBMITTED
    saved(round_, colleague, minutes_later=4)
    for band in AgeBand:
        saved(SitePopulation(site=site, age_band=band.value, people=4200), commissioner)
    assumptions = saved(SiteAssumptions(site=site), commissioner)
    assumptions.max_wait_weeks = 12
    saved(assumptions, colleague, minutes_later=5)
    decision = saved(ImprovementDecision(site=site, key="grow:getting-help"), commissioner, minutes_later=6)
    decision.status, decision.owner = DecisionStatus.ACCEPTED, "Priya Shah"
    saved(decision, colleague, minutes_later=7)
    saved(
        PdsaEntry(
            decision=decision,
            stage=PdsaStage.PLAN,
            note="Pilot a Saturday drop-in",
            recorded_on=datetime.date(2026, 6, 1),
        ),
        colleague,
        minutes_later=8,
    )
    return {"service": service, "round": round_}


def test_a_viewer_reads_the_activity_and_the_history_pages_and_each_passes_axe(
    page: Page, live_server: Any, commissioner_a: User, viewer_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    records = a_week_of_changes(site_a, commissioner_a, groupings)
    sign_in(page, live_server.url, "viewer-a", PASSWORD)
    page.get_by_role("link", name="Northbridge").click()
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="PDSA step recorded: grow:getting-help")).to_be_visible()
    expect(page.get_by_text("Rating deleted: Youth panel's rating")).to_be_visible()
    screenshot(page, "activity-feed")
    problems = {"feed": serious_accessibility_violations(page)}

    # Narrow the feed with the keyboard alone.
    page.get_by_label("Kind of record").focus()
    page.get_by_label("Kind of record").select_option("round")
    page.get_by_label("Changed by").select_option(label="Sam Jones")
    page.get_by_role("button", name="Apply filters").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("1 change match your filters")
    expect(page.get_by_role("heading", name="Round submitted: Baseline")).to_be_visible()
    problems["feed filtered"] = serious_accessibility_violations(page)

    page.goto(f"{live_server.url}/sites/{site_a.slug}/activity/?kind=nothing")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose a kind of record from the list.")
    problems["feed with an error"] = serious_accessibility_violations(page)

    page.goto(f"{live_server.url}/sites/{site_a.slug}/services/{records['service'].public_id}/")
    page.get_by_role("link", name="See every change to this service and its mapping").click()
    expect(page.get_by_role("heading", name="History of Peer Support Drop-in")).to_be_visible()
    expect(page.get_by_text("Referral routes: School or college, Self-referral")).to_be_visible()
    screenshot(page, "activity-service-history")
    problems["service history"] = serious_accessibility_violations(page)

    page.goto(f"{live_server.url}/sites/{site_a.slug}/assessment/{records['round'].public_id}/")
    page.get_by_role("link", name="History of this round, its scores and ratings").click()
    expect(page.get_by_role("heading", name="Round submitted")).to_be_visible()
    screenshot(page, "activity-round-history")
    problems["round history"] = serious_accessibility_violations(page)

    for name in ("population", "assumptions", "areas"):
        page.goto(f"{live_server.url}/sites/{site_a.slug}/history/{name}/")
        problems[f"{name} history"] = serious_accessibility_violations(page)
    page.goto(f"{live_server.url}/sites/{site_a.slug}/history/improvements/grow:getting-help/")
    expect(page.get_by_role("heading", name="Improvement accepted")).to_be_visible()
    problems["decision history"] = serious_accessibility_violations(page)

    assert not {name: found for name, found in problems.items() if found}
