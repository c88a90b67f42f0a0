"""The THRIVE assessment pages for every persona, and the rules of the tool as seen
through them: starting, scoring, submitting, locking, stale saves, ratings, results,
comparison and loading a new version of the tool."""

import datetime
import html as html_lib
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from assessment.management.commands.load_instrument import (
    DEFAULT_INSTRUMENT,
    load_default_instrument,
    read_instrument_file,
)
from assessment.models import AgreedScore, Instrument, Item, Rating, Round, RoundStatus
from assessment.services import (
    AgreedScoreInput,
    agreed_score_save,
    rating_save,
    round_create,
    round_lock,
    round_submit,
)
from sites.models import Role, Site
from tests.factories import MembershipFactory, UserFactory
from tests.pages import form_data

pytestmark = pytest.mark.django_db

HELD_ON = datetime.date(2026, 3, 1)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def instrument(db: Any) -> Instrument:
    return load_default_instrument()


@pytest.fixture
def round_a(instrument: Instrument, site_a: Site, commissioner_a: User) -> Round:
    return round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")


@pytest.fixture
def staff(db: Any) -> User:
    return UserFactory(username="staff", is_staff=True)


def item(round_: Round, code: str) -> Item:
    return Item.objects.select_related("part", "principle").get(instrument=round_.instrument, code=code)


def score(round_: Round, user: User, code: str, value: int | None, **evidence: Any) -> AgreedScore:
    return agreed_score_save(
        round_=round_,
        item=item(round_, code),
        user=user,
        data=AgreedScoreInput(score=value, **evidence),
        expected_version=None,
        source="page",
    )


def score_all(round_: Round, user: User, value: int = 3, **overrides: int) -> None:
    for one in Item.objects.filter(instrument=round_.instrument):
        agreed_score_save(
            round_=round_,
            item=one,
            user=user,
            data=AgreedScoreInput(score=overrides.get(one.code.replace("-", "_"), value)),
            expected_version=None,
            source="page",
        )


def text_of(response: Any) -> str:
    """The page's text with tags removed and spaces collapsed, as a reader sees it."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def round_kwargs(round_: Round) -> dict[str, Any]:
    return {"site_slug": round_.site.slug, "public_id": round_.public_id}


def score_url(round_: Round, part: str = "system") -> str:
    return reverse("assessment:round-score", kwargs={**round_kwargs(round_), "part_code": part})


def item_url(round_: Round, code: str = "system-common-language", name: str = "round-score-item") -> str:
    part = code.split("-", 1)[0]
    return reverse(f"assessment:{name}", kwargs={**round_kwargs(round_), "part_code": part, "item_code": code})


def score_post(
    value: int | str, version: int = 0, code: str = "system-common-language", **extra: str
) -> dict[str, Any]:
    return {
        f"{code}-score": str(value),
        f"{code}-version": str(version),
        **{f"{code}-{k}": v for k, v in extra.items()},
    }


def rating_post(participant: str, value: int, code: str = "system-common-language") -> dict[str, str]:
    return {f"{code}-rating-participant": participant, f"{code}-rating-score": str(value)}


def form_on_page(client: Client, round_: Round, action: str, part: str = "system") -> dict[str, Any]:
    """The fields of the scoring page's form posting to `action`, as the browser has them."""
    return form_data(client.get(score_url(round_, part)).content, action=action)


def remove_url(rating: Rating) -> str:
    return reverse(
        "assessment:round-rating-remove",
        kwargs={
            **round_kwargs(rating.round),
            "part_code": rating.item.part.code,
            "item_code": rating.item.code,
            "rating_id": rating.public_id,
        },
    )


def date_post(day: int | str, month: int | str, year: int | str, **extra: str) -> dict[str, Any]:
    return {"held_on_0": str(day), "held_on_1": str(month), "held_on_2": str(year), **extra}


