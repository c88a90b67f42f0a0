"""No silent overwrites in the gap analysis: two people load an improvement's decision,
the site's assumptions or its population, both save, and the second is refused with
what the first saved (pages) or a 412 with the current resource (API), nothing
changed; a change without If-Match is 428. Every change leaves a history record
saying who made it and how."""

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from gaps import services as gap_services
from gaps.models import AnalysisRun, ImprovementDecision, PdsaEntry, RunStatus, RunTrigger, SiteAssumptions
from mapping.models import Grouping
from sites.models import AgeBand, Site, SitePopulation
from tests.factories import OfferFactory, ServiceFactory
from tests.pages import form_data

pytestmark = pytest.mark.django_db

POPULATION = {"0-4": 25000, "5-10": 30000, "11-16": 28000, "17-19": 14000, "20-25": 27000}
ASSUMPTIONS: dict[str, Any] = {
    "thriving_percent": "75",
    "advice_percent": "40",
    "help_percent": "35",
    "more_help_percent": "15",
    "risk_percent": "10",
    "max_wait_weeks": 12,
    "self_referral_percent": 40,
}


@pytest.fixture
def key(site_a: Site, commissioner_a: User, groupings: dict[str, Grouping]) -> str:
    """The key of an improvement the site's analysis suggested (it has no risk support)."""
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.create(site=site_a, age_band=band.value, people=people)
    service = ServiceFactory(site=site_a, name="Help service", annual_capacity=100)
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=100)
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE, requested_by=commissioner_a)
    gap_services.run_execute(run_id=run.pk)
    assert AnalysisRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED
    return "grow:getting-risk-support"


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def improvement_url(site: Site, key: str) -> str:
    return reverse("gaps:improvement", kwargs={"site_slug": site.slug, "key": key})


def api_url(site: Site, suffix: str) -> str:
    return reverse("api-site-detail", kwargs={"site_slug": site.slug}) + suffix


# Decisions on improvements ----------------------------------------------------------------


def test_a_stale_decision_is_refused_on_the_page_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, key: str
) -> None:
    url = improvement_url(site_a, key)
    action = f"{url}#decision"
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = (
        form_data(mine.get(url).content, action=action),
        form_data(theirs.get(url).content, action=action),
    )
    assert my_form["decision-version"] == "0"  # nobody has decided yet

    their_form.update({"decision-status": "accepted", "decision-owner": "Team Sam"})
    assert theirs.post(url, their_form).status_code == 302
    my_form.update({"decision-status": "accepted", "decision-owner": "Priya Shah"})
    response = mine.post(url, my_form)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Sam Jones changed this decision" in page
    assert "<title>Error: " in page
    notice = page[page.index('id="stale-notice"') :]
    assert "Team Sam" in notice and "Priya Shah" in notice
    assert form_data(page, action=action)["decision-owner"] == "Priya Shah"  # what I typed, kept
    decision = ImprovementDecision.objects.get(site=site_a, key=key)
    assert (decision.owner, decision.version) == ("Team Sam", 1)

    # Saving again after seeing their change is a deliberate choice, and is applied.
    assert mine.post(url, form_data(page, action=action)).status_code == 302
    decision.refresh_from_db()
    assert (decision.owner, decision.version) == ("Priya Shah", 2)


def test_a_stale_move_in_the_list_is_refused_on_the_page(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, key: str
) -> None:
    url = improvement_url(site_a, key)
    action = f"{url}#position"
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = (
        form_data(mine.get(url).content, action=action),
        form_data(theirs.get(url).content, action=action),
    )
    their_form["position-manual_rank"] = "2"
    assert theirs.post(url, their_form).status_code == 302
    my_form["position-manual_rank"] = "3"
    page = mine.post(url, my_form).content.decode()
    assert "Sam Jones changed this decision" in page
    assert form_data(page, action=action)["position-manual_rank"] == "3"
    assert ImprovementDecision.objects.get(site=site_a, key=key).manual_rank == 2


