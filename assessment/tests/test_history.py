"""Every change to a round, an agreed score or a rating keeps a history record: who
made it, when, whether through a page or the API, and what it was before and after.
A removed rating leaves a record of its removal, with who removed it."""

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import User
from assessment.models import AgreedScore, Item, Rating, Round
from assessment.services import AgreedScoreInput, agreed_score_save
from tests.pages import form_data

from .support import item_page, page_of, rating_api, remove_page, round_api

pytestmark = pytest.mark.django_db


def changes(record: Any) -> dict[str, tuple[Any, Any]]:
    """The fields a history record changed, before and after."""
    if record.prev_record is None:
        return {}
    delta = record.diff_against(record.prev_record, excluded_fields=["updated_at"])
    return {change.field: (change.old, change.new) for change in delta.changes}


def round_history(round_: Round) -> list[tuple[str, str, str, str]]:
    return [
        (record.history_type, record.status, record.history_user.username, record.history_change_reason)
        for record in Round.history.filter(id=round_.pk).order_by("history_date", "history_id")
    ]


def press(client: Any, round_: Round, name: str) -> None:
    action = page_of(round_, f"round-{name}")
    if name == "lock":
        form = form_data(client.get(action).content, action="")
    else:
        form = form_data(client.get(page_of(round_, "round-detail")).content, action=action)
    assert client.post(action, form).status_code == 302, name


def score_all(round_: Round, user: User) -> None:
    for item in Item.objects.filter(instrument=round_.instrument):
        agreed_score_save(
            round_=round_, item=item, user=user, source="page", data=AgreedScoreInput(score=3), expected_version=None
        )


def test_a_rounds_changes_through_the_pages_keep_who_how_and_before_and_after(
    client_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    edit = page_of(draft, "round-edit")
    assert mine.post(edit, {**form_data(mine.get(edit).content), "notes": "Moved to the library"}).status_code == 302
    score_all(draft, commissioner_a)
    press(mine, draft, "submit")
    press(theirs, draft, "reopen")
    press(theirs, draft, "submit")
    press(mine, draft, "lock")

    assert round_history(draft) == [
        ("+", "draft", "commissioner-a", "page"),
        ("~", "draft", "commissioner-a", "page"),
        ("~", "submitted", "commissioner-a", "page"),
        ("~", "draft", "colleague", "page"),
        ("~", "submitted", "colleague", "page"),
        ("~", "locked", "commissioner-a", "page"),
    ]
    records = list(Round.history.filter(id=draft.pk).order_by("history_date", "history_id"))
    assert changes(records[1]) == {"notes": ("In the town hall", "Moved to the library")}
    start = reverse("assessment:round-create", kwargs={"site_slug": draft.site.slug})
    assert theirs.post(start, {"held_on_0": "1", "held_on_1": "9", "held_on_2": "2026"}).status_code == 302
    assert round_history(Round.objects.get(sequence=1)) == [("+", "draft", "colleague", "page")]
    assert changes(records[3])["status"] == ("submitted", "draft")
    assert [record.version for record in records] == [1, 2, 3, 4, 5, 6]


def test_a_rounds_changes_through_the_api_keep_who_and_how(
    api_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    mine = api_for(commissioner_a)
    mine.patch(round_api(draft), {"notes": "Changed"}, format="json", HTTP_IF_MATCH='"1"')
    for item in Item.objects.filter(instrument=draft.instrument):
        url = round_api(draft, f"agreed-scores/{item.code}/")
        assert mine.put(url, {"score": 3}, format="json", HTTP_IF_MATCH='"0"').status_code == 200
    assert mine.post(round_api(draft, "submit/")).status_code == 200
    theirs = api_for(colleague)
    assert theirs.post(round_api(draft, "reopen/"), HTTP_IF_MATCH='"3"').status_code == 200
    assert theirs.post(round_api(draft, "submit/")).status_code == 200
    assert mine.post(round_api(draft, "lock/")).status_code == 200
    created = mine.post(
        reverse("api-round-list", kwargs={"site_slug": draft.site.slug}), {"held_on": "2026-09-01"}, format="json"
    ).json()

    assert round_history(draft) == [
        ("+", "draft", "commissioner-a", "page"),
        ("~", "draft", "commissioner-a", "api"),
        ("~", "submitted", "commissioner-a", "api"),
        ("~", "draft", "colleague", "api"),
        ("~", "submitted", "colleague", "api"),
        ("~", "locked", "commissioner-a", "api"),
    ]
    assert round_history(Round.objects.get(public_id=created["id"])) == [("+", "draft", "commissioner-a", "api")]


def test_agreed_scores_keep_who_saved_each_value_and_how(
    client_for: Any, api_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    client = client_for(commissioner_a)
    action = item_page(draft, "round-score-item")
    form = form_data(client.get(page_of(draft, "round-score", part_code="system")).content, action=action)
    assert client.post(action, {**form, "system-common-language-score": "2"}).status_code == 302
    url = round_api(draft, "agreed-scores/system-common-language/")
    assert api_for(colleague).put(url, {"score": 4}, format="json", HTTP_IF_MATCH='"1"').status_code == 200

    agreed = AgreedScore.objects.get(round=draft)
    records = list(agreed.history.order_by("history_date", "history_id"))
    assert [
        (r.history_type, r.score, r.version, r.history_user.username, r.history_change_reason) for r in records
    ] == [
        ("+", 2, 1, "commissioner-a", "page"),
        ("~", 4, 2, "colleague", "api"),
    ]
    assert changes(records[1])["score"] == (2, 4)
    assert changes(records[1])["updated_by"] == (commissioner_a.pk, colleague.pk)


def test_ratings_keep_who_added_changed_and_removed_them_and_how(
    client_for: Any, api_for: Any, commissioner_a: User, colleague: User, draft: Round
) -> None:
    client = client_for(commissioner_a)
    score_page = page_of(draft, "round-score", part_code="system")
    action = item_page(draft, "round-rating-save")
    prefix = "system-common-language-rating-"
    for score in ("2", "3"):
        form = form_data(client.get(score_page).content, action=action)
        form.update({f"{prefix}participant": "CAMHS lead", f"{prefix}score": score})
        assert client.post(action, form).status_code == 302
    rating = Rating.objects.get()
    api = api_for(colleague)
    assert api.patch(rating_api(rating), {"score": 4}, format="json", HTTP_IF_MATCH='"2"').status_code == 200
    assert api.delete(rating_api(rating), HTTP_IF_MATCH='"3"').status_code == 204
    api.post(round_api(draft, "ratings/"), {"item": "system-needs-led", "participant": "GP", "score": 1}, format="json")
    gp = Rating.objects.get(participant="GP")
    form = form_data(client.get(score_page).content, action=remove_page(gp))
    assert client.post(remove_page(gp), form).status_code == 302

    history = Rating.history.order_by("history_date", "history_id")
    assert [
        (r.history_type, r.participant, r.score, r.history_user.username, r.history_change_reason) for r in history
    ] == [
        ("+", "CAMHS lead", 2, "commissioner-a", "page"),
        ("~", "CAMHS lead", 3, "commissioner-a", "page"),
        ("~", "CAMHS lead", 4, "colleague", "api"),
        ("-", "CAMHS lead", 4, "colleague", "api"),
        ("+", "GP", 1, "colleague", "api"),
        ("-", "GP", 1, "commissioner-a", "page"),
    ]
    assert changes(history[1])["score"] == (2, 3)
    assert not Rating.objects.exists()