def press(client: Client, round_: Round, name: str) -> Any:
    """Press the button of a round's page that changes it (submit, reopen, lock), as a
    browser would: with the page's form, which carries the version of the round shown."""
    action = reverse(f"assessment:round-{name}", kwargs=round_kwargs(round_))
    page = reverse(
        "assessment:round-lock" if name == "lock" else "assessment:round-detail", kwargs=round_kwargs(round_)
    )
    return client.post(action, form_data(client.get(page).content, action="" if name == "lock" else action))


# Permission matrix ----------------------------------------------------------------


def read_urls(round_: Round) -> list[str]:
    slug = {"site_slug": round_.site.slug}
    return [
        reverse("assessment:round-list", kwargs=slug),
        reverse("assessment:round-compare", kwargs=slug),
        reverse("assessment:round-detail", kwargs=round_kwargs(round_)),
        reverse("assessment:round-results", kwargs=round_kwargs(round_)),
        score_url(round_, "system"),
        score_url(round_, "individual"),
    ]


def edit_urls(round_: Round) -> list[str]:
    return [
        reverse("assessment:round-create", kwargs={"site_slug": round_.site.slug}),
        reverse("assessment:round-edit", kwargs=round_kwargs(round_)),
        reverse("assessment:round-lock", kwargs=round_kwargs(round_)),
    ]


def post_urls(round_: Round, rating: Rating) -> list[str]:
    return [
        *edit_urls(round_),
        reverse("assessment:round-submit", kwargs=round_kwargs(round_)),
        reverse("assessment:round-reopen", kwargs=round_kwargs(round_)),
        item_url(round_),
        item_url(round_, name="round-rating-save"),
        reverse(
            "assessment:round-rating-remove",
            kwargs={
                **round_kwargs(round_),
                "part_code": "system",
                "item_code": "system-common-language",
                "rating_id": rating.public_id,
            },
        ),
    ]


def instrument_urls(instrument: Instrument) -> list[str]:
    return [
        reverse("instruments:instrument-list"),
        reverse("instruments:instrument-detail", kwargs={"version": instrument.version}),
    ]


@pytest.fixture
def rating_a(round_a: Round, commissioner_a: User) -> Rating:
    return rating_save(
        round_=round_a,
        item=item(round_a, "system-common-language"),
        user=commissioner_a,
        participant="CAMHS lead",
        score=2,
        source="page",
        seen=None,
    )


