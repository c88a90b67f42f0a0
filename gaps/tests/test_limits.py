"""Bad input to the gap analysis gets a clear message and changes nothing: the page
and the API refuse the same values with the same words (core.limits, checked in the
services), a date input never answers 500, and each message is listed once. Also:
due dates that have passed show as overdue."""

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from core.limits import DUE_DATE, PDSA_DATE
from gaps import services as gap_services
from gaps.models import AnalysisRun, ImprovementDecision, PdsaEntry, RunStatus, RunTrigger, SiteAssumptions
from gaps.tests.html import part
from mapping.models import Grouping
from sites.models import AgeBand, Site, SitePopulation
from tests.factories import OfferFactory, ServiceFactory
from tests.pages import form_data

pytestmark = pytest.mark.django_db

KEY = "grow:getting-risk-support"


@pytest.fixture
def analysed(site_a: Site, commissioner_a: User, groupings: dict[str, Grouping]) -> AnalysisRun:
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.create(site=site_a, age_band=band.value, people=people)
    service = ServiceFactory(site=site_a, name="Help service", annual_capacity=100)
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=100)
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE, requested_by=commissioner_a)
    gap_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    return run


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def improvement_url(site: Site) -> str:
    return reverse("gaps:improvement", kwargs={"site_slug": site.slug, "key": KEY})


def api_url(site: Site, suffix: str) -> str:
    return reverse("api-site-detail", kwargs={"site_slug": site.slug}) + suffix


def page_text(response: Any) -> str:
    assert response.status_code == 200
    return str(response.content.decode().replace("&#x27;", "'"))


def post_decision(client: Any, site: Site, **fields: str) -> Any:
    url = improvement_url(site)
    data = form_data(client.get(url).content, action=f"{url}#decision")
    data.update({"decision-status": "accepted", **{f"decision-{k}": v for k, v in fields.items()}})
    return client.post(url, data)


def post_step(client: Any, site: Site, **fields: str) -> Any:
    url = improvement_url(site)
    data = form_data(client.get(url).content, action=f"{url}#pdsa")
    data.update({"pdsa-stage": "plan", "pdsa-note": "A step.", **{f"pdsa-{k}": v for k, v in fields.items()}})
    return client.post(url, data)


def test_a_due_date_with_a_twenty_digit_year_is_a_field_error_not_a_500(
    client_for: Any, commissioner_a: User, site_a: Site, analysed: AnalysisRun
) -> None:
    page = page_text(post_decision(client_for(commissioner_a), site_a, due_on_0="1", due_on_1="2", due_on_2="9" * 20))
    assert "The due date must be a real date, like 31 3 2027" in page
    step = page_text(
        post_step(client_for(commissioner_a), site_a, recorded_on_0="1", recorded_on_1="2", recorded_on_2="9" * 20)
    )
    assert "The date of the step must be a real date" in step
    assert not ImprovementDecision.objects.exists()


def test_a_due_date_outside_its_window_is_refused_by_the_page_and_the_api_in_the_same_words(
    client_for: Any, commissioner_a: User, site_a: Site, analysed: AnalysisRun
) -> None:
    message = DUE_DATE.message()
    page = page_text(post_decision(client_for(commissioner_a), site_a, due_on_0="1", due_on_1="2", due_on_2="2005"))
    assert message in page
    client = api(commissioner_a)
    url = api_url(site_a, f"improvements/{KEY}/")
    response = client.patch(url, {"due_on": "2005-02-01"}, format="json", HTTP_IF_MATCH='"0"')
    assert response.status_code == 400
    assert response.json() == {"due_on": [message]}
    # The service itself refuses it, whoever calls it.
    with pytest.raises(Exception, match="due date must be between"):
        gap_services.decision_update(
            site=site_a,
            key=KEY,
            user=commissioner_a,
            source="page",
            changes={"due_on": datetime.date(2005, 2, 1)},
            expected_version=None,
        )
    assert not ImprovementDecision.objects.exists()


def test_a_pdsa_date_outside_its_window_is_refused_by_the_page_and_the_api_in_the_same_words(
    client_for: Any, commissioner_a: User, site_a: Site, analysed: AnalysisRun
) -> None:
    message = PDSA_DATE.message()
    later = timezone.localdate().year + 3
    page = page_text(
        post_step(client_for(commissioner_a), site_a, recorded_on_0="1", recorded_on_1="2", recorded_on_2=str(later))
    )
    assert message in page
    response = api(commissioner_a).post(
        api_url(site_a, f"improvements/{KEY}/pdsa/"),
        {"stage": "plan", "note": "A step.", "recorded_on": f"{later}-02-01"},
        format="json",
    )
    assert (response.status_code, response.json()) == (400, {"recorded_on": [message]})
    assert not PdsaEntry.objects.exists()


@pytest.mark.parametrize(
    ("field", "length", "message"),
    [
        ("owner", 121, "The owner must be 120 characters or fewer"),
        ("dismiss_reason", 2001, "The reason must be 2,000 characters or fewer"),
    ],
)
def test_a_decision_text_over_its_length_is_refused_by_the_page_and_the_api_in_the_same_words(
    client_for: Any, commissioner_a: User, site_a: Site, analysed: AnalysisRun, field: str, length: int, message: str
) -> None:
    fields = {field: "x" * length, "status": "dismissed"}
    page = page_text(post_decision(client_for(commissioner_a), site_a, **fields))
    assert message in page
    response = api(commissioner_a).patch(
        api_url(site_a, f"improvements/{KEY}/"), fields, format="json", HTTP_IF_MATCH='"0"'
    )
    assert (response.status_code, response.json()[field]) == (400, [message])
    assert not ImprovementDecision.objects.exists()


