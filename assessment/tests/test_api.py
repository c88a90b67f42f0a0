"""The assessment API for every persona (the commissioner of site A, the commissioner
of site B, a site viewer of A, a programme reviewer and anonymous): instruments,
rounds, agreed scores, ratings, results and the comparison across rounds."""

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest
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
    instrument_load,
    rating_save,
    round_create,
    round_lock,
    round_submit,
)
from sites.models import Role, Site
from tests.api import send
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HELD_ON = datetime.date(2026, 3, 1)


@pytest.fixture
def instrument(db: Any) -> Instrument:
    return load_default_instrument()


@pytest.fixture
def items(instrument: Instrument) -> list[Item]:
    return list(instrument.items.select_related("part", "principle").order_by("order"))


@pytest.fixture
def baseline(instrument: Instrument, site_a: Site, commissioner_a: User) -> Round:
    """A draft baseline of site A with its first item scored and rated."""
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, notes="In the town hall", source="page")
    first = instrument.items.order_by("order").first()
    assert first is not None
    agreed_score_save(
        round_=round_,
        item=first,
        user=commissioner_a,
        data=AgreedScoreInput(score=3),
        expected_version=0,
        source="page",
    )
    rating_save(
        round_=round_, item=first, user=commissioner_a, participant="CAMHS lead", score=2, source="page", seen=None
    )
    return round_


@pytest.fixture
def rating(baseline: Round) -> Rating:
    return baseline.ratings.get()


@pytest.fixture
def second_commissioner_a(site_a: Site) -> User:
    user = UserFactory(username="commissioner-a2")
    MembershipFactory(user=user, site=site_a, role=Role.COMMISSIONER)
    return user


def score_all(round_: Round, user: User, scores: dict[str, int] | None = None, default: int = 3) -> None:
    scores = scores or {}
    for item in Item.objects.filter(instrument=round_.instrument).order_by("order"):
        agreed_score_save(
            round_=round_,
            item=item,
            user=user,
            data=AgreedScoreInput(score=scores.get(item.code, default)),
            expected_version=None,
            source="page",
        )


def submitted_round(site: Site, user: User, scores: dict[str, int] | None = None, default: int = 3) -> Round:
    round_ = round_create(site=site, user=user, held_on=HELD_ON, source="page")
    score_all(round_, user, scores, default)
    return round_submit(round_=round_, user=user, source="page", expected_version=None)


def round_url(round_: Round, suffix: str = "") -> str:
    kwargs = {"site_slug": round_.site.slug, "public_id": round_.public_id}
    return reverse("api-round-detail", kwargs=kwargs) + suffix


def rounds_url(site: Site) -> str:
    return reverse("api-round-list", kwargs={"site_slug": site.slug})


def comparison_url(site: Site) -> str:
    return reverse("api-assessment-comparison", kwargs={"site_slug": site.slug})


def rating_url(rating: Rating) -> str:
    return round_url(rating.round, f"ratings/{rating.public_id}/")


def read_urls(round_: Round, rating: Rating) -> list[str]:
    return [
        rounds_url(round_.site),
        round_url(round_),
        round_url(round_, "agreed-scores/"),
        round_url(round_, "agreed-scores/system-common-language/"),
        round_url(round_, "ratings/"),
        round_url(round_, "ratings/?item=system-common-language"),
        rating_url(rating),
        round_url(round_, "results/"),
        comparison_url(round_.site),
    ]


def write_requests(round_: Round, rating: Rating) -> list[tuple[str, str, dict[str, Any]]]:
    """Every write, each with a body valid for a commissioner of a draft round."""
    return [
        ("post", rounds_url(round_.site), {"held_on": "2026-09-01"}),
        ("patch", round_url(round_), {"notes": "Changed"}),
        ("put", round_url(round_, "agreed-scores/system-needs-led/"), {"score": 4, "version": 0}),
        ("post", round_url(round_, "ratings/"), {"item": "system-needs-led", "participant": "GP", "score": 3}),
        ("put", rating_url(rating), {"score": 4}),
        ("patch", rating_url(rating), {"notes": "Changed"}),
        ("delete", rating_url(rating), {}),
        ("post", round_url(round_, "submit/"), {}),
        ("post", round_url(round_, "lock/"), {}),
        ("post", round_url(round_, "reopen/"), {}),
    ]


def assessment_snapshot(site: Site) -> dict[str, Any]:
    """Everything a write could change, to show that a refused write changed nothing."""
    return {
        "rounds": list(Round.objects.filter(site=site).order_by("pk").values()),
        "agreed": list(AgreedScore.objects.filter(round__site=site).order_by("pk").values()),
        "ratings": list(Rating.objects.filter(round__site=site).order_by("pk").values()),
    }


# Who may read what


def test_commissioner_a_can_read_every_assessment_endpoint_of_site_a(
    api_for: Any, commissioner_a: User, baseline: Round, rating: Rating
) -> None:
    client = api_for(commissioner_a)
    for url in read_urls(baseline, rating):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
