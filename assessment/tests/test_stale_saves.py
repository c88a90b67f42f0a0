"""Two people change the same round, agreed score or rating at once, through the pages
and through the API: the second, based on what they read before the first saved, is
refused with what is saved now, and the database keeps only the first change."""

import datetime
import html as html_lib
import re
from typing import Any

import pytest

from accounts.models import User
from assessment.models import AgreedScore, Rating, Round, RoundStatus
from assessment.services import AgreedScoreInput, agreed_score_save, rating_save, round_submit
from tests.pages import form_data

from .support import item_of, item_page, page_of, rating_api, remove_page, round_api

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text_of(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def snapshot(round_: Round) -> dict[str, Any]:
    return {
        "round": list(Round.objects.filter(pk=round_.pk).values()),
        "agreed": list(AgreedScore.objects.filter(round=round_).order_by("pk").values()),
        "ratings": list(Rating.objects.filter(round=round_).order_by("pk").values()),
    }


def rating_of(round_: Round, participant: str, score: int, user: User) -> Rating:
    return rating_save(
        round_=round_,
        item=item_of(round_),
        user=user,
        source="page",
        participant=participant,
        score=score,
        seen=None,
    )


# Rounds: the edit page and PATCH ---------------------------------------------------


def test_a_stale_save_of_a_rounds_date_and_notes_is_refused_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    url = page_of(draft, "round-edit")
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = form_data(mine.get(url).content), form_data(theirs.get(url).content)

    their_form["notes"] = "Moved to the library"
    assert theirs.post(url, their_form).status_code == 302
    my_form.update(held_on_0="8", notes="Moved to the school")
    response = mine.post(url, my_form)

    assert response.status_code == 200
    page = text_of(response)
    assert "Sam Jones changed this round at" in page
    # What they saved beside what I entered, for each field that differs.
    assert "Date of the round 1 March 2026 8 March 2026" in page
    assert "Notes Moved to the library Moved to the school" in page
    assert form_data(response.content)["notes"] == "Moved to the school"  # what I typed, kept
    assert form_data(response.content)["held_on_0"] == "8"
    draft.refresh_from_db()
    assert (draft.held_on, draft.notes, draft.version) == (datetime.date(2026, 3, 1), "Moved to the library", 2)

    # Saving again after seeing their change is a deliberate choice, and is applied.
    assert mine.post(url, form_data(response.content)).status_code == 302
    draft.refresh_from_db()
    assert (draft.held_on, draft.notes, draft.version) == (datetime.date(2026, 3, 8), "Moved to the school", 3)


def test_a_round_edit_page_without_its_version_changes_nothing(
    client_for: Any, commissioner_a: User, draft: Round
) -> None:
    url = page_of(draft, "round-edit")
    form = form_data(client_for(commissioner_a).get(url).content)
    del form["version"]
    response = client_for(commissioner_a).post(url, {**form, "notes": "Changed"})
    assert "This form is out of date. Reload the page and try again." in text_of(response)
    draft.refresh_from_db()
    assert draft.notes == "In the town hall"


def test_a_second_stale_patch_of_a_round_is_412_with_the_current_round(
    api_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    mine, theirs = api_for(commissioner_a), api_for(colleague)
    url = round_api(draft)
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    assert read_by_me == read_by_them == '"1"'
    changed = theirs.patch(url, {"notes": "Theirs"}, format="json", HTTP_IF_MATCH=read_by_them)
    assert (changed.status_code, changed["ETag"], changed.json()["version"]) == (200, '"2"', 2)

    response = mine.patch(url, {"notes": "Mine", "held_on": "2026-03-08"}, format="json", HTTP_IF_MATCH=read_by_me)

    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "stale"
    assert "Sam Jones changed this round" in body["detail"]
    assert (body["current"]["notes"], body["current"]["version"], body["current"]["progress"]) == (
        "Theirs",
        2,
        {"scored": 0, "total": 24},
    )
    assert response["ETag"] == '"2"'
    draft.refresh_from_db()
    assert (draft.notes, draft.held_on, draft.version) == ("Theirs", datetime.date(2026, 3, 1), 2)


def test_patching_a_round_without_if_match_is_428_and_changes_nothing(
    api_for: Any, commissioner_a: User, draft: Round
) -> None:
    before = snapshot(draft)
    response = api_for(commissioner_a).patch(round_api(draft), {"notes": "Changed"}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert snapshot(draft) == before


# Rounds: submit, reopen and lock -------------------------------------------------


def score_all(round_: Round, user: User) -> None:
    for item in round_.instrument.items.all():
        agreed_score_save(
            round_=round_, item=item, user=user, source="page", data=AgreedScoreInput(score=3), expected_version=None
        )


def test_submitting_from_a_page_opened_before_a_colleague_changed_the_round_is_refused(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    score_all(draft, commissioner_a)
    detail = page_of(draft, "round-detail")
    submit = page_of(draft, "round-submit")
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_page = mine.get(detail).content
    edit = page_of(draft, "round-edit")
    assert theirs.post(edit, {**form_data(theirs.get(edit).content), "notes": "Ask the GP first"}).status_code == 302

    response = mine.post(submit, form_data(my_page, action=submit))

    page = text_of(response)
    assert "There is a problem" in page
    assert "Sam Jones changed this round at" in page
    assert "so it was not submitted. Check the round as it is now, then submit it if you still want to." in page
    assert "Ask the GP first" in page  # the round as it is now
    draft.refresh_from_db()
    assert (draft.status, draft.notes, draft.version) == (RoundStatus.DRAFT, "Ask the GP first", 2)

    # The page now shows the round as it is; submitting from it is deliberate.
    assert mine.post(submit, form_data(response.content, action=submit)).status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.version) == (RoundStatus.SUBMITTED, 3)


def test_reopening_or_locking_from_a_stale_page_is_refused(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    score_all(draft, commissioner_a)
    round_submit(round_=draft, user=commissioner_a, source="page", expected_version=None)
    mine = client_for(commissioner_a)
    detail, lock = page_of(draft, "round-detail"), page_of(draft, "round-lock")
    reopen = page_of(draft, "round-reopen")
    reopen_form = form_data(mine.get(detail).content, action=reopen)
    lock_form = form_data(mine.get(lock).content, action="")
    # The colleague reopens, corrects and submits again meanwhile.
    theirs = client_for(colleague)
    assert theirs.post(reopen, form_data(theirs.get(detail).content, action=reopen)).status_code == 302
    submit = page_of(draft, "round-submit")
    assert theirs.post(submit, form_data(theirs.get(detail).content, action=submit)).status_code == 302

    for url, form, word in ((reopen, reopen_form, "reopened"), (lock, lock_form, "locked")):
        response = mine.post(url, form)
        assert "Sam Jones changed this round at" in text_of(response)
        assert f"so it was not {word}" in text_of(response)
    draft.refresh_from_db()
    assert (draft.status, draft.version, draft.submitted_by) == (RoundStatus.SUBMITTED, 4, colleague)


def test_the_round_transitions_check_if_match_when_it_is_sent(
    api_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    score_all(draft, commissioner_a)
    mine = api_for(commissioner_a)
    read = mine.get(round_api(draft))["ETag"]
    api_for(colleague).patch(round_api(draft), {"notes": "Theirs"}, format="json", HTTP_IF_MATCH=read)

    response = mine.post(round_api(draft, "submit/"), HTTP_IF_MATCH=read)

    assert response.status_code == 412
    assert "so it was not submitted" in response.json()["detail"]
    assert (response.json()["current"]["status"], response.json()["current"]["notes"]) == ("draft", "Theirs")
    draft.refresh_from_db()
    assert (draft.status, draft.version) == (RoundStatus.DRAFT, 2)

    submitted = mine.post(round_api(draft, "submit/"), HTTP_IF_MATCH=response["ETag"])
    assert (submitted.status_code, submitted.json()["status"], submitted["ETag"]) == (200, "submitted", '"3"')
    reopened = mine.post(round_api(draft, "reopen/"), HTTP_IF_MATCH='"2"')
    assert reopened.status_code == 412
    # Without If-Match the transitions are not checked, as before.
    assert mine.post(round_api(draft, "lock/")).json()["status"] == "locked"


# Agreed scores: the scoring page and PUT --------------------------------------------


def test_an_agreed_score_answers_with_its_etag_and_a_put_with_if_match_moves_it_on(
    api_for: Any, commissioner_a: User, draft: Round
) -> None:
    client = api_for(commissioner_a)
    url = round_api(draft, "agreed-scores/system-needs-led/")
    assert client.get(url)["ETag"] == '"0"'
    response = client.put(url, {"score": 2}, format="json", HTTP_IF_MATCH='"0"')
    assert (response.status_code, response.json()["version"], response["ETag"]) == (200, 1, '"1"')
    assert client.get(url)["ETag"] == '"1"'
    # Both, when they agree.
    response = client.put(url, {"score": 3, "version": 1}, format="json", HTTP_IF_MATCH='"1"')
    assert (response.status_code, response["ETag"]) == (200, '"2"')


def test_a_second_stale_put_of_an_agreed_score_is_412_with_the_current_value(
    api_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    mine, theirs = api_for(commissioner_a), api_for(colleague)
    url = round_api(draft, "agreed-scores/system-common-language/")
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    body = {"score": 4, "evidence_value": "60", "evidence_text": "Their audit"}
    assert theirs.put(url, body, format="json", HTTP_IF_MATCH=read_by_them).status_code == 200
    before = snapshot(draft)

    response = mine.put(url, {"score": 1}, format="json", HTTP_IF_MATCH=read_by_me)

    assert response.status_code == 412
    body = response.json()
    assert (body["code"], body["current"]["score"], body["current"]["evidence_value"]) == ("stale", 4, "60.00")
    assert (body["current"]["version"], body["current"]["updated_by"]) == (1, "colleague")
    assert "Sam Jones changed this agreed score" in body["detail"]
    assert response["ETag"] == '"1"'
    assert snapshot(draft) == before


def test_an_agreed_score_put_with_neither_if_match_nor_version_is_428(
    api_for: Any, commissioner_a: User, draft: Round
) -> None:
    before = snapshot(draft)
    response = api_for(commissioner_a).put(round_api(draft, "agreed-scores/system-needs-led/"), {"score": 3})
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert snapshot(draft) == before


def test_an_agreed_score_put_whose_if_match_and_version_disagree_is_400(
    api_for: Any, commissioner_a: User, draft: Round
) -> None:
    before = snapshot(draft)
    url = round_api(draft, "agreed-scores/system-needs-led/")
    response = api_for(commissioner_a).put(url, {"score": 3, "version": 0}, format="json", HTTP_IF_MATCH='"4"')
    assert response.status_code == 400
    assert response.json() == {
        "version": [
            "The If-Match header and the version in the body disagree. Send the version you last read in one of "
            "them, or the same in both."
        ]
    }
    assert snapshot(draft) == before


def test_a_version_for_an_agreed_score_never_saved_is_412_with_its_empty_state(
    api_for: Any, commissioner_a: User, draft: Round
) -> None:
    url = round_api(draft, "agreed-scores/system-needs-led/")
    response = api_for(commissioner_a).put(url, {"score": 3, "version": 7}, format="json")
    assert response.status_code == 412
    assert response.json()["detail"].startswith("Nothing has been saved for this item yet")
    assert (response.json()["current"]["score"], response.json()["current"]["version"]) == (None, 0)
    assert not AgreedScore.objects.exists()


def test_a_stale_agreed_score_on_the_page_is_refused_without_javascript_too(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    score_page = page_of(draft, "round-score", part_code="system")
    action = item_page(draft, "round-score-item")
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = (
        form_data(mine.get(score_page).content, action=action),
        form_data(theirs.get(score_page).content, action=action),
    )
    their_form.update({"system-common-language-score": "2", "system-common-language-evidence_value": "35"})
    assert theirs.post(action, their_form).status_code == 302
    my_form.update({"system-common-language-score": "3", "system-common-language-evidence_text": "Our audit"})

    response = mine.post(action, my_form)

    assert response.status_code == 200
    page = text_of(response)
    assert page.startswith("Error:")
    assert "There is a problem with Common Language" in page
    assert "Sam Jones changed this agreed score at" in page
    assert "Agreed score 2 – Some improvement required 3 – THRIVE-like" in page
    assert "Measure 35 Not given" in page
    assert "Source of the measure Not given Our audit" in page
    assert form_data(response.content, action=action)["system-common-language-evidence_text"] == "Our audit"
    agreed = AgreedScore.objects.get(round=draft)
    assert (agreed.score, agreed.evidence_value, agreed.evidence_text, agreed.updated_by) == (2, 35, "", colleague)


# Ratings: the scoring page --------------------------------------------------------


def test_entering_a_participant_a_colleague_rated_since_the_page_loaded_is_refused_showing_their_rating(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    score_page = page_of(draft, "round-score", part_code="system")
    action = item_page(draft, "round-rating-save")
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = (
        form_data(mine.get(score_page).content, action=action),
        form_data(theirs.get(score_page).content, action=action),
    )
    prefix = "system-common-language-rating-"
    their_form.update({f"{prefix}participant": "CAMHS lead", f"{prefix}score": "3"})
    assert theirs.post(action, their_form).status_code == 302
    my_form.update({f"{prefix}participant": "camhs lead", f"{prefix}score": "1"})

    response = mine.post(action, my_form, **HTMX)

    page = text_of(response)
    assert "Sam Jones recorded a rating of 3 for CAMHS lead at" in page
    assert "Your rating was not saved: check theirs, then save again if you still want to change it." in page
    assert "Their score 3 1" in page  # saved now, and what I entered
    assert "CAMHS lead: 3" in page  # in the list of ratings
    kept = form_data(response.content, action=action)
    assert (kept[f"{prefix}participant"], kept[f"{prefix}score"]) == ("camhs lead", "1")
    assert list(Rating.objects.values_list("participant", "score", "recorded_by")) == [("CAMHS lead", 3, colleague.pk)]

    # The form now stands for the rating as it is: saving again changes it, deliberately.
    assert mine.post(action, kept).status_code == 302
    assert list(Rating.objects.values_list("participant", "score", "version")) == [("CAMHS lead", 1, 2)]


def test_changing_a_rating_a_colleague_changed_since_the_page_loaded_is_refused(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    rating = rating_of(draft, "School lead", 2, commissioner_a)
    score_page = page_of(draft, "round-score", part_code="system")
    action = item_page(draft, "round-rating-save")
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = (
        form_data(mine.get(score_page).content, action=action),
        form_data(theirs.get(score_page).content, action=action),
    )
    prefix = "system-common-language-rating-"
    assert my_form[f"{prefix}seen"] == f"{rating.public_id}:1"
    their_form.update({f"{prefix}participant": "School lead", f"{prefix}score": "4"})
    assert theirs.post(action, their_form).status_code == 302
    my_form.update({f"{prefix}participant": "School lead", f"{prefix}score": "3"})

    response = mine.post(action, my_form)

    assert "Sam Jones changed School lead's rating to 4 at" in text_of(response)
    rating.refresh_from_db()
    assert (rating.score, rating.version, rating.recorded_by) == (4, 2, colleague)


def test_removing_a_rating_a_colleague_changed_since_the_page_loaded_is_refused(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    rating = rating_of(draft, "School lead", 2, commissioner_a)
    score_page = page_of(draft, "round-score", part_code="system")
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    remove_form = form_data(mine.get(score_page).content, action=remove_page(rating))
    assert remove_form["version"] == "1"
    action = item_page(draft, "round-rating-save")
    their_form = form_data(theirs.get(score_page).content, action=action)
    their_form.update({"system-common-language-rating-participant": "School lead"})
    their_form.update({"system-common-language-rating-score": "4"})
    assert theirs.post(action, their_form).status_code == 302

    response = mine.post(remove_page(rating), remove_form, **HTMX)

    page = text_of(response)
    assert "Sam Jones changed School lead's rating to 4 at" in page
    assert "It was not removed: check their rating, then remove it again if you still want to." in page
    assert "School lead: 4" in page
    rating.refresh_from_db()
    assert (rating.score, rating.version) == (4, 2)

    # The page now shows the rating as it is; removing it from there is deliberate.
    again = form_data(response.content, action=remove_page(rating))
    assert mine.post(remove_page(rating), again).status_code == 302
    assert not Rating.objects.exists()


def test_removing_a_rating_a_colleague_already_removed_says_who_removed_it(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    rating = rating_of(draft, "School lead", 2, commissioner_a)
    score_page = page_of(draft, "round-score", part_code="system")
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form = form_data(mine.get(score_page).content, action=remove_page(rating))
    their_form = form_data(theirs.get(score_page).content, action=remove_page(rating))
    assert theirs.post(remove_page(rating), their_form).status_code == 302

    response = mine.post(remove_page(rating), my_form)

    assert response.status_code == 200
    assert "Sam Jones removed School lead's rating at" in text_of(response)
    assert not Rating.objects.exists()


# Ratings: the API ------------------------------------------------------------------


def test_changing_or_removing_a_rating_without_if_match_is_428_and_changes_nothing(
    api_for: Any, commissioner_a: User, draft: Round
) -> None:
    rating = rating_of(draft, "School lead", 2, commissioner_a)
    client = api_for(commissioner_a)
    before = snapshot(draft)
    assert client.get(rating_api(rating))["ETag"] == '"1"'
    for method, body in (("put", {"score": 3}), ("patch", {"score": 3}), ("delete", None)):
        response = getattr(client, method)(rating_api(rating), body, format="json")
        assert response.status_code == 428, method
    assert snapshot(draft) == before


def test_a_stale_delete_of_a_rating_is_412_and_the_rating_stays(
    api_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    rating = rating_of(draft, "School lead", 2, commissioner_a)
    mine, theirs = api_for(commissioner_a), api_for(colleague)
    read_by_me = mine.get(rating_api(rating))["ETag"]
    theirs.patch(rating_api(rating), {"score": 4}, format="json", HTTP_IF_MATCH=theirs.get(rating_api(rating))["ETag"])

    response = mine.delete(rating_api(rating), HTTP_IF_MATCH=read_by_me)

    assert response.status_code == 412
    assert (response.json()["current"]["score"], response.json()["current"]["version"]) == (4, 2)
    assert "Sam Jones changed School lead's rating to 4" in response.json()["detail"]
    rating.refresh_from_db()
    assert rating.score == 4
    assert mine.delete(rating_api(rating), HTTP_IF_MATCH=response["ETag"]).status_code == 204
    assert not Rating.objects.exists()