def test_a_stale_change_to_a_decision_through_the_api_is_412_with_the_current_decision(
    commissioner_a: User, colleague: User, site_a: Site, key: str
) -> None:
    url = api_url(site_a, f"improvements/{key}/")
    mine, theirs = api(commissioner_a), api(colleague)
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    assert read_by_me == read_by_them == '"0"'
    changed = theirs.patch(url, {"owner": "Team Sam"}, format="json", HTTP_IF_MATCH=read_by_them)
    assert (changed.status_code, changed["ETag"], changed.json()["version"]) == (200, '"1"', 1)

    response = mine.patch(url, {"owner": "Priya Shah", "status": "accepted"}, format="json", HTTP_IF_MATCH=read_by_me)
    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "stale"
    assert "Sam Jones changed this decision" in body["detail"]
    assert (body["current"]["owner"], body["current"]["status"], body["current"]["version"]) == ("Team Sam", "open", 1)
    assert response["ETag"] == '"1"'
    decision = ImprovementDecision.objects.get(site=site_a, key=key)
    assert (decision.owner, decision.status, decision.version) == ("Team Sam", "open", 1)


def test_changing_a_decision_without_if_match_is_428_and_changes_nothing(
    commissioner_a: User, site_a: Site, key: str
) -> None:
    response = api(commissioner_a).patch(api_url(site_a, f"improvements/{key}/"), {"owner": "X"}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert not ImprovementDecision.objects.exists()


def test_a_pdsa_step_does_not_make_an_open_decision_form_stale(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, key: str
) -> None:
    url = improvement_url(site_a, key)
    mine = client_for(commissioner_a)
    my_form = form_data(mine.get(url).content, action=f"{url}#decision")
    step = {"stage": "plan", "note": "Map the crisis offers.", "recorded_on": "2026-05-01"}
    assert api(colleague).post(api_url(site_a, f"improvements/{key}/pdsa/"), step, format="json").status_code == 201
    assert ImprovementDecision.objects.get(site=site_a, key=key).version == 0
    my_form.update({"decision-status": "accepted"})
    assert mine.post(url, my_form).status_code == 302
    decision = ImprovementDecision.objects.get(site=site_a, key=key)
    assert (decision.status, decision.version, decision.pdsa_entries.count()) == ("accepted", 1, 1)


# Assumptions ------------------------------------------------------------------------------


def test_stale_assumptions_are_refused_on_the_page_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site
) -> None:
    url = reverse("gaps:assumptions", kwargs={"site_slug": site_a.slug})
    action = f"{url}#change-assumptions"
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = (
        form_data(mine.get(url).content, action=action),
        form_data(theirs.get(url).content, action=action),
    )
    assert my_form["version"] == "0"  # the project's defaults

    their_form.update({"thriving_percent": "75", "max_wait_weeks": "12"})
    assert theirs.post(url, their_form).status_code == 302
    my_form.update({"thriving_percent": "70"})
    response = mine.post(url, my_form)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sam Jones changed this site&#x27;s assumptions" in page
    notice = page[page.index('id="stale-notice"') : page.index("</table>", page.index('id="stale-notice"'))]
    assert "Thriving share" in notice and ">75<" in notice and ">70<" in notice
    assert "Maximum wait target in weeks" in notice and ">12<" in notice
    assert form_data(page, action=action)["thriving_percent"] == "70"
    saved = SiteAssumptions.objects.get(site=site_a)
    assert (saved.thriving_percent, saved.max_wait_weeks, saved.version) == (75, 12, 1)

    assert mine.post(url, form_data(page, action=action)).status_code == 302
    saved.refresh_from_db()
    assert (saved.thriving_percent, saved.max_wait_weeks, saved.version) == (70, 18, 2)


def test_stale_assumptions_through_the_api_are_412_with_the_current_ones(
    commissioner_a: User, colleague: User, site_a: Site
) -> None:
    url = api_url(site_a, "gap-assumptions/")
    mine, theirs = api(commissioner_a), api(colleague)
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    assert read_by_me == '"0"'
    assert theirs.put(url, ASSUMPTIONS, format="json", HTTP_IF_MATCH=read_by_them).status_code == 200
    response = mine.put(url, {**ASSUMPTIONS, "thriving_percent": "70"}, format="json", HTTP_IF_MATCH=read_by_me)
    assert response.status_code == 412
    assert response.json()["current"]["thriving_percent"] == "75.00"
    assert response.json()["current"]["version"] == 1
    assert response["ETag"] == '"1"'
    assert SiteAssumptions.objects.get(site=site_a).thriving_percent == 75
    assert mine.put(url, ASSUMPTIONS, format="json").status_code == 428