def test_people_who_only_read_site_a_can_read_every_assessment_endpoint(
    request: pytest.FixtureRequest, api_for: Any, persona: str, baseline: Round, rating: Rating
) -> None:
    client = api_for(request.getfixturevalue(persona))
    for url in read_urls(baseline, rating):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
def test_people_who_only_read_site_a_get_403_on_every_assessment_write_and_nothing_changes(
    request: pytest.FixtureRequest, api_for: Any, persona: str, baseline: Round, rating: Rating
) -> None:
    client = api_for(request.getfixturevalue(persona))
    before = assessment_snapshot(baseline.site)
    for method, url, body in write_requests(baseline, rating):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url)
    assert response.json() == {"detail": "Only commissioners of this site can run and score its assessment rounds."}
    assert assessment_snapshot(baseline.site) == before


def test_commissioner_b_gets_404_for_every_assessment_endpoint_of_site_a_and_nothing_changes(
    api_for: Any, commissioner_b: User, baseline: Round, rating: Rating
) -> None:
    client = api_for(commissioner_b)
    for url in read_urls(baseline, rating):
        assert client.get(url).status_code == 404, url
    before = assessment_snapshot(baseline.site)
    for method, url, body in write_requests(baseline, rating):
        assert getattr(client, method)(url, body, format="json").status_code == 404, (method, url)
    assert assessment_snapshot(baseline.site) == before


def test_commissioner_b_gets_404_for_a_site_a_round_through_the_site_b_url(
    api_for: Any, commissioner_b: User, baseline: Round, site_b: Site
) -> None:
    client = api_for(commissioner_b)
    url = reverse("api-round-detail", kwargs={"site_slug": site_b.slug, "public_id": baseline.public_id})
    assert client.get(url).status_code == 404
    assert client.get(f"{url}agreed-scores/").status_code == 404
    assert client.put(f"{url}agreed-scores/system-needs-led/", {"score": 1, "version": 0}).status_code == 404
    assert client.post(f"{url}submit/").status_code == 404
    assert not AgreedScore.objects.filter(round=baseline, item__code="system-needs-led").exists()


def test_anonymous_gets_401_on_every_assessment_endpoint_and_nothing_changes(
    api_for: Any, baseline: Round, rating: Rating, instrument: Instrument
) -> None:
    client = api_for(None)
    instrument_urls = [
        reverse("api-instrument-list"),
        reverse("api-instrument-detail", kwargs={"version": instrument.version}),
    ]
    for url in [*instrument_urls, *read_urls(baseline, rating)]:
        assert client.get(url).status_code == 401, url
    before = assessment_snapshot(baseline.site)
    for method, url, body in write_requests(baseline, rating):
        assert getattr(client, method)(url, body, format="json").status_code == 401, (method, url)
    assert assessment_snapshot(baseline.site) == before


@pytest.mark.parametrize("persona", ["commissioner_a", "commissioner_b", "viewer_a", "reviewer"])
def test_every_signed_in_user_can_read_the_instruments(
    request: pytest.FixtureRequest, api_for: Any, persona: str, instrument: Instrument
) -> None:
    client = api_for(request.getfixturevalue(persona))
    assert client.get(reverse("api-instrument-list")).status_code == 200
    assert client.get(reverse("api-instrument-detail", kwargs={"version": instrument.version})).status_code == 200


def test_commissioner_a_can_make_every_assessment_write_to_site_a(
    api_for: Any, commissioner_a: User, baseline: Round, rating: Rating
) -> None:
    client = api_for(commissioner_a)
    assert send(client, "patch", round_url(baseline), {"notes": "Changed"}).status_code == 200
    url = round_url(baseline, "agreed-scores/system-needs-led/")
    assert client.put(url, {"score": 4, "version": 0}, format="json").status_code == 200
    body = {"item": "system-needs-led", "participant": "GP", "score": 3}
    assert client.post(round_url(baseline, "ratings/"), body, format="json").status_code == 201
    assert send(client, "put", rating_url(rating), {"score": 4}).status_code == 200
    assert send(client, "patch", rating_url(rating), {"notes": "Changed"}).status_code == 200
    assert send(client, "delete", rating_url(rating)).status_code == 204
    score_all(baseline, commissioner_a)
    assert client.post(round_url(baseline, "submit/")).status_code == 200
    assert client.post(round_url(baseline, "reopen/")).status_code == 200
    assert client.post(round_url(baseline, "submit/")).status_code == 200
    assert client.post(round_url(baseline, "lock/")).status_code == 200
    assert client.post(rounds_url(baseline.site), {"held_on": "2026-09-01"}, format="json").status_code == 201
    assert list(Round.objects.filter(site=baseline.site).values_list("sequence", "status")) == [
        (0, RoundStatus.LOCKED),
        (1, RoundStatus.DRAFT),
    ]


# Instruments