def test_a_pdsa_note_over_its_length_is_refused_by_the_page_and_the_api_in_the_same_words(
    client_for: Any, commissioner_a: User, site_a: Site, analysed: AnalysisRun
) -> None:
    message = "The description of the step must be 4,000 characters or fewer"
    assert message in page_text(post_step(client_for(commissioner_a), site_a, note="x" * 4001))
    response = api(commissioner_a).post(
        api_url(site_a, f"improvements/{KEY}/pdsa/"), {"stage": "plan", "note": "x" * 4001}, format="json"
    )
    assert (response.status_code, response.json()) == (400, {"note": [message]})
    assert not PdsaEntry.objects.exists()


def test_a_population_over_its_limit_is_refused_by_the_page_and_the_api_in_the_same_words(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    message = "Number of people aged 0 to 4 must be 5,000,000 or less"
    url = reverse("gaps:assumptions", kwargs={"site_slug": site_a.slug})
    client = client_for(commissioner_a)
    data = form_data(client.get(url).content, action=f"{url}#population")
    data.update(
        {"people_0_4": "5000001", "people_5_10": "1", "people_11_16": "1", "people_17_19": "1", "people_20_25": "1"}
    )
    assert message in page_text(client.post(url, data))
    body = {"0-4": 5_000_001, "5-10": 1, "11-16": 1, "17-19": 1, "20-25": 1}
    response = api(commissioner_a).put(api_url(site_a, "population/"), body, format="json", HTTP_IF_MATCH='"0"')
    assert (response.status_code, response.json()) == (400, {"0-4": [message]})
    assert not SitePopulation.objects.filter(site=site_a).exists()


@pytest.mark.parametrize("weight", ["4", "30", "1234"])
def test_a_principle_weight_out_of_range_is_listed_once_in_plain_words(
    client_for: Any, commissioner_a: User, site_a: Site, weight: str
) -> None:
    url = reverse("gaps:assumptions", kwargs={"site_slug": site_a.slug})
    client = client_for(commissioner_a)
    data = form_data(client.get(url).content, action=f"{url}#change-assumptions")
    data["weight_accessibility"] = weight
    page = page_text(client.post(url, data))
    summary = page[page.index("govuk-error-summary") : page.index("</ul>", page.index("govuk-error-summary"))]
    assert summary.count("Weight for Accessibility must be 3 or less") == 1
    assert "Ensure" not in page
    assert not SiteAssumptions.objects.exists()


def test_the_api_refuses_a_principle_weight_out_of_range_in_the_same_words(commissioner_a: User, site_a: Site) -> None:
    body = {
        "thriving_percent": "80",
        "advice_percent": "50",
        "help_percent": "30",
        "more_help_percent": "15",
        "risk_percent": "5",
        "max_wait_weeks": 18,
        "self_referral_percent": 50,
        "principle_weights": {"accessibility": "2.5", "no-such-principle": "1"},
    }
    client = api(commissioner_a)
    response = client.put(api_url(site_a, "gap-assumptions/"), body, format="json", HTTP_IF_MATCH='"0"')
    assert (response.status_code, response.json()) == (
        400,
        {"principle_weights": ["There is no THRIVE principle with the code 'no-such-principle'."]},
    )
    body["principle_weights"] = {"accessibility": "3.5"}
    response = client.put(api_url(site_a, "gap-assumptions/"), body, format="json", HTTP_IF_MATCH='"0"')
    assert response.status_code == 400
    assert response.json()["principle_weights"] == {"accessibility": ["Weight must be 3 or less"]}
    assert not SiteAssumptions.objects.exists()


def test_a_due_date_that_has_passed_shows_as_overdue_on_the_list_the_page_and_the_api(
    client_for: Any, viewer_a: User, commissioner_a: User, site_a: Site, analysed: AnalysisRun
) -> None:
    gap_services.decision_update(
        site=site_a,
        key=KEY,
        user=commissioner_a,
        source="page",
        changes={"status": "accepted", "due_on": timezone.localdate() - datetime.timedelta(days=1)},
        expected_version=None,
    )
    client = client_for(viewer_a)
    listing = page_text(client.get(reverse("gaps:gaps-home", kwargs={"site_slug": site_a.slug})))
    # Once in the summary's first improvements, once in the list of them all.
    assert part(listing, "summary-improvements").count(">Overdue</strong>") == 1
    assert part(listing, "improvements").count(">Overdue</strong>") == 1
    assert "overdue: was due" in listing
    assert ">Overdue</strong>" in page_text(client.get(improvement_url(site_a)))
    assert api(viewer_a).get(api_url(site_a, f"improvements/{KEY}/")).json()["overdue"] is True
    gap_services.decision_update(
        site=site_a,
        key=KEY,
        user=commissioner_a,
        source="page",
        changes={"due_on": timezone.localdate()},
        expected_version=None,
    )
    assert ">Overdue</strong>" not in page_text(client.get(improvement_url(site_a)))