# Population -------------------------------------------------------------------------------


def test_a_stale_population_is_refused_on_the_page_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site
) -> None:
    url = reverse("gaps:assumptions", kwargs={"site_slug": site_a.slug})
    action = f"{url}#population"
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = (
        form_data(mine.get(url).content, action=action),
        form_data(theirs.get(url).content, action=action),
    )
    their_form.update({f"people_{band.replace('-', '_')}": str(people) for band, people in POPULATION.items()})
    assert theirs.post(url, their_form).status_code == 302
    my_form.update({f"people_{band.replace('-', '_')}": "100" for band in POPULATION})
    page = mine.post(url, my_form).content.decode()
    assert "Sam Jones changed this site&#x27;s population" in page
    assert "25,000" in page or "25000" in page
    assert form_data(page, action=action)["people_0_4"] == "100"
    assert dict(SitePopulation.objects.filter(site=site_a).values_list("age_band", "people")) == POPULATION
    assert set(SitePopulation.objects.filter(site=site_a).values_list("version", flat=True)) == {1}


def test_a_stale_population_through_the_api_is_412_with_the_current_one(
    commissioner_a: User, colleague: User, site_a: Site
) -> None:
    SitePopulation.objects.create(site=site_a, age_band="5-10", people=30000)
    url = api_url(site_a, "population/")
    mine, theirs = api(commissioner_a), api(colleague)
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    assert read_by_me == '"1"'
    changed = theirs.put(url, POPULATION, format="json", HTTP_IF_MATCH=read_by_them)
    assert (changed.status_code, changed["ETag"]) == (200, '"2"')
    response = mine.put(url, {**POPULATION, "0-4": 1}, format="json", HTTP_IF_MATCH=read_by_me)
    assert response.status_code == 412
    assert "Sam Jones changed this site's population" in response.json()["detail"]
    assert response.json()["current"] == {**POPULATION, "version": 2}
    assert SitePopulation.objects.get(site=site_a, age_band="0-4").people == 25000
    assert mine.put(url, POPULATION, format="json").status_code == 428


# History ----------------------------------------------------------------------------------


def test_every_change_to_decisions_steps_assumptions_and_population_records_who_and_how(
    client_for: Any, commissioner_a: User, colleague: User, site_a: Site, key: str
) -> None:
    url = improvement_url(site_a, key)
    page = client_for(commissioner_a)
    form = form_data(page.get(url).content, action=f"{url}#decision")
    form.update({"decision-status": "accepted", "decision-owner": "Priya Shah"})
    assert page.post(url, form).status_code == 302
    client = api(colleague)
    decision_url = api_url(site_a, f"improvements/{key}/")
    assert client.patch(decision_url, {"owner": "Sam"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    step = {"stage": "do", "note": "Ran the pilot.", "recorded_on": "2026-05-01"}
    assert client.post(decision_url + "pdsa/", step, format="json").status_code == 201
    assert (
        client.put(api_url(site_a, "gap-assumptions/"), ASSUMPTIONS, format="json", HTTP_IF_MATCH='"0"').status_code
        == 200
    )
    population = client.get(api_url(site_a, "population/"))["ETag"]
    assert (
        client.put(api_url(site_a, "population/"), POPULATION, format="json", HTTP_IF_MATCH=population).status_code
        == 200
    )

    decision = ImprovementDecision.objects.get(site=site_a, key=key)
    records = list(
        decision.history.order_by("history_date").values_list(
            "owner", "history_user__username", "history_change_reason"
        )
    )
    assert records == [("Priya Shah", "commissioner-a", "page"), ("Sam", "colleague", "api")]
    entry = PdsaEntry.objects.get(decision=decision)
    assert list(entry.history.values_list("note", "history_user__username", "history_change_reason")) == [
        ("Ran the pilot.", "colleague", "api")
    ]
    assumptions = SiteAssumptions.objects.get(site=site_a)
    assert list(
        assumptions.history.values_list("thriving_percent", "history_user__username", "history_change_reason")
    ) == [(75, "colleague", "api")]
    for row in SitePopulation.objects.filter(site=site_a):
        newest = row.history.order_by("-history_date").first()
        assert (newest.people, newest.version, newest.history_user, newest.history_change_reason) == (
            POPULATION[row.age_band],
            row.version,
            colleague,
            "api",
        )