def test_instruments_are_listed_with_their_scale_threshold_and_item_count(
    api_for: Any, viewer_a: User, instrument: Instrument
) -> None:
    response = api_for(viewer_a).get(reverse("api-instrument-list"))
    assert response.status_code == 200
    [listed] = response.json()
    assert listed["version"] == "draft-2026.1"
    assert listed["is_draft"] is True
    assert listed["threshold"] == 3
    assert listed["item_count"] == 24
    assert listed["scale"]["min"] == 1
    assert listed["scale"]["max"] == 4
    assert [label["score"] for label in listed["scale"]["labels"]] == [1, 2, 3, 4]
    assert listed["scale"]["labels"][2]["label"] == "THRIVE-like"


def test_an_instrument_shows_its_parts_principles_and_items(
    api_for: Any, viewer_a: User, instrument: Instrument
) -> None:
    response = api_for(viewer_a).get(reverse("api-instrument-detail", kwargs={"version": instrument.version}))
    body = response.json()
    assert [p["code"] for p in body["parts"]] == ["system", "service", "individual"]
    assert len(body["principles"]) == 8
    assert body["principles"][0]["code"] == "common-language"
    assert len(body["items"]) == 24
    first = body["items"][0]
    assert (first["code"], first["part"], first["principle"]) == ("system-common-language", "system", "common-language")
    assert [d["score"] for d in first["descriptors"]] == [1, 2, 3, 4]
    assert all(d["descriptor"] for d in first["descriptors"])
    measure = next(i for i in body["items"] if i["code"] == "service-accessibility")
    assert measure["evidence_type"] == "quantitative"
    assert measure["evidence_unit"] == "weeks"
    assert measure["evidence_prompt"]


def test_an_unknown_instrument_version_is_404(api_for: Any, viewer_a: User, instrument: Instrument) -> None:
    assert api_for(viewer_a).get(reverse("api-instrument-detail", kwargs={"version": "nope"})).status_code == 404


# Rounds