def test_commissioner_can_open_every_assessment_page_of_their_site(
    client_for: Any, commissioner_a: User, round_a: Round, instrument: Instrument
) -> None:
    client = client_for(commissioner_a)
    for url in [*read_urls(round_a), *edit_urls(round_a), *instrument_urls(instrument)]:
        assert client.get(url).status_code == 200, url
    scoring = client.get(score_url(round_a)).content.decode()
    assert 'hx-post="' in scoring
    assert 'name="system-common-language-version"' in scoring


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
def test_readers_see_assessment_pages_without_forms_and_cannot_open_edit_pages(
    request: pytest.FixtureRequest, persona: str, client_for: Any, round_a: Round, instrument: Instrument
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for url in [*read_urls(round_a), *instrument_urls(instrument)]:
        assert client.get(url).status_code == 200, url
    for url in edit_urls(round_a):
        assert client.get(url).status_code == 403, url
    scoring = client.get(score_url(round_a))
    assert "hx-post" not in scoring.content.decode()
    assert "Only the site's commissioners can score it" in text_of(scoring)
    assert "Start the baseline" not in text_of(client.get(read_urls(round_a)[0]))


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
def test_readers_cannot_change_a_round(
    request: pytest.FixtureRequest, persona: str, client_for: Any, round_a: Round, rating_a: Rating
) -> None:
    client = client_for(request.getfixturevalue(persona))
    data = {**score_post(2), **rating_post("Reader", 1), **date_post(2, 3, 2026)}
    for url in post_urls(round_a, rating_a):
        assert client.post(url, data).status_code == 403, url
        assert client.post(url, data, **HTMX).status_code == 403, url
    round_a.refresh_from_db()
    assert round_a.status == RoundStatus.DRAFT
    assert round_a.held_on == HELD_ON
    assert Round.objects.count() == 1
    assert not AgreedScore.objects.exists()
    assert list(Rating.objects.values_list("participant", "score")) == [("CAMHS lead", 2)]


def test_commissioner_of_another_site_gets_404_on_every_assessment_page_and_post(
    client_for: Any, commissioner_b: User, site_b: Site, round_a: Round, rating_a: Rating
) -> None:
    client = client_for(commissioner_b)
    for url in [*read_urls(round_a), *edit_urls(round_a)]:
        assert client.get(url).status_code == 404, url
    data = {**score_post(2), **rating_post("Outsider", 1), **date_post(2, 3, 2026)}
    for url in post_urls(round_a, rating_a):
        assert client.post(url, data).status_code == 404, url
    assert not AgreedScore.objects.exists()
    assert Rating.objects.count() == 1
    assert Round.objects.filter(site=round_a.site).count() == 1
    # Site A's round under site B's own address is not found either.
    url = reverse("assessment:round-detail", kwargs={"site_slug": site_b.slug, "public_id": round_a.public_id})
    assert client.get(url).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in_from_every_assessment_page(
    round_a: Round, rating_a: Rating, instrument: Instrument
) -> None:
    client = Client()
    urls = [*read_urls(round_a), *edit_urls(round_a), *instrument_urls(instrument)]
    for url in [*urls, reverse("instruments:instrument-load")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url
    for url in post_urls(round_a, rating_a):
        response = client.post(url, score_post(2))
        assert response.status_code == 302, url
    assert not AgreedScore.objects.exists()


def test_only_staff_can_open_the_instrument_upload_page(
    client_for: Any, staff: User, commissioner_a: User, reviewer: User, instrument: Instrument
) -> None:
    url = reverse("instruments:instrument-load")
    assert client_for(staff).get(url).status_code == 200
    upload = SimpleUploadedFile("tool.json", b"{}", content_type="application/json")
    for person in (commissioner_a, reviewer):
        assert client_for(person).get(url).status_code == 403
        assert client_for(person).post(url, {"file": upload}).status_code == 403
    assert "Load a new version" in text_of(client_for(staff).get(reverse("instruments:instrument-list")))
    assert "Load a new version" not in text_of(client_for(commissioner_a).get(reverse("instruments:instrument-list")))


def test_site_nav_links_to_the_assessment(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    response = client_for(commissioner_a).get(reverse("sites:overview", kwargs={"site_slug": site_a.slug}))
    assert reverse("assessment:round-list", kwargs={"site_slug": site_a.slug}) in response.content.decode()


# Rounds ---------------------------------------------------------------------------


def test_commissioner_starts_the_baseline_then_cannot_start_another_while_it_is_a_draft(
    client_for: Any, commissioner_a: User, site_a: Site, instrument: Instrument
) -> None:
    client = client_for(commissioner_a)
    list_url = reverse("assessment:round-list", kwargs={"site_slug": site_a.slug})
    assert "No rounds yet" in text_of(client.get(list_url))
    create_url = reverse("assessment:round-create", kwargs={"site_slug": site_a.slug})

    response = client.post(create_url, date_post(31, 2, 2026))
    assert "The date of the round must be a real date" in text_of(response)
    assert not Round.objects.exists()

    response = client.post(create_url, date_post(12, 3, 2026, notes="Partnership board workshop"))
    round_ = Round.objects.get(site=site_a)
    assert response.status_code == 302
    assert response.url == reverse("assessment:round-detail", kwargs=round_kwargs(round_))
    assert (round_.sequence, round_.held_on, round_.notes) == (
        0,
        datetime.date(2026, 3, 12),
        "Partnership board workshop",
    )
    assert round_.instrument == instrument

    response = client.post(create_url, date_post(13, 3, 2026))
    assert "Finish the round in progress first" in text_of(response)
    assert Round.objects.count() == 1
    page = text_of(client.get(list_url))
    assert "Baseline is still a draft" in page
    assert "Start a follow-up round" not in page
    assert "0 of 24 scored" in page
    assert "Draft wording" in page


def test_submitting_an_incomplete_round_names_the_missing_items_and_changes_nothing(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    score_all(round_a, commissioner_a, 3, system_common_language=None, individual_accessibility=None)
    response = press(client_for(commissioner_a), round_a, "submit")
    page = text_of(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "2 not yet scored: Common Language (System); Accessibility (Individual)" in page
    round_a.refresh_from_db()
    assert round_a.status == RoundStatus.DRAFT
    assert round_a.submitted_at is None


def test_a_complete_round_is_submitted_reopened_resubmitted_and_locked_after_confirmation(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    score_all(round_a, commissioner_a, 3)
    client = client_for(commissioner_a)
    detail = reverse("assessment:round-detail", kwargs=round_kwargs(round_a))
    assert press(client, round_a, "submit").url == detail
    round_a.refresh_from_db()
    assert round_a.status == RoundStatus.SUBMITTED
    assert "Reopen as a draft" in text_of(client.get(detail))

    press(client, round_a, "reopen")
    round_a.refresh_from_db()
    assert round_a.status == RoundStatus.DRAFT
    press(client, round_a, "submit")

    lock_url = reverse("assessment:round-lock", kwargs=round_kwargs(round_a))
    assert "You cannot undo this" in text_of(client.get(lock_url))
    assert press(client, round_a, "lock").url == detail
    round_a.refresh_from_db()
    assert round_a.status == RoundStatus.LOCKED
    assert round_a.locked_by == commissioner_a

    response = client.post(
        reverse("assessment:round-reopen", kwargs=round_kwargs(round_a)), {"version": round_a.version}
    )
    assert "This round is locked. It cannot be reopened." in text_of(response)
    round_a.refresh_from_db()
    assert round_a.status == RoundStatus.LOCKED


def test_a_draft_round_cannot_be_locked(client_for: Any, commissioner_a: User, round_a: Round) -> None:
    url = reverse("assessment:round-lock", kwargs=round_kwargs(round_a))
    response = client_for(commissioner_a).post(url, {"version": round_a.version})
    assert "Submit the round before locking it" in text_of(response)
    round_a.refresh_from_db()
    assert round_a.status == RoundStatus.DRAFT


def test_commissioner_changes_the_date_and_notes_of_a_draft_only(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    client = client_for(commissioner_a)
    url = reverse("assessment:round-edit", kwargs=round_kwargs(round_a))
    client.post(url, {**form_data(client.get(url).content), **date_post(5, 4, 2026, notes="Moved to April")})
    round_a.refresh_from_db()
    assert (round_a.held_on, round_a.notes) == (datetime.date(2026, 4, 5), "Moved to April")

    page = client.get(url).content
    score_all(round_a, commissioner_a)
    round_submit(round_=round_a, user=commissioner_a, source="page", expected_version=None)
    response = client.post(url, {**form_data(page), **date_post(6, 4, 2026)})
    assert "Reopen it as a draft" in text_of(response)
    round_a.refresh_from_db()
    assert round_a.held_on == datetime.date(2026, 4, 5)


# Scoring --------------------------------------------------------------------------


def test_the_scoring_page_shows_each_item_with_its_descriptors_and_evidence_field(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    response = client_for(commissioner_a).get(score_url(round_a, "system"))
    html = response.content.decode()
    page = text_of(response)
    assert "Commissioning and interagency work" in page
    assert "0 of 24 scored" in page
    assert page.index("Common Language") < page.index("Needs-Led") < page.index("Accessibility")
    assert "3 – THRIVE-like" in page
    assert "Not yet scored" in page
    common_language = item(round_a, "system-common-language")
    assert common_language.descriptor(1) in page
    # A measure: a number input with the unit beside it; a description: a text area.
    assert 'name="system-common-language-evidence_value"' in html
    assert '<div class="govuk-input__suffix" aria-hidden="true">% of services</div>' in html
    assert 'name="system-needs-led-evidence_value"' not in html
    assert 'name="system-needs-led-evidence_text"' in html
    assert page.count("Agreed score for") == 8


def test_a_save_without_javascript_redirects_back_to_the_item(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    client = client_for(commissioner_a)
    response = client.post(item_url(round_a), score_post(2, evidence_value="35", evidence_text="Specs reviewed"))
    assert response.status_code == 302
    assert response.url == score_url(round_a) + "?saved=system-common-language#item-system-common-language"
    agreed = AgreedScore.objects.get(round=round_a)
    assert (agreed.score, agreed.evidence_value, agreed.evidence_text, agreed.version) == (2, 35, "Specs reviewed", 1)
    page = text_of(client.get(response.url))
    assert "Your changes were saved" in page
    assert "1 of 24 scored" in page


def test_a_save_with_htmx_returns_the_item_and_the_new_progress(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    response = client_for(commissioner_a).post(item_url(round_a), score_post(4, evidence_value="80"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section class="app-score-item" id="item-system-common-language"')
    assert 'role="status"' in html
    assert "Saved. The agreed score of Common Language is 4 – Fully THRIVE-like." in text_of(response)
    assert re.search(r'id="round-progress" hx-swap-oob="true"><strong>1 of 24 scored', html)
    assert 'name="system-common-language-version" value="1"' in html
    assert AgreedScore.objects.get(round=round_a).score == 4


def test_an_invalid_measure_is_refused_with_a_message_by_the_field(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    client = client_for(commissioner_a)
    response = client.post(item_url(round_a), score_post(3, evidence_value="about half"), **HTMX)
    assert "Measure must be a number, like 45" in text_of(response)
    assert 'href="#id_system-common-language-evidence_value"' in response.content.decode()
    response = client.post(item_url(round_a), score_post(3, evidence_value="about half"))
    assert response.status_code == 200
    assert text_of(response).startswith("Error:")
    assert not AgreedScore.objects.exists()


def test_a_stale_save_is_refused_showing_what_the_colleague_saved_and_keeping_what_i_typed(
    client_for: Any, commissioner_a: User, site_a: Site, round_a: Round
) -> None:
    colleague = UserFactory(username="colleague", first_name="Priya", last_name="Shah")
    MembershipFactory(user=colleague, site=site_a, role=Role.COMMISSIONER)
    first, second = client_for(commissioner_a), client_for(colleague)
    for client in (first, second):
        assert 'name="system-common-language-version" value="0"' in client.get(score_url(round_a)).content.decode()

    assert second.post(item_url(round_a), score_post(2, notes="Priya's view")).status_code == 302
    response = first.post(item_url(round_a), score_post(4, notes="Mine"), **HTMX)

    page = text_of(response)
    html = response.content.decode()
    assert "Priya Shah changed this agreed score at" in page
    assert "Your changes were not saved" in page
    # What they saved beside what I entered, field by field.
    assert "Agreed score 2 – Some improvement required 4 – Fully THRIVE-like" in page
    assert "Notes Priya's view Mine" in page
    # The form keeps what I typed, with the newer version, so saving again is deliberate.
    assert re.search(r'value="4" checked', html)
    assert ">Mine</textarea>" in html
    assert 'name="system-common-language-version" value="1"' in html
    agreed = AgreedScore.objects.get(round=round_a)
    assert (agreed.score, agreed.notes, agreed.version, agreed.updated_by) == (2, "Priya's view", 1, colleague)

    assert first.post(item_url(round_a), score_post(4, version=1)).status_code == 302
    assert AgreedScore.objects.get(round=round_a).score == 4


def test_a_locked_round_refuses_a_scoring_post_and_shows_why(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    score_all(round_a, commissioner_a, 3)
    round_submit(round_=round_a, user=commissioner_a, source="page", expected_version=None)
    round_lock(round_=round_a, user=commissioner_a, source="page", expected_version=None)
    client = client_for(commissioner_a)
    for extra in ({}, HTMX):
        response = client.post(item_url(round_a), score_post(1, version=1), **extra)
        assert "This round is locked. Its scores can no longer change." in text_of(response)
        response = client.post(item_url(round_a, name="round-rating-save"), rating_post("Late", 1), **extra)
        assert "This round is locked" in text_of(response)
    assert set(AgreedScore.objects.values_list("score", flat=True)) == {3}
    assert not Rating.objects.exists()
    page = client.get(score_url(round_a))
    assert "hx-post" not in page.content.decode()
    assert "This round is locked" in text_of(page)


def test_a_submitted_round_is_read_only_with_a_banner_saying_how_to_change_it(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    score_all(round_a, commissioner_a, 3)
    round_submit(round_=round_a, user=commissioner_a, source="page", expected_version=None)
    response = client_for(commissioner_a).get(score_url(round_a))
    assert "hx-post" not in response.content.decode()
    assert "This round has been submitted" in text_of(response)
    assert "reopen the round as a draft" in text_of(response)
    response = client_for(commissioner_a).post(item_url(round_a), score_post(1, version=1))
    assert "Reopen it as a draft to change its scores" in text_of(response)
    assert AgreedScore.objects.filter(score=1).count() == 0


def test_participants_ratings_are_added_changed_and_removed_with_the_spread_shown(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    client = client_for(commissioner_a)
    url = item_url(round_a, name="round-rating-save")
    assert client.post(url, rating_post("CAMHS lead", 2)).status_code == 302
    response = client.post(url, rating_post("School lead", 4), **HTMX)
    page = text_of(response)
    assert "CAMHS lead: 2" in page
    assert "School lead: 4" in page
    assert "Spread: 2–4" in page
    assert "Score 1 2 3 4 People 0 1 0 1" in page

    client.post(url, {**form_on_page(client, round_a, url), **rating_post("camhs lead", 3)}, **HTMX)
    assert sorted(Rating.objects.values_list("participant", "score")) == [("CAMHS lead", 3), ("School lead", 4)]

    response = client.post(url, rating_post("", 9), **HTMX)
    assert "Enter the name or role of the person giving this rating" in text_of(response)
    assert "Choose a score from 1 to 4" in text_of(response)

    remove = remove_url(Rating.objects.get(participant="School lead"))
    response = client.post(remove, form_on_page(client, round_a, remove), **HTMX)
    assert "Removed School lead's rating of Common Language" in text_of(response)
    assert "Spread: all 3" in text_of(response)
    assert list(Rating.objects.values_list("participant", flat=True)) == ["CAMHS lead"]


def test_a_rating_of_another_round_cannot_be_removed_through_this_one(
    client_for: Any, commissioner_a: User, commissioner_b: User, site_b: Site, round_a: Round
) -> None:
    round_b = round_create(site=site_b, user=commissioner_b, held_on=HELD_ON, source="page")
    other = rating_save(
        round_=round_b,
        item=item(round_b, "system-common-language"),
        user=commissioner_b,
        participant="B",
        score=1,
        source="page",
        seen=None,
    )
    remove = reverse(
        "assessment:round-rating-remove",
        kwargs={
            **round_kwargs(round_a),
            "part_code": "system",
            "item_code": "system-common-language",
            "rating_id": other.public_id,
        },
    )
    assert client_for(commissioner_a).post(remove).status_code == 404
    assert Rating.objects.filter(pk=other.pk).exists()


def test_an_unknown_part_or_item_is_not_found(client_for: Any, commissioner_a: User, round_a: Round) -> None:
    client = client_for(commissioner_a)
    assert client.get(score_url(round_a, "nowhere")).status_code == 404
    url = reverse(
        "assessment:round-score-item",
        kwargs={**round_kwargs(round_a), "part_code": "system", "item_code": "service-needs-led"},
    )
    assert client.post(url, score_post(2, code="service-needs-led")).status_code == 404


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_scoring_and_results_pages_do_not_query_once_per_item(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    client = client_for(commissioner_a)
    results_url = reverse("assessment:round-results", kwargs=round_kwargs(round_a))
    empty = (_queries(client, score_url(round_a)), _queries(client, results_url))
    score_all(round_a, commissioner_a, 2)
    for one in Item.objects.filter(instrument=round_a.instrument):
        for name, value in (("A", 1), ("B", 3)):
            rating_save(
                round_=round_a, item=one, user=commissioner_a, participant=name, score=value, source="page", seen=None
            )
    assert (_queries(client, score_url(round_a)), _queries(client, results_url)) == empty


# Results and comparison -----------------------------------------------------------


def test_results_show_the_heatmap_means_and_items_below_the_threshold(
    client_for: Any, commissioner_a: User, round_a: Round
) -> None:
    score_all(round_a, commissioner_a, 3, system_needs_led=4)
    score(round_a, commissioner_a, "system-common-language", 1, evidence_value=12, evidence_text="Two specs")
    score(round_a, commissioner_a, "service-accessibility", 2, evidence_text="Long waits")
    score(round_a, commissioner_a, "individual-accessibility", None)
    response = client_for(commissioner_a).get(reverse("assessment:round-results", kwargs=round_kwargs(round_a)))
    page = text_of(response)
    assert "3 or more is THRIVE-like" in page
    assert "1 – below" in page
    assert "2 – below" in page
    # Common Language: (1 + 3 + 3) / 3; Accessibility: (3 + 2) / 2 of 3 scored.
    assert "Common Language 1 – below 3 3 2.33 Not yet" in page
    assert "Accessibility 3 2 – below Not scored 2.50 Not yet 2 of 3 scored" in page
    # System: (1 + 4 + 3 × 6) / 8 = 2.875; Services: (2 + 3 × 7) / 8; Individual: 3 × 7 / 7.
    # Overall: (1 + 4 + 2 + 3 × 20) / 23 = 2.913...
    assert (
        "Mean of the part 2.88 Not yet 2.88 Not yet 3.00 THRIVE-like 7 of 8 scored Overall mean: 2.91 Not yet" in page
    )
    below = page[page.index("Items below the threshold") :]
    assert below.index("Common Language – Commissioning") < below.index("Accessibility – The services")
    assert "Evidence: 12 % of services – Two specs" in below
    assert "Not yet scored Accessibility – Individual interactions" in page


def test_the_comparison_shows_the_change_from_the_baseline(
    client_for: Any, commissioner_a: User, site_a: Site, round_a: Round
) -> None:
    client = client_for(commissioner_a)
    url = reverse("assessment:round-compare", kwargs={"site_slug": site_a.slug})
    assert "Nothing to compare yet" in text_of(client.get(url))

    score_all(round_a, commissioner_a, 2)
    round_submit(round_=round_a, user=commissioner_a, source="page", expected_version=None)
    follow_up = round_create(site=site_a, user=commissioner_a, held_on=datetime.date(2026, 9, 1), source="page")
    score_all(follow_up, commissioner_a, 3, system_common_language=1)
    round_submit(round_=follow_up, user=commissioner_a, source="page", expected_version=None)

    response = client.get(url)
    page = text_of(response)
    assert "Baseline (1 March 2026) against follow-up 1 (1 September 2026)" in page
    # Common Language: 2.00 → (1 + 3 + 3) / 3 = 2.33; overall 2.00 → (1 + 3 × 23) / 24 = 2.92.
    assert "Common Language 2.00 2.33 ▲ +0.33 improved" in page
    assert "Needs-Led 2.00 3.00 ▲ +1.00 improved" in page
    assert "Overall mean 2.00 → 2.92: ▲ +0.92 improved" in page
    assert "Common Language – Commissioning and interagency work 2 1 ▼ −1 worse" in page
    html = response.content.decode()
    assert '<svg class="app-compare-chart"' in html
    assert "Common Language: 2.00 at baseline, 2.33 at follow-up 1." in page


# Instrument versions --------------------------------------------------------------


def _upload(data: dict[str, Any]) -> SimpleUploadedFile:
    return SimpleUploadedFile("tool.json", json.dumps(data).encode(), content_type="application/json")


def test_staff_load_a_second_version_without_touching_rounds_on_the_first(
    client_for: Any, staff: User, commissioner_a: User, site_a: Site, round_a: Round, instrument: Instrument
) -> None:
    score(round_a, commissioner_a, "system-common-language", 2, evidence_text="Before")
    data = read_instrument_file(DEFAULT_INSTRUMENT)
    data.update(version="official-2027", name="THRIVE Assessment Tool", is_draft=False)
    data["items"][0]["description"] = "Official wording of the first item."

    response = client_for(staff).post(reverse("instruments:instrument-load"), {"file": _upload(data)})
    second = Instrument.objects.get(version="official-2027")
    assert response.url == reverse("instruments:instrument-detail", kwargs={"version": "official-2027"})
    assert second.loaded_by == staff
    assert "Official wording of the first item." in text_of(client_for(staff).get(response.url))

    round_a.refresh_from_db()
    assert round_a.instrument == instrument
    first_item = item(round_a, "system-common-language")
    assert first_item.description != "Official wording of the first item."
    assert AgreedScore.objects.get(round=round_a).item == first_item
    page = text_of(client_for(commissioner_a).get(score_url(round_a)))
    assert first_item.description in page
    assert "Official wording" not in page

    score_all(round_a, commissioner_a)
    round_submit(round_=round_a, user=commissioner_a, source="page", expected_version=None)
    follow_up = round_create(site=site_a, user=commissioner_a, held_on=datetime.date(2026, 9, 1), source="page")
    assert follow_up.instrument == second
    listing = text_of(client_for(commissioner_a).get(reverse("instruments:instrument-list")))
    assert "official-2027 Used for new rounds" in listing


def test_an_invalid_instrument_file_lists_every_problem_and_loads_nothing(
    client_for: Any, staff: User, instrument: Instrument
) -> None:
    data = read_instrument_file(DEFAULT_INSTRUMENT)
    data["items"][0]["part"] = "nowhere"
    data["items"][1]["descriptors"] = {"1": "Only one"}
    data["items"][2]["evidence"] = {"type": "anecdote"}
    client = client_for(staff)

    response = client.post(reverse("instruments:instrument-load"), {"file": _upload(data)})
    page = text_of(response)
    assert page.startswith("Error:")
    assert f"Version {instrument.version} is already loaded" in page
    assert "Item 1 (system-common-language) names a part that is not in the file: 'nowhere'" in page
    assert "Item 2 (system-needs-led) needs a descriptor for each score from 1 to 4" in page
    assert "The evidence type of item 3 (system-shared-decision-making) must be 'quantitative'" in page
    assert Instrument.objects.count() == 1

    not_json = SimpleUploadedFile("tool.json", b"{not json", content_type="application/json")
    response = client.post(reverse("instruments:instrument-load"), {"file": not_json})
    assert "The file is not valid JSON" in text_of(response)
    response = client.post(reverse("instruments:instrument-load"), {})
    assert "Choose the instrument file to load" in text_of(response)
    assert Instrument.objects.count() == 1
