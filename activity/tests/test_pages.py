"""The site's activity feed and each record's History page, for every persona: who
changed what, when, through which door, and each field before and after."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from assessment.models import AgreedScore, Rating, Round, RoundStatus
from gaps import services as gap_services
from gaps.models import (
    AnalysisRun,
    DecisionStatus,
    ImprovementDecision,
    PdsaEntry,
    PdsaStage,
    RunTrigger,
    SiteAssumptions,
)
from gaps.results import run_results
from mapping import services as mapping_services
from mapping.models import Area, Grouping, Organisation, ReferralRoute, Service
from sites.models import AgeBand, Membership, Role, Site, SitePopulation
from tests.api import send
from tests.factories import OfferFactory, OrganisationFactory, ServiceFactory
from tests.pages import form_data

from .helpers import deleted, item, made_today, saved, started_round, today_in_words, visible_text

pytestmark = pytest.mark.django_db

PRINCIPLE_CODES = {1: "common-language", 2: "needs-led", 3: "accessibility"}


def feed_url(site: Site, query: str = "") -> str:
    return reverse("activity:site-activity", kwargs={"site_slug": site.slug}) + query


def history_url(site: Site, name: str, **kwargs: Any) -> str:
    return reverse(f"activity:{name}", kwargs={"site_slug": site.slug, **kwargs})


def entry_count(html: str) -> int:
    return html.count('class="app-activity__entry')


def registered_service(site: Site, user: User, name: str = "Peer Support Drop-in") -> Service:
    organisation = mapping_services.organisation_create(
        site=site, user=user, source="page", name=f"{name} provider", sector="voluntary"
    )
    return mapping_services.service_create(
        site=site,
        user=user,
        source="page",
        data={
            "organisation": organisation,
            "name": name,
            "sector": "voluntary",
            "min_age": 11,
            "max_age": 18,
            "typical_wait_weeks": 4,
            "referral_routes": list(ReferralRoute.objects.filter(code="self")),
        },
    )


# Who, when, how, before and after ----------------------------------------------------


def test_a_change_through_a_page_shows_who_when_how_and_before_and_after(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    organisation = OrganisationFactory(site=site_a, name="Bridge Trust", website="")
    client = client_for(commissioner_a)
    edit = reverse("mapping:organisation-edit", kwargs={"site_slug": site_a.slug, "public_id": organisation.public_id})
    form = form_data(client.get(edit).content)
    form["name"] = "Bridgeway Trust"
    form["website"] = "https://bridgeway.example.org"
    assert client.post(edit, form).status_code == 302

    page = visible_text(client.get(feed_url(site_a)).content)
    assert "Organisation changed: Bridgeway Trust" in page
    assert made_today(page, by=commissioner_a.get_full_name(), through="the website")
    assert "Name: Bridge Trust → Bridgeway Trust" in page
    assert "Website: (empty) → https://bridgeway.example.org" in page
    assert "Version" not in page and "Updated at" not in page


def test_a_change_through_the_api_shows_who_when_how_and_before_and_after(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    service = ServiceFactory(site=site_a, name="Kooth-style counselling", typical_wait_weeks=4)
    api = APIClient()
    api.force_login(commissioner_a)
    url = reverse("api-service-detail", kwargs={"site_slug": site_a.slug, "public_id": service.public_id})
    assert send(api, "patch", url, {"typical_wait_weeks": 9, "delivery_settings": ["online"]}).status_code == 200

    page = visible_text(client_for(commissioner_a).get(feed_url(site_a)).content)
    assert "Service changed: Kooth-style counselling" in page
    assert made_today(page, by=commissioner_a.get_full_name(), through="the API")
    assert "Typical wait (weeks): 4 → 9" in page
    assert "Delivery settings: (empty) → Online" in page
    # The record and its settings are saved as two rows: one entry.
    assert page.count("Service changed") == 1

    entry = api.get(reverse("api-activity", kwargs={"site_slug": site_a.slug})).json()["results"][0]
    assert entry["headline"] == "Service changed"
    assert entry["who"] == commissioner_a.get_full_name()
    assert entry["via"] == "api"
    assert {"field": "Typical wait (weeks)", "before": "4", "after": "9"} in entry["changes"]
    assert entry["url"] == reverse(
        "mapping:service-detail", kwargs={"site_slug": site_a.slug, "public_id": service.public_id}
    )


def test_a_deleted_rating_leaves_a_trace_with_who_deleted_it(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, viewer_a: User
) -> None:
    round_ = started_round(site_a, commissioner_a)
    rating = saved(
        Rating(round=round_, item=item(round_, "system-accessibility"), participant="Dr Lee", score=3, version=1),
        commissioner_a,
    )
    deleted(rating, colleague, minutes_later=1)

    html = client_for(viewer_a).get(history_url(site_a, "round-history", public_id=round_.public_id)).content.decode()
    page = visible_text(html)
    assert "Rating deleted: <a" not in html  # nothing left to link to
    assert "Rating deleted: Dr Lee's rating of Accessibility – System, Baseline" in page
    assert "by Sam Jones · through the website" in page
    assert "Participant: Dr Lee" in page and "Score: 3" in page
    assert "Rating recorded: Dr Lee's rating" in page
    assert not Rating.objects.exists()


def test_a_round_reads_as_started_submitted_reopened_and_locked_with_its_scores(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site
) -> None:
    round_ = started_round(site_a, commissioner_a)
    score = saved(AgreedScore(round=round_, item=item(round_, "service-needs-led"), score=2, version=1), commissioner_a)
    score.score, score.evidence_text, score.version = 3, "Goals set with every family.", 2
    saved(score, colleague, "api", minutes_later=1)
    for minutes, status in enumerate(
        (RoundStatus.SUBMITTED, RoundStatus.DRAFT, RoundStatus.SUBMITTED, RoundStatus.LOCKED), 2
    ):
        round_.status = status
        saved(round_, colleague, minutes_later=minutes)

    client = client_for(commissioner_a)
    round_page = client.get(
        reverse("assessment:round-detail", kwargs={"site_slug": site_a.slug, "public_id": round_.public_id})
    )
    url = history_url(site_a, "round-history", public_id=round_.public_id)
    assert url in round_page.content.decode()
    page = visible_text(client.get(url).content)
    order = [
        "Round locked",
        "Round submitted",
        "Round reopened",
        "Round submitted",
        "Agreed score changed",
        "Agreed score recorded",
        "Round started",
    ]
    positions = []
    start = 0
    for headline in order:
        start = page.index(headline, start)
        positions.append(start)
    assert positions == sorted(positions)
    assert "Status: Submitted → Locked" in page
    assert "Agreed score changed: Needs-Led – Services, Baseline" in page
    assert "Agreed score: 2 → 3" in page
    assert "Evidence: (empty) → Goals set with every family." in page
    assert "through the API" in page


def test_an_offer_removed_from_a_grouping_shows_who_unmapped_it(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    service = registered_service(site_a, commissioner_a)
    mapping_services.offer_set(
        service=service,
        grouping=groupings["getting-help"],
        user=commissioner_a,
        source="page",
        capacity_share=70,
        expected_version=None,
    )
    mapping_services.offer_remove(
        service=service,
        grouping=groupings["getting-help"],
        user=colleague,
        source="api",
        expected_version=None,
    )

    page = visible_text(
        client_for(commissioner_a).get(history_url(site_a, "service-history", public_id=service.public_id)).content
    )
    assert "Removed from Getting Help" in page
    assert "by Sam Jones · through the API" in page
    assert "Mapped to Getting Help" in page
    assert "Share of capacity: 70%" in page


def test_a_service_reads_as_registered_archived_and_restored(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site
) -> None:
    service = registered_service(site_a, commissioner_a)
    mapping_services.service_archive(service=service, user=colleague, source="page", expected_version=None)
    mapping_services.service_restore(
        service=service,
        user=commissioner_a,
        source="api",
        expected_version=None,
    )

    page = visible_text(
        client_for(commissioner_a).get(history_url(site_a, "service-history", public_id=service.public_id)).content
    )
    assert page.index("Service restored") < page.index("Service archived") < page.index("Service registered")
    assert "Referral routes: Self-referral" in page
    assert "Archived at" not in page


def test_the_population_saved_at_once_is_one_entry_naming_each_age_band(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, viewer_a: User
) -> None:
    bands = {
        band.value: saved(SitePopulation(site=site_a, age_band=band.value, people=1000), commissioner_a)
        for band in AgeBand
    }
    for minutes_later, band in ((1, "0-4"), (1, "5-10")):
        bands[band].people = 1250
        saved(bands[band], colleague, minutes_later=minutes_later)

    client = client_for(viewer_a)
    assumptions_page = client.get(reverse("gaps:assumptions", kwargs={"site_slug": site_a.slug})).content.decode()
    assert history_url(site_a, "population-history") in assumptions_page
    page = visible_text(client.get(history_url(site_a, "population-history")).content)
    assert entry_count(client.get(history_url(site_a, "population-history")).content.decode()) == 2
    assert "Population changed" in page and "Population recorded" in page
    assert "Aged 0 to 4: 1,000 → 1,250" in page
    assert "Aged 5 to 10: 1,000 → 1,250" in page
    assert "Aged 11 to 16: 1,000" in page


def test_assumptions_and_a_decision_with_its_pdsa_steps_read_in_words(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site
) -> None:
    assumptions = saved(SiteAssumptions(site=site_a), commissioner_a)
    assumptions.max_wait_weeks, assumptions.principle_weights = 12, {"accessibility": 1.5}
    saved(assumptions, colleague, minutes_later=1)
    decision = saved(ImprovementDecision(site=site_a, key="grow:getting-help"), commissioner_a)
    decision.status, decision.owner, decision.due_on = DecisionStatus.ACCEPTED, "Priya", datetime.date(2026, 9, 30)
    saved(decision, colleague, minutes_later=2)
    decision.status, decision.dismiss_reason = DecisionStatus.DISMISSED, "Covered by the new hub."
    saved(decision, commissioner_a, "api", minutes_later=5)
    step = saved(
        PdsaEntry(
            decision=decision, stage=PdsaStage.PLAN, note="Pilot drop-ins", recorded_on=datetime.date(2026, 6, 1)
        ),
        colleague,
        minutes_later=3,
    )
    deleted(step, commissioner_a, minutes_later=4)

    client = client_for(commissioner_a)
    assumptions_page = visible_text(client.get(history_url(site_a, "assumptions-history")).content)
    assert "Maximum wait target (weeks): 18 → 12" in assumptions_page
    assert "Principle weights: Every principle weighs 1 → Accessibility 1.5" in assumptions_page
    decision_page = visible_text(client.get(history_url(site_a, "decision-history", key="grow:getting-help")).content)
    assert "Improvement accepted" in decision_page
    assert "Decision: Not yet decided → Accepted" in decision_page
    assert "Due date: (empty) → 30 September 2026" in decision_page
    assert "PDSA step deleted" in decision_page
    assert "Improvement dismissed" in decision_page
    assert "Decision: Accepted → Dismissed" in decision_page
    assert "Reason for dismissing: (empty) → Covered by the new hub." in decision_page
    assert "Stage: Plan" in decision_page and "Date: 1 June 2026" in decision_page


def test_each_record_page_links_to_its_history(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    for band in AgeBand:
        SitePopulation.objects.create(site=site_a, age_band=band.value, people=2000)
    service = registered_service(site_a, commissioner_a)
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60)
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE, requested_by=commissioner_a)
    gap_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    key = run_results(run=run).improvements[0].key
    client = client_for(commissioner_a)
    pages = {
        reverse(
            "mapping:service-detail", kwargs={"site_slug": site_a.slug, "public_id": service.public_id}
        ): history_url(site_a, "service-history", public_id=service.public_id),
        reverse("mapping:organisation-list", kwargs={"site_slug": site_a.slug}): history_url(
            site_a, "organisation-history", public_id=service.organisation.public_id
        ),
        reverse("gaps:improvement", kwargs={"site_slug": site_a.slug, "key": key}): history_url(
            site_a, "decision-history", key=key
        ),
        reverse("gaps:assumptions", kwargs={"site_slug": site_a.slug}): history_url(site_a, "assumptions-history"),
        feed_url(site_a): history_url(site_a, "areas-history"),
    }
    for page, history in pages.items():
        assert history in client.get(page).content.decode(), page
        assert client.get(history).status_code == 200, history


def test_an_improvement_not_yet_decided_has_an_empty_history_and_an_unknown_key_is_404(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    client = client_for(commissioner_a)
    assert client.get(history_url(site_a, "decision-history", key="grow:nowhere")).status_code == 404
    assert client.get(history_url(site_a, "decision-history", key="bad\x00key")).status_code == 404


# Records older than their history ------------------------------------------------------


def test_a_record_changed_before_history_was_kept_says_so(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    organisation = OrganisationFactory(site=site_a, name="Old Provider", sector="nhs")
    Organisation.history.filter(id=organisation.pk).delete()
    mapping_services.organisation_update(
        organisation=organisation,
        user=commissioner_a,
        source="page",
        data={"name": "Older Provider"},
        expected_version=None,
    )
    page = visible_text(
        client_for(commissioner_a)
        .get(history_url(site_a, "organisation-history", public_id=organisation.public_id))
        .content
    )
    assert "Changes before this were not recorded, so this shows how the record stood." in page
    assert "Name: Older Provider" in page
    assert f"Changes before {today_in_words()} were not recorded." in page


def test_a_record_with_no_recorded_change_says_its_earlier_changes_were_not_recorded(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    Area.objects.bulk_create([Area(site=site_a, name="Northbridge Central")])  # no history row
    page = visible_text(client_for(commissioner_a).get(history_url(site_a, "areas-history")).content)
    assert "No changes to the areas have been recorded yet." in page
    assert "Changes made before THRIVE Mapper kept history were not recorded." in page


# Who may read it -------------------------------------------------------------------------


def every_url(site: Site, service: Service, round_: Round, key: str) -> list[str]:
    return [
        feed_url(site),
        history_url(site, "service-history", public_id=service.public_id),
        history_url(site, "organisation-history", public_id=service.organisation.public_id),
        history_url(site, "round-history", public_id=round_.public_id),
        history_url(site, "decision-history", key=key),
        history_url(site, "assumptions-history"),
        history_url(site, "population-history"),
        history_url(site, "areas-history"),
        reverse("api-activity", kwargs={"site_slug": site.slug}),
    ]


@pytest.fixture
def site_a_urls(site_a: Site, commissioner_a: User) -> list[str]:
    service = registered_service(site_a, commissioner_a)
    round_ = started_round(site_a, commissioner_a)
    saved(ImprovementDecision(site=site_a, key="grow:getting-help", status=DecisionStatus.ACCEPTED), commissioner_a)
    return every_url(site_a, service, round_, "grow:getting-help")


@pytest.mark.parametrize("persona", ["commissioner_a", "viewer_a", "reviewer"])
def test_everyone_who_reads_the_site_reads_its_activity_and_histories(
    request: pytest.FixtureRequest, client_for: Any, site_a_urls: list[str], persona: str
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for url in site_a_urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Peer Support Drop-in" in response.content.decode() or "history/" in url, url


def test_another_sites_commissioner_gets_404_everywhere(
    client_for: Any, commissioner_b: User, site_a_urls: list[str]
) -> None:
    client = client_for(commissioner_b)
    for url in site_a_urls:
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(client_for: Any, site_a_urls: list[str]) -> None:
    client = client_for(None)
    for url in site_a_urls:
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), url
        else:
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_another_sites_changes_never_show_in_this_sites_activity(
    client_for: Any,
    commissioner_a: User,
    commissioner_b: User,
    site_a: Site,
    site_b: Site,
    groupings: dict[str, Grouping],
) -> None:
    registered_service(site_a, commissioner_a, "Northbridge Counselling")
    theirs = registered_service(site_b, commissioner_b, "Eastmere Secret Service")
    OfferFactory(service=theirs, grouping=groupings["getting-help"])
    saved(ImprovementDecision(site=site_b, key="grow:getting-help"), commissioner_b)
    round_b = started_round(site_b, commissioner_b)
    saved(
        Rating(round=round_b, item=item(round_b, "system-accessibility"), participant="Eastmere panel", score=2),
        commissioner_b,
    )

    page = client_for(commissioner_a).get(feed_url(site_a)).content.decode()
    assert "Northbridge Counselling" in page
    assert "Eastmere" not in page
    assert "grow:getting-help" not in page
    assert commissioner_b.get_full_name() not in page


# Pages and filters -------------------------------------------------------------------------


def test_the_feed_is_paged_newest_first(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    for number in range(30):
        mapping_services.organisation_create(
            site=site_a, user=commissioner_a, source="page", name=f"Provider {number:02d}", sector="nhs"
        )
    client = client_for(commissioner_a)
    first = client.get(feed_url(site_a, "?kind=organisation")).content.decode()
    assert entry_count(first) == 25
    assert "30 changes" in visible_text(first)
    assert "Page 1 of 2" in first
    assert first.index("Provider 29") < first.index("Provider 05")
    assert "Provider 04" not in first
    second = client.get(feed_url(site_a, "?kind=organisation&page=2")).content.decode()
    assert entry_count(second) == 5
    assert "Provider 04" in second and "Provider 00" in second
    assert "Changes made before THRIVE Mapper kept history were not recorded." in second
    assert entry_count(client.get(feed_url(site_a, "?kind=organisation&page=99")).content.decode()) == 5
    assert entry_count(client.get(feed_url(site_a, "?page=2")).content.decode()) > 5  # the site and its members too


def test_the_feed_filters_by_kind_of_record_and_by_person(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site
) -> None:
    registered_service(site_a, commissioner_a, "Mine")
    mapping_services.organisation_create(site=site_a, user=colleague, source="api", name="Theirs Trust", sector="nhs")
    client = client_for(commissioner_a)

    by_kind = client.get(feed_url(site_a, "?kind=service")).content.decode()
    assert entry_count(by_kind) == 1 and "Service registered" in by_kind
    assert "1 change match your filters" in visible_text(by_kind)

    by_person = client.get(feed_url(site_a, "?person=colleague")).content.decode()
    assert entry_count(by_person) == 1 and "Theirs Trust" in by_person
    assert '<option value="colleague" selected>Sam Jones</option>' in by_person

    both = client.get(feed_url(site_a, "?person=colleague&kind=service")).content.decode()
    assert entry_count(both) == 0 and "No changes have been recorded that match your filters." in both


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?kind=everything", "Choose a kind of record from the list."),
        ("?person=nobody", "Choose a person from the list."),
    ],
)
def test_a_filter_value_not_on_the_list_is_an_error_not_an_empty_list(
    client_for: Any, commissioner_a: User, site_a: Site, query: str, message: str
) -> None:
    registered_service(site_a, commissioner_a)
    response = client_for(commissioner_a).get(feed_url(site_a, query))
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page and message in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: Activity" in page
    assert entry_count(page) == 0


def test_the_feed_reads_a_fixed_number_of_queries_however_many_entries_a_page_holds(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    client = client_for(commissioner_a)
    url = feed_url(site_a)

    def change_one_of_everything(number: int) -> None:
        """Every kind of record created and changed, so every kind, and both the
        reads of a creation and of a change, are on the first page."""
        service = registered_service(site_a, commissioner_a, f"Service {number}")
        mapping_services.offer_set(
            service=service,
            grouping=groupings["getting-help"],
            user=colleague,
            source="api",
            capacity_share=50,
            expected_version=None,
        )
        mapping_services.organisation_update(
            organisation=service.organisation,
            user=colleague,
            source="page",
            data={"name": f"Renamed {number}"},
            expected_version=None,
        )
        saved(Area(site=site_a, name=f"Area {number}"), commissioner_a)
        round_ = started_round(site_a, commissioner_a, sequence=number)
        round_.notes = f"Workshop {number}"
        saved(round_, colleague)
        score = saved(AgreedScore(round=round_, item=item(round_, "system-needs-led"), score=2), commissioner_a)
        score.score = 3
        saved(score, colleague)
        rating = saved(
            Rating(round=round_, item=item(round_, "system-accessibility"), participant="Panel", score=2), colleague
        )
        deleted(rating, commissioner_a)
        decision = saved(ImprovementDecision(site=site_a, key=f"grow:{number}"), commissioner_a)
        decision.status = DecisionStatus.ACCEPTED
        saved(decision, colleague)
        saved(PdsaEntry(decision=decision, stage="plan", note="Try", recorded_on=datetime.date(2026, 5, 1)), colleague)
        assumptions = SiteAssumptions.objects.filter(site=site_a).first() or SiteAssumptions(site=site_a)
        for user, weeks in ((commissioner_a, 10 + number), (colleague, 20 + number)):
            assumptions.max_wait_weeks = weeks
            saved(assumptions, user)
        band = SitePopulation.objects.filter(site=site_a, age_band="0-4").first() or SitePopulation(site=site_a)
        band.age_band = "0-4"
        for user, people in ((commissioner_a, 1000 + number), (colleague, 2000 + number)):
            band.people = people
            saved(band, user)
        saved(
            Membership(site=site_a, user=User.objects.create(username=f"new-{number}"), role=Role.VIEWER),
            commissioner_a,
        )
        for user in (commissioner_a, colleague):  # one person's saves moments apart would read as one
            site_a.region = f"Region {number} by {user}"
            saved(site_a, user)

    def queries() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    change_one_of_everything(1)
    few, entries_few = queries(), entry_count(client.get(url).content.decode())
    change_one_of_everything(2)
    change_one_of_everything(3)
    assert entry_count(client.get(url).content.decode()) == 25 > entries_few
    assert queries() == few
