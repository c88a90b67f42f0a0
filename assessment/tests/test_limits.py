"""One set of limits (core.limits) on what people enter in the assessment: the pages
and the API refuse the same values with the same plain-English message, by the field,
and store nothing. The services hold the same limits for every other caller."""

import datetime
import html as html_lib
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from assessment.models import AgreedScore, Instrument, Rating, Round
from assessment.services import AgreedScoreInput, agreed_score_save, round_create
from core.limits import ROUND_DATE
from sites.models import Site
from tests.pages import form_data

from .support import item_of, item_page, page_of, round_api

pytestmark = pytest.mark.django_db

LONG_NOTES = "x" * 10_000
NOTES_TOO_LONG = "Notes must be 4,000 characters or fewer"
NOT_A_REAL_DATE = "The date of the round must be a real date"


def error_summary(response: Any) -> list[str]:
    """The messages of every error summary on the page, as a reader sees them."""
    html = response.content.decode()
    lists = re.findall(r'govuk-error-summary__list">(.*?)</ul>', html, flags=re.S)
    items = [item for found in lists for item in re.findall(r"<li>(.*?)</li>", found, flags=re.S)]
    return [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


def api_errors(response: Any) -> list[str]:
    return [message for messages in response.json().values() for message in messages]


# Dates and notes of a round ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day_month_year", "iso", "message"),
    [
        (("1", "3", "0001"), "0001-03-01", ROUND_DATE.message()),
        (("1", "3", "9999"), "9999-03-01", ROUND_DATE.message()),
        (("1", "3", "12345678901234567890"), "12345678901234567890-03-01", NOT_A_REAL_DATE),
    ],
    ids=["year-1", "year-9999", "20-digit-year"],
)
def test_a_round_date_out_of_range_is_refused_alike_by_the_page_and_the_api(
    client_for: Any,
    api_for: Any,
    commissioner_a: User,
    site_a: Site,
    default_instrument: Instrument,
    day_month_year: tuple[str, str, str],
    iso: str,
    message: str,
) -> None:
    day, month, year = day_month_year
    page = client_for(commissioner_a).post(
        reverse("assessment:round-create", kwargs={"site_slug": site_a.slug}),
        {"held_on_0": day, "held_on_1": month, "held_on_2": year},
    )
    api = api_for(commissioner_a).post(
        reverse("api-round-list", kwargs={"site_slug": site_a.slug}), {"held_on": iso}, format="json"
    )

    assert page.status_code == 200
    [on_the_page] = error_summary(page)
    assert (api.status_code, list(api.json())) == (400, ["held_on"])
    [from_the_api] = api.json()["held_on"]
    assert on_the_page.startswith(message)
    assert from_the_api.startswith(message)
    if message == ROUND_DATE.message():
        assert on_the_page == from_the_api
        assert on_the_page.startswith("The date of the round must be between 1 January 2010 and ")
    assert not Round.objects.exists()


@pytest.mark.parametrize("year", ["0001", "9999", "12345678901234567890"])
def test_a_round_date_out_of_range_is_refused_when_the_round_is_edited(
    client_for: Any, api_for: Any, commissioner_a: User, draft: Round, year: str
) -> None:
    client = client_for(commissioner_a)
    url = page_of(draft, "round-edit")
    page = client.post(url, {**form_data(client.get(url).content), "held_on_2": year})
    api = api_for(commissioner_a)
    response = api.patch(
        round_api(draft), {"held_on": f"{year}-03-01"}, format="json", HTTP_IF_MATCH=api.get(round_api(draft))["ETag"]
    )
    assert len(error_summary(page)) == 1
    assert error_summary(page)[0].startswith("The date of the round must be")
    assert (response.status_code, list(response.json())) == (400, ["held_on"])
    draft.refresh_from_db()
    assert (draft.held_on, draft.version) == (datetime.date(2026, 3, 1), 1)


def test_ten_thousand_characters_of_notes_are_refused_alike_by_the_page_and_the_api(
    client_for: Any, api_for: Any, commissioner_a: User, draft: Round
) -> None:
    client = client_for(commissioner_a)
    url = page_of(draft, "round-edit")
    page = client.post(url, {**form_data(client.get(url).content), "notes": LONG_NOTES})
    api = api_for(commissioner_a)
    patched = api.patch(
        round_api(draft), {"notes": LONG_NOTES}, format="json", HTTP_IF_MATCH=api.get(round_api(draft))["ETag"]
    )
    created = api.post(
        reverse("api-round-list", kwargs={"site_slug": draft.site.slug}),
        {"held_on": "2026-09-01", "notes": LONG_NOTES},
        format="json",
    )
    assert error_summary(page) == [NOTES_TOO_LONG]
    assert (patched.status_code, patched.json()) == (400, {"notes": [NOTES_TOO_LONG]})
    assert (created.status_code, created.json()) == (400, {"notes": [NOTES_TOO_LONG]})
    draft.refresh_from_db()
    assert draft.notes == "In the town hall"
    assert Round.objects.count() == 1