def test_commissioner_a_starts_a_baseline_on_the_current_instrument(
    api_for: Any, commissioner_a: User, site_a: Site, instrument: Instrument
) -> None:
    response = api_for(commissioner_a).post(
        rounds_url(site_a), {"held_on": "2026-03-01", "notes": "First look"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    round_ = Round.objects.get(site=site_a)
    assert body["id"] == str(round_.public_id)
    assert (body["label"], body["sequence"], body["status"]) == ("Baseline", 0, "draft")
    assert (body["held_on"], body["notes"], body["instrument"]) == ("2026-03-01", "First look", instrument.version)
    assert body["progress"] == {"scored": 0, "total": 24}
    assert body["created_by"] == "commissioner-a"
    assert round_.created_by == commissioner_a


def test_a_second_round_waits_for_the_draft_to_be_submitted(
    api_for: Any, commissioner_a: User, baseline: Round
) -> None:
    response = api_for(commissioner_a).post(rounds_url(baseline.site), {"held_on": "2026-09-01"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"held_on": ["Finish the round in progress first: submit it before starting another."]}
    assert Round.objects.filter(site=baseline.site).count() == 1


def test_a_round_on_an_unknown_instrument_version_is_400(
    api_for: Any, commissioner_a: User, site_a: Site, instrument: Instrument
) -> None:
    response = api_for(commissioner_a).post(
        rounds_url(site_a), {"held_on": "2026-03-01", "instrument": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["instrument"]
    assert not Round.objects.exists()


def test_rounds_are_listed_in_order_with_their_progress(
    api_for: Any, viewer_a: User, commissioner_a: User, site_a: Site, instrument: Instrument
) -> None:
    submitted_round(site_a, commissioner_a)
    follow_up = round_create(
        site=site_a, user=commissioner_a, held_on=HELD_ON + datetime.timedelta(days=180), source="page"
    )
    first = instrument.items.order_by("order").first()
    assert first is not None
    agreed_score_save(
        round_=follow_up,
        item=first,
        user=commissioner_a,
        data=AgreedScoreInput(score=2),
        expected_version=0,
        source="page",
    )
    body = api_for(viewer_a).get(rounds_url(site_a)).json()
    assert (body["count"], body["next"]) == (2, None)
    assert [(r["label"], r["status"], r["progress"]) for r in body["results"]] == [
        ("Baseline", "submitted", {"scored": 24, "total": 24}),
        ("Follow-up 1", "draft", {"scored": 1, "total": 24}),
    ]
    assert body["results"][0]["submitted_by"] == "commissioner-a"


def test_a_draft_rounds_date_and_notes_change_with_patch(api_for: Any, commissioner_a: User, baseline: Round) -> None:
    client = api_for(commissioner_a)
    response = send(client, "patch", round_url(baseline), {"held_on": "2026-03-08"})
    assert response.status_code == 200
    assert (response.json()["held_on"], response.json()["notes"]) == ("2026-03-08", "In the town hall")
    response = send(client, "patch", round_url(baseline), {"notes": " Moved to the library "})
    assert response.json()["notes"] == "Moved to the library"
    baseline.refresh_from_db()
    assert (baseline.held_on, baseline.notes) == (datetime.date(2026, 3, 8), "Moved to the library")


def test_an_unknown_round_is_404(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    url = reverse("api-round-detail", kwargs={"site_slug": site_a.slug, "public_id": uuid.uuid4()})
    assert api_for(commissioner_a).get(url).status_code == 404


# Submission and locking


def test_submitting_with_items_not_scored_is_400_naming_them_and_the_round_stays_a_draft(
    api_for: Any, commissioner_a: User, baseline: Round, items: list[Item]
) -> None:
    score_all(baseline, commissioner_a)
    for item in items[-2:]:
        agreed_score_save(
            round_=baseline,
            item=item,
            user=commissioner_a,
            data=AgreedScoreInput(score=None),
            expected_version=None,
            source="page",
        )
    response = api_for(commissioner_a).post(round_url(baseline, "submit/"))
    assert response.status_code == 400
    [message] = response.json()["non_field_errors"]
    assert "2 not yet scored" in message
    for item in items[-2:]:
        assert f"{item.principle.label} ({item.part.short_label})" in message
    baseline.refresh_from_db()
    assert baseline.status == RoundStatus.DRAFT


def test_a_fully_scored_round_is_submitted_then_locked(api_for: Any, commissioner_a: User, baseline: Round) -> None:
    score_all(baseline, commissioner_a)
    client = api_for(commissioner_a)
    response = client.post(round_url(baseline, "submit/"))
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    assert response.json()["progress"] == {"scored": 24, "total": 24}
    response = client.post(round_url(baseline, "lock/"))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["locked_by"]) == ("locked", "commissioner-a")


def test_submitting_twice_is_409_because_the_round_is_submitted(
    api_for: Any, commissioner_a: User, baseline: Round
) -> None:
    score_all(baseline, commissioner_a)
    client = api_for(commissioner_a)
    assert client.post(round_url(baseline, "submit/")).status_code == 200
    response = client.post(round_url(baseline, "submit/"))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This round has been submitted. Reopen it as a draft to change its scores.",
        "code": "submitted",
    }


def test_a_draft_cannot_be_locked(api_for: Any, commissioner_a: User, baseline: Round) -> None:
    response = api_for(commissioner_a).post(round_url(baseline, "lock/"))
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Submit the round before locking it."]}
    baseline.refresh_from_db()
    assert baseline.status == RoundStatus.DRAFT


def test_a_submitted_round_refuses_changes_with_409_until_reopened(
    api_for: Any, commissioner_a: User, baseline: Round
) -> None:
    score_all(baseline, commissioner_a)
    round_submit(round_=baseline, user=commissioner_a, source="page", expected_version=None)
    client = api_for(commissioner_a)
    url = round_url(baseline, "agreed-scores/system-needs-led/")
    response = client.put(url, {"score": 1, "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "submitted"
    reopened = client.post(round_url(baseline, "reopen/")).json()
    assert (reopened["status"], reopened["submitted_at"], reopened["submitted_by"]) == ("draft", None, None)
    assert client.put(url, {"score": 1, "version": 1}, format="json").status_code == 200


@pytest.fixture
def locked(baseline: Round, commissioner_a: User) -> Round:
    score_all(baseline, commissioner_a)
    round_submit(round_=baseline, user=commissioner_a, source="page", expected_version=None)
    return round_lock(round_=baseline, user=commissioner_a, source="page", expected_version=None)


def test_a_locked_round_refuses_every_change_with_409_and_nothing_changes(
    api_for: Any, commissioner_a: User, locked: Round, rating: Rating
) -> None:
    client = api_for(commissioner_a)
    before = assessment_snapshot(locked.site)
    refused = [
        ("patch", round_url(locked), {"notes": "Changed"}),
        ("put", round_url(locked, "agreed-scores/system-needs-led/"), {"score": 1, "version": 1}),
        ("post", round_url(locked, "ratings/"), {"item": "system-needs-led", "participant": "GP", "score": 3}),
        ("put", rating_url(rating), {"score": 4}),
        ("patch", rating_url(rating), {"notes": "Changed"}),
        ("delete", rating_url(rating), {}),
        ("post", round_url(locked, "reopen/"), {}),
        ("post", round_url(locked, "submit/"), {}),
    ]
    for method, url, body in refused:
        response = send(client, method, url, body)
        assert response.status_code == 409, (method, url)
        assert response.json()["code"] == "locked", (method, url)
        assert "locked" in response.json()["detail"]
    assert assessment_snapshot(locked.site) == before


def test_locking_a_locked_round_again_changes_nothing(api_for: Any, commissioner_a: User, locked: Round) -> None:
    response = api_for(commissioner_a).post(round_url(locked, "lock/"))
    assert response.status_code == 200
    assert response.json()["status"] == "locked"


# Agreed scores


def test_agreed_scores_list_every_item_with_its_score_or_null_and_version(
    api_for: Any, viewer_a: User, baseline: Round, items: list[Item]
) -> None:
    body = api_for(viewer_a).get(round_url(baseline, "agreed-scores/")).json()
    assert [row["item"] for row in body] == [item.code for item in items]
    assert body[0] == {
        "item": "system-common-language",
        "part": "system",
        "principle": "common-language",
        "score": 3,
        "evidence_value": None,
        "evidence_text": "",
        "notes": "",
        "version": 1,
        "updated_by": "commissioner-a",
        "updated_at": body[0]["updated_at"],
    }
    assert body[0]["updated_at"] is not None
    assert (body[1]["score"], body[1]["version"], body[1]["updated_by"], body[1]["updated_at"]) == (None, 0, None, None)


def test_commissioner_a_saves_an_agreed_score_with_a_figure_as_evidence(
    api_for: Any, commissioner_a: User, baseline: Round
) -> None:
    client = api_for(commissioner_a)
    url = round_url(baseline, "agreed-scores/service-accessibility/")
    assert client.get(url).json()["version"] == 0
    body = {"score": 2, "evidence_value": "12.5", "evidence_text": " From the audit ", "notes": "", "version": 0}
    response = client.put(url, body, format="json")
    assert response.status_code == 200
    assert response.json()["evidence_value"] == "12.50"
    assert (response.json()["score"], response.json()["version"]) == (2, 1)
    agreed = AgreedScore.objects.get(round=baseline, item__code="service-accessibility")
    assert (agreed.score, agreed.evidence_value, agreed.evidence_text) == (2, Decimal("12.50"), "From the audit")
    assert agreed.updated_by == commissioner_a
    assert client.get(url).json() == response.json()


def test_an_agreed_score_can_be_cleared_back_to_not_yet_scored(
    api_for: Any, commissioner_a: User, baseline: Round
) -> None:
    url = round_url(baseline, "agreed-scores/system-common-language/")
    response = api_for(commissioner_a).put(url, {"score": None, "version": 1}, format="json")
    assert response.status_code == 200
    assert (response.json()["score"], response.json()["version"]) == (None, 2)


@pytest.mark.parametrize(
    ("item_code", "body", "errors"),
    [
        ("system-needs-led", {"score": 5, "version": 0}, {"score": ["Choose a score from 1 to 4."]}),
        ("system-needs-led", {"score": 0, "version": 0}, {"score": ["Choose a score from 1 to 4."]}),
        (
            "system-needs-led",
            {"score": 3, "evidence_value": "4", "version": 0},
            {"evidence_value": ["This item's evidence is a description, not a figure."]},
        ),
    ],
)
def test_an_invalid_agreed_score_is_400_on_its_field_and_nothing_is_saved(
    api_for: Any, commissioner_a: User, baseline: Round, item_code: str, body: dict[str, Any], errors: Any
) -> None:
    before = assessment_snapshot(baseline.site)
    response = api_for(commissioner_a).put(round_url(baseline, f"agreed-scores/{item_code}/"), body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert assessment_snapshot(baseline.site) == before


def test_an_unknown_item_code_is_404(api_for: Any, commissioner_a: User, baseline: Round) -> None:
    client = api_for(commissioner_a)
    url = round_url(baseline, "agreed-scores/no-such-item/")
    assert client.get(url).status_code == 404
    assert client.put(url, {"score": 3, "version": 0}, format="json").status_code == 404


def test_two_commissioners_saving_one_item_by_body_version_the_later_stale_save_is_412_with_the_newer_value(
    api_for: Any, commissioner_a: User, second_commissioner_a: User, baseline: Round
) -> None:
    first, second = api_for(commissioner_a), api_for(second_commissioner_a)
    url = round_url(baseline, "agreed-scores/system-needs-led/")
    # Both open the item while it is unscored.
    assert first.get(url).json()["version"] == 0
    assert second.get(url).json()["version"] == 0
    response = first.put(url, {"score": 4, "evidence_text": "Shared plan", "version": 0}, format="json")
    assert response.status_code == 200
    before = assessment_snapshot(baseline.site)

    response = second.put(url, {"score": 1, "version": 0}, format="json")

    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "stale"
    assert "changed this agreed score" in body["detail"]
    assert "Your changes were not saved" in body["detail"]
    assert response["ETag"] == '"1"'
    current = body["current"]
    assert (current["score"], current["evidence_text"], current["version"], current["updated_by"]) == (
        4,
        "Shared plan",
        1,
        "commissioner-a",
    )
    assert current["updated_at"] is not None
    assert assessment_snapshot(baseline.site) == before

    response = second.put(url, {"score": 1, "version": current["version"]}, format="json")
    assert response.status_code == 200
    assert (response.json()["score"], response.json()["version"], response.json()["updated_by"]) == (
        1,
        2,
        "commissioner-a2",
    )


# Ratings


def test_a_rating_is_created_once_per_participant_and_a_second_post_is_409_with_the_existing_rating(
    api_for: Any, commissioner_a: User, baseline: Round
) -> None:
    client = api_for(commissioner_a)
    url = round_url(baseline, "ratings/")
    response = client.post(url, {"item": "system-needs-led", "participant": "School lead", "score": 4}, format="json")
    assert response.status_code == 201
    created = response.json()
    assert (created["item"], created["participant"], created["score"], created["version"]) == (
        "system-needs-led",
        "School lead",
        4,
        1,
    )
    assert created["recorded_by"] == "commissioner-a"
    rating = Rating.objects.get(public_id=created["id"])
    assert response["Location"] == f"http://testserver{rating_url(rating)}"
    assert response["ETag"] == '"1"'

    body = {"item": "system-needs-led", "participant": " school LEAD ", "score": 2, "notes": "On reflection"}
    response = client.post(url, body, format="json")

    assert response.status_code == 409
    refusal = response.json()
    assert refusal["code"] == "exists"
    assert refusal["detail"].startswith("School lead has already rated this item.")
    assert "PUT or PATCH" in refusal["detail"]
    assert "If-Match" in refusal["detail"]
    assert refusal["current"] == created
    assert refusal["url"] == f"http://testserver{rating_url(rating)}"
    ratings = Rating.objects.filter(round=baseline, item__code="system-needs-led")
    assert list(ratings.values_list("participant", "score", "notes", "version")) == [("School lead", 4, "", 1)]

    # Changing it is a deliberate change of the rating read, at its URL.
    changed = client.patch(refusal["url"], {"score": 2}, format="json", HTTP_IF_MATCH=response["ETag"])
    assert (changed.status_code, changed.json()["score"], changed["ETag"]) == (200, 2, '"2"')


def test_ratings_list_shows_the_spread_and_filters_by_item(
    api_for: Any, viewer_a: User, commissioner_a: User, baseline: Round, items: list[Item]
) -> None:
    rating_save(
        round_=baseline,
        item=items[0],
        user=commissioner_a,
        participant="Social care",
        score=4,
        source="page",
        seen=None,
    )
    rating_save(
        round_=baseline, item=items[1], user=commissioner_a, participant="GP", score=1, source="page", seen=None
    )
    client = api_for(viewer_a)
    body = client.get(round_url(baseline, "ratings/")).json()
    assert body["count"] == 3
    assert [(r["item"], r["participant"], r["score"]) for r in body["results"]] == [
        ("system-common-language", "CAMHS lead", 2),
        ("system-common-language", "Social care", 4),
        ("system-needs-led", "GP", 1),
    ]
    body = client.get(round_url(baseline, "ratings/"), {"item": "system-needs-led"}).json()
    assert [(r["item"], r["participant"]) for r in body["results"]] == [("system-needs-led", "GP")]
    response = client.get(round_url(baseline, "ratings/"), {"item": "no-such-item"})
    assert response.status_code == 400
    assert list(response.json()) == ["item"]


def test_a_rating_is_changed_with_put_and_patch_and_deleted(api_for: Any, commissioner_a: User, rating: Rating) -> None:
    client = api_for(commissioner_a)
    response = send(client, "put", rating_url(rating), {"score": 3, "notes": "Agreed after discussion"})
    assert response.status_code == 200
    assert (response.json()["score"], response.json()["notes"], response.json()["version"]) == (
        3,
        "Agreed after discussion",
        2,
    )
    response = send(client, "patch", rating_url(rating), {"notes": "Kept"})
    assert (response.json()["score"], response.json()["notes"]) == (3, "Kept")
    assert send(client, "put", rating_url(rating), {"notes": "No score"}).status_code == 400
    assert client.get(rating_url(rating)).json()["participant"] == "CAMHS lead"
    assert send(client, "delete", rating_url(rating)).status_code == 204
    assert client.get(rating_url(rating)).status_code == 404
    assert not Rating.objects.filter(pk=rating.pk).exists()


def test_a_stale_rating_change_is_412_with_the_newer_rating(
    api_for: Any, commissioner_a: User, second_commissioner_a: User, rating: Rating
) -> None:
    first, second = api_for(commissioner_a), api_for(second_commissioner_a)
    read_by_first, read_by_second = first.get(rating_url(rating))["ETag"], second.get(rating_url(rating))["ETag"]
    assert first.patch(rating_url(rating), {"score": 4}, format="json", HTTP_IF_MATCH=read_by_first).status_code == 200
    response = second.patch(rating_url(rating), {"score": 1}, format="json", HTTP_IF_MATCH=read_by_second)
    assert response.status_code == 412
    assert response.json()["code"] == "stale"
    assert "changed this rating" in response.json()["detail"]
    assert (response.json()["current"]["score"], response.json()["current"]["version"]) == (4, 2)
    assert response["ETag"] == '"2"'
    rating.refresh_from_db()
    assert (rating.score, rating.version) == (4, 2)


def test_a_rating_with_a_score_off_the_scale_is_400(api_for: Any, commissioner_a: User, baseline: Round) -> None:
    body = {"item": "system-needs-led", "participant": "GP", "score": 5}
    response = api_for(commissioner_a).post(round_url(baseline, "ratings/"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"score": ["Choose a score from 1 to 4."]}
    assert baseline.ratings.count() == 1


def test_a_rating_of_another_round_is_404_through_this_rounds_url(
    api_for: Any, commissioner_a: User, commissioner_b: User, baseline: Round, site_b: Site, instrument: Instrument
) -> None:
    round_b = round_create(site=site_b, user=commissioner_b, held_on=HELD_ON, source="page")
    item = instrument.items.order_by("order").first()
    assert item is not None
    rating_b = rating_save(
        round_=round_b, item=item, user=commissioner_b, participant="GP", score=1, source="page", seen=None
    )
    url = round_url(baseline, f"ratings/{rating_b.public_id}/")
    client = api_for(commissioner_a)
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    assert Rating.objects.filter(pk=rating_b.pk).exists()


# Instrument versions


@pytest.fixture
def second_version(instrument: Instrument, commissioner_a: User) -> Instrument:
    data = read_instrument_file(DEFAULT_INSTRUMENT)
    data["version"] = "official-2027"
    data["name"] = "THRIVE Assessment Tool"
    data["is_draft"] = False
    data["items"][0]["code"] = "system-shared-language"
    data["items"][0]["description"] = "Official wording of the first item."
    return instrument_load(data=data, user=commissioner_a)


def test_a_round_keeps_its_items_after_a_new_version_is_loaded(
    api_for: Any, commissioner_a: User, baseline: Round, items: list[Item], second_version: Instrument
) -> None:
    client = api_for(commissioner_a)
    assert client.get(round_url(baseline)).json()["instrument"] == "draft-2026.1"
    body = client.get(round_url(baseline, "agreed-scores/")).json()
    assert [row["item"] for row in body] == [item.code for item in items]
    assert body[0]["score"] == 3
    # An item only in the new version is not part of this round.
    url = round_url(baseline, "agreed-scores/system-shared-language/")
    assert client.put(url, {"score": 2, "version": 0}, format="json").status_code == 404
    response = client.post(
        round_url(baseline, "ratings/"),
        {"item": "system-shared-language", "participant": "GP", "score": 2},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"item": ["Choose an item of the version of the tool this round is scored on."]}
    detail = client.get(reverse("api-instrument-detail", kwargs={"version": "draft-2026.1"})).json()
    assert detail["items"][0]["description"] != "Official wording of the first item."
    assert [i["version"] for i in client.get(reverse("api-instrument-list")).json()] == [
        "official-2027",
        "draft-2026.1",
    ]


def test_a_new_round_uses_the_newest_version_unless_told_otherwise(
    api_for: Any, commissioner_a: User, site_a: Site, second_version: Instrument
) -> None:
    client = api_for(commissioner_a)
    response = client.post(rounds_url(site_a), {"held_on": "2026-03-01"}, format="json")
    assert response.json()["instrument"] == "official-2027"
    assert client.get(round_url(Round.objects.get(), "agreed-scores/")).json()[0]["item"] == "system-shared-language"
    score_all(Round.objects.get(), commissioner_a)
    client.post(round_url(Round.objects.get(), "submit/"))
    response = client.post(rounds_url(site_a), {"held_on": "2026-09-01", "instrument": "draft-2026.1"}, format="json")
    assert response.status_code == 201
    assert response.json()["instrument"] == "draft-2026.1"


# Results


def test_round_results_match_hand_computed_figures(
    api_for: Any, viewer_a: User, commissioner_a: User, site_a: Site, items: list[Item]
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    # System items all 4; service items all 2; individual items 3 for the first four
    # principles, 1 for the next three, and the last left unscored.
    scores: dict[str, int | None] = {}
    for item in items:
        if item.part.code == "system":
            scores[item.code] = 4
        elif item.part.code == "service":
            scores[item.code] = 2
        else:
            scores[item.code] = [3, 3, 3, 3, 1, 1, 1, None][item.principle.order - 1]
    for item in items:
        value = Decimal("12.5") if item.code == "service-accessibility" else None
        agreed_score_save(
            round_=round_,
            item=item,
            user=commissioner_a,
            data=AgreedScoreInput(score=scores[item.code], evidence_value=value, evidence_text="Seen in the audit"),
            expected_version=None,
            source="page",
        )

    response = api_for(viewer_a).get(round_url(round_, "results/"))

    assert response.status_code == 200
    body = response.json()
    assert body["threshold"] == 3
    principles = {p["code"]: p for p in body["principles"]}
    # First four principles: (4 + 2 + 3) / 3 = 3.00, exactly the threshold, so THRIVE-like.
    assert principles["common-language"] == {
        "code": "common-language",
        "label": "Common Language",
        "mean": "3.00",
        "scored": 3,
        "total": 3,
        "thrive_like": True,
    }
    # Next three: (4 + 2 + 1) / 3 = 2.333... -> 2.33; the last: (4 + 2) / 2 = 3.00 of 2 scored.
    means = [(p["mean"], p["scored"], p["thrive_like"]) for p in body["principles"]]
    assert means == [("3.00", 3, True)] * 4 + [("2.33", 3, False)] * 3 + [("3.00", 2, True)]
    parts = {p["code"]: (p["mean"], p["scored"], p["total"], p["thrive_like"]) for p in body["parts"]}
    # Individual: (4 * 3 + 3 * 1) / 7 = 15 / 7 = 2.142... -> 2.14.
    assert parts == {
        "system": ("4.00", 8, 8, True),
        "service": ("2.00", 8, 8, False),
        "individual": ("2.14", 7, 8, False),
    }
    # Overall: (32 + 16 + 15) / 23 = 63 / 23 = 2.739... -> 2.74.
    assert body["overall"] == {"mean": "2.74", "scored": 23, "total": 24, "thrive_like": False}
    assert len(body["heatmap"]) == 24
    assert body["heatmap"][0] == {
        "principle": "common-language",
        "part": "system",
        "item": "system-common-language",
        "score": 4,
    }
    assert body["heatmap"][-1]["score"] is None
    assert body["not_scored"] == [items[-1].code]
    # Below threshold, lowest first: the three 1s, then the eight 2s, each in the tool's order.
    below = body["below_threshold"]
    assert [b["score"] for b in below] == [1] * 3 + [2] * 8
    assert [b["item"] for b in below[:3]] == [i.code for i in items if scores[i.code] == 1]
    accessibility = next(b for b in below if b["item"] == "service-accessibility")
    assert accessibility["evidence"] == "12.5 weeks – Seen in the audit"
    assert accessibility["description"]


def test_results_of_a_round_with_nothing_scored_have_null_means(
    api_for: Any, commissioner_a: User, site_a: Site, instrument: Instrument
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    body = api_for(commissioner_a).get(round_url(round_, "results/")).json()
    assert body["overall"] == {"mean": None, "scored": 0, "total": 24, "thrive_like": False}
    assert all(p["mean"] is None for p in body["principles"])
    assert body["below_threshold"] == []
    assert len(body["not_scored"]) == 24


# Comparison


def test_comparison_is_empty_until_a_second_round_is_submitted(
    api_for: Any, commissioner_a: User, site_a: Site, instrument: Instrument
) -> None:
    submitted_round(site_a, commissioner_a)
    round_create(site=site_a, user=commissioner_a, held_on=HELD_ON + datetime.timedelta(days=180), source="page")
    body = api_for(commissioner_a).get(comparison_url(site_a)).json()
    assert body == {"baseline": None, "comparisons": []}


def test_comparison_shows_the_change_from_the_baseline_to_each_later_round(
    api_for: Any, viewer_a: User, commissioner_a: User, site_a: Site, instrument: Instrument
) -> None:
    baseline = submitted_round(site_a, commissioner_a, default=2)
    round_lock(round_=baseline, user=commissioner_a, source="page", expected_version=None)
    follow_up = submitted_round(
        site_a, commissioner_a, {"system-common-language": 4, "service-common-language": 1}, default=2
    )

    response = api_for(viewer_a).get(comparison_url(site_a))

    assert response.status_code == 200
    body = response.json()
    assert body["baseline"]["id"] == str(baseline.public_id)
    assert (body["baseline"]["label"], body["baseline"]["status"]) == ("Baseline", "locked")
    [comparison] = body["comparisons"]
    assert comparison["round"]["id"] == str(follow_up.public_id)
    assert comparison["round"]["label"] == "Follow-up 1"
    items = {i["item"]: i for i in comparison["items"]}
    assert len(items) == 24
    assert items["system-common-language"] == {
        "item": "system-common-language",
        "principle": "common-language",
        "part": "system",
        "label": "Common Language – Commissioning and interagency work",
        "before": 2,
        "after": 4,
        "change": 2,
        "direction": "improved",
    }
    assert (items["service-common-language"]["change"], items["service-common-language"]["direction"]) == (-1, "worse")
    assert (items["system-needs-led"]["change"], items["system-needs-led"]["direction"]) == (0, "no change")
    principles = {p["code"]: p for p in comparison["principles"]}
    # Common Language: (2 + 2 + 2) / 3 = 2.00 before, (4 + 1 + 2) / 3 = 2.33 after.
    assert principles["common-language"] == {
        "code": "common-language",
        "label": "Common Language",
        "before": "2.00",
        "after": "2.33",
        "change": "0.33",
        "direction": "improved",
    }
    assert principles["needs-led"]["direction"] == "no change"
    parts = {p["code"]: (p["before"], p["after"], p["change"], p["direction"]) for p in comparison["parts"]}
    # System: (4 + 7 * 2) / 8 = 2.25; Services: (1 + 7 * 2) / 8 = 1.875 -> 1.88, a change of
    # 1.875 - 2 = -0.125 -> -0.13: the change of the means themselves, not of the rounded 1.88.
    assert parts == {
        "system": ("2.00", "2.25", "0.25", "improved"),
        "service": ("2.00", "1.88", "-0.13", "worse"),
        "individual": ("2.00", "2.00", "0.00", "no change"),
    }
    # Overall: (48 + 2 - 1) / 24 = 49 / 24 = 2.041... -> 2.04.
    assert comparison["overall"] == {"before": "2.00", "after": "2.04", "change": "0.04", "direction": "improved"}