def test_the_services_hold_the_same_limits_for_every_caller(
    site_a: Site, commissioner_a: User, default_instrument: Instrument
) -> None:
    with pytest.raises(ValidationError) as raised:
        round_create(
            site=site_a, user=commissioner_a, source="import", held_on=datetime.date(1, 3, 1), notes=LONG_NOTES
        )
    assert raised.value.message_dict == {"held_on": [ROUND_DATE.message()], "notes": [NOTES_TOO_LONG]}
    round_ = round_create(site=site_a, user=commissioner_a, source="import", held_on=datetime.date(2026, 3, 1))
    with pytest.raises(ValidationError) as raised:
        agreed_score_save(
            round_=round_,
            item=item_of(round_),
            user=commissioner_a,
            source="import",
            data=AgreedScoreInput(score=2, evidence_value=Decimal("-1"), evidence_text="y" * 4001),
            expected_version=None,
        )
    assert raised.value.message_dict == {
        "evidence_value": ["Measure must be from 0 to 100%"],
        "evidence_text": ["Evidence must be 4,000 characters or fewer"],
    }
    assert not AgreedScore.objects.exists()


# Evidence of an agreed score ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("system-common-language", "-1", "Measure must be 0% or more"),
        ("system-common-language", "150", "Measure must be 100% or less"),
        ("system-common-language", "12345678901234567890", "Measure must be 100% or less"),
        ("service-accessibility", "-0.5", "Measure must be 0 or more"),
        ("service-accessibility", "12345678901234567890", "Measure must be 1,000,000,000 or less"),
    ],
    ids=["negative-percentage", "percentage-of-150", "20-digit-percentage", "negative-weeks", "20-digit-weeks"],
)
def test_a_measure_out_of_range_for_its_unit_is_refused_alike_by_the_page_and_the_api(
    client_for: Any, api_for: Any, commissioner_a: User, draft: Round, code: str, value: str, message: str
) -> None:
    part = code.split("-", 1)[0]
    client = client_for(commissioner_a)
    action = item_page(draft, "round-score-item", code)
    form = form_data(client.get(page_of(draft, "round-score", part_code=part)).content, action=action)
    page = client.post(action, {**form, f"{code}-score": "2", f"{code}-evidence_value": value})
    api = api_for(commissioner_a)
    response = api.put(
        round_api(draft, f"agreed-scores/{code}/"), {"score": 2, "evidence_value": value, "version": 0}, format="json"
    )
    # Once in the summary, however many of Django's checks the value fails.
    assert error_summary(page) == [message]
    assert (response.status_code, response.json()) == (400, {"evidence_value": [message]})
    assert not AgreedScore.objects.exists()


def test_a_percentage_from_0_to_100_is_kept(client_for: Any, commissioner_a: User, draft: Round) -> None:
    client = client_for(commissioner_a)
    action = item_page(draft, "round-score-item")
    form = form_data(client.get(page_of(draft, "round-score", part_code="system")).content, action=action)
    for value in ("0", "100"):
        form.update({"system-common-language-score": "2", "system-common-language-evidence_value": value})
        assert client.post(action, form).status_code == 302
        form["system-common-language-version"] = str(AgreedScore.objects.get().version)
    assert AgreedScore.objects.get().evidence_value == 100


def test_long_evidence_and_notes_are_refused_alike_by_the_page_and_the_api(
    client_for: Any, api_for: Any, commissioner_a: User, draft: Round
) -> None:
    client = client_for(commissioner_a)
    action = item_page(draft, "round-score-item", "system-needs-led")
    form = form_data(client.get(page_of(draft, "round-score", part_code="system")).content, action=action)
    body = {"evidence_text": "y" * 4001, "notes": LONG_NOTES}
    page = client.post(action, {**form, **{f"system-needs-led-{k}": v for k, v in body.items()}})
    response = api_for(commissioner_a).put(
        round_api(draft, "agreed-scores/system-needs-led/"), {"score": 2, "version": 0, **body}, format="json"
    )
    expected = ["Evidence must be 4,000 characters or fewer", NOTES_TOO_LONG]
    assert error_summary(page) == expected
    assert (response.status_code, api_errors(response)) == (400, expected)
    assert not AgreedScore.objects.exists()


# Ratings -------------------------------------------------------------------------


def test_a_participant_name_over_80_characters_is_refused_alike_by_the_page_and_the_api(
    client_for: Any, api_for: Any, commissioner_a: User, draft: Round
) -> None:
    name = "n" * 81
    client = client_for(commissioner_a)
    action = item_page(draft, "round-rating-save")
    form = form_data(client.get(page_of(draft, "round-score", part_code="system")).content, action=action)
    page = client.post(
        action, {**form, "system-common-language-rating-participant": name, "system-common-language-rating-score": "2"}
    )
    response = api_for(commissioner_a).post(
        round_api(draft, "ratings/"),
        {"item": "system-common-language", "participant": name, "score": 2, "notes": LONG_NOTES},
        format="json",
    )
    assert error_summary(page) == ["The name or role must be 80 characters or fewer"]
    assert response.status_code == 400
    assert response.json() == {
        "participant": ["The name or role must be 80 characters or fewer"],
        "notes": [NOTES_TOO_LONG],
    }
    assert not Rating.objects.exists()
