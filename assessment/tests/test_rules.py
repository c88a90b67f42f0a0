"""Rules of the THRIVE Assessment Tool: loading versions, rounds, submission,
locking, stale saves, and result figures against hand-computed values."""

import copy
import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from assessment.management.commands.load_instrument import (
    DEFAULT_INSTRUMENT,
    load_default_instrument,
    read_instrument_file,
)
from assessment.models import AgreedScore, Instrument, Item, Round, RoundStatus
from assessment.results import Axis, ScoredItem, compare_rounds, round_results
from assessment.selectors import round_result
from assessment.services import (
    AgreedScoreInput,
    RoundNotEditable,
    StaleSave,
    agreed_score_save,
    instrument_load,
    rating_save,
    round_create,
    round_lock,
    round_reopen,
    round_submit,
    round_update,
)
from sites.models import Site

pytestmark = pytest.mark.django_db

HELD_ON = datetime.date(2026, 3, 1)


@pytest.fixture
def instrument(db: Any) -> Instrument:
    return load_default_instrument()


def score_all(round_: Round, user: User, score: int = 3) -> None:
    for item in Item.objects.filter(instrument=round_.instrument):
        agreed_score_save(
            round_=round_,
            item=item,
            user=user,
            data=AgreedScoreInput(score=score),
            expected_version=None,
            source="page",
        )


def test_the_bundled_draft_has_three_parts_by_eight_principles(instrument: Instrument) -> None:
    assert instrument.is_draft
    assert instrument.threshold == 3
    assert instrument.parts.count() == 3
    assert instrument.principles.count() == 8
    assert instrument.items.count() == 24
    item = instrument.items.select_related("principle", "part").first()
    assert item is not None
    assert item.principle.label == "Common Language"
    assert set(item.descriptors) == {"1", "2", "3", "4"}


def test_loading_a_second_version_leaves_rounds_on_the_first_untouched(
    instrument: Instrument, site_a: Site, commissioner_a: User
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    first_item = instrument.items.order_by("order").first()
    assert first_item is not None
    agreed_score_save(
        round_=round_,
        item=first_item,
        user=commissioner_a,
        data=AgreedScoreInput(score=2),
        expected_version=0,
        source="page",
    )
    data = read_instrument_file(DEFAULT_INSTRUMENT)
    data["version"] = "official-2027"
    data["name"] = "THRIVE Assessment Tool"
    data["is_draft"] = False
    data["items"][0]["description"] = "Official wording of the first item."

    second = instrument_load(data=data, user=commissioner_a)

    round_.refresh_from_db()
    assert round_.instrument == instrument
    assert round_.agreed_scores.get().item.description != "Official wording of the first item."
    assert second.items.order_by("order").first().description == "Official wording of the first item."  # type: ignore[union-attr]
    round_submit_all(round_, commissioner_a)
    follow_up = round_create(
        site=site_a, user=commissioner_a, held_on=HELD_ON + datetime.timedelta(days=180), source="page"
    )
    assert follow_up.instrument == second


def round_submit_all(round_: Round, user: User) -> None:
    score_all(round_, user)
    round_submit(round_=round_, user=user, source="page", expected_version=None)


def test_a_broken_instrument_file_loads_nothing_and_says_why(instrument: Instrument) -> None:
    data = copy.deepcopy(read_instrument_file(DEFAULT_INSTRUMENT))
    data["version"] = "broken"
    data["items"][3]["descriptors"].pop("2")
    data["items"][5]["part"] = "nowhere"
    with pytest.raises(ValidationError) as raised:
        instrument_load(data=data)
    messages = " ".join(raised.value.message_dict["items"])
    assert "Item 4 (system-proactive-prevention) needs a descriptor for each score from 1 to 4" in messages
    assert "Item 6 (system-outcome-informed) names a part that is not in the file: 'nowhere'" in messages
    assert not Instrument.objects.filter(version="broken").exists()


def test_rounds_are_numbered_baseline_then_follow_ups(
    instrument: Instrument, site_a: Site, commissioner_a: User
) -> None:
    baseline = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    assert baseline.label == "Baseline"
    with pytest.raises(ValidationError, match="Finish the round in progress first"):
        round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    round_submit_all(baseline, commissioner_a)
    assert round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page").label == "Follow-up 1"


def test_submission_needs_every_item_scored_and_names_the_missing_ones(
    instrument: Instrument, site_a: Site, commissioner_a: User
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    items = list(Item.objects.filter(instrument=instrument).order_by("order"))
    for item in items[:-2]:
        agreed_score_save(
            round_=round_,
            item=item,
            user=commissioner_a,
            data=AgreedScoreInput(score=3),
            expected_version=None,
            source="page",
        )
    with pytest.raises(ValidationError) as raised:
        round_submit(round_=round_, user=commissioner_a, source="page", expected_version=None)
    message = raised.value.message_dict["__all__"][0]
    assert "2 not yet scored" in message
    assert f"{items[-1].principle.label} ({items[-1].part.short_label})" in message
    round_.refresh_from_db()
    assert round_.status == RoundStatus.DRAFT


def test_submitted_and_locked_rounds_refuse_changes(instrument: Instrument, site_a: Site, commissioner_a: User) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    round_submit_all(round_, commissioner_a)
    item = Item.objects.filter(instrument=instrument).first()
    assert item is not None
    with pytest.raises(RoundNotEditable, match="submitted"):
        agreed_score_save(
            round_=round_,
            item=item,
            user=commissioner_a,
            data=AgreedScoreInput(score=1),
            expected_version=None,
            source="page",
        )
    round_lock(round_=round_, user=commissioner_a, source="page", expected_version=None)
    with pytest.raises(RoundNotEditable, match="locked"):
        rating_save(
            round_=round_, item=item, user=commissioner_a, participant="School lead", score=2, source="page", seen=None
        )
    with pytest.raises(RoundNotEditable, match="locked"):
        round_reopen(round_=round_, user=commissioner_a, source="page", expected_version=None)
    assert set(AgreedScore.objects.filter(round=round_).values_list("score", flat=True)) == {3}


def test_a_rounds_date_cannot_change_once_someone_else_has_submitted_it(
    instrument: Instrument, site_a: Site, commissioner_a: User
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    # The round's edit form was opened while it was a draft; a colleague then submits it.
    seen_by_a = Round.objects.get(pk=round_.pk)
    round_submit_all(round_, commissioner_a)
    assert seen_by_a.status == RoundStatus.DRAFT
    with pytest.raises(RoundNotEditable, match="submitted"):
        round_update(
            round_=seen_by_a,
            user=commissioner_a,
            held_on=HELD_ON + datetime.timedelta(days=7),
            notes="Moved",
            source="page",
            expected_version=seen_by_a.version,
        )
    round_.refresh_from_db()
    assert (round_.held_on, round_.notes, round_.status) == (HELD_ON, "", RoundStatus.SUBMITTED)


def test_a_stale_save_is_refused_and_shows_the_newer_value(
    instrument: Instrument, site_a: Site, commissioner_a: User, commissioner_b: User
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    item = Item.objects.filter(instrument=instrument).first()
    assert item is not None
    # Both open the page while the item is unscored (version 0); A saves first.
    agreed_score_save(
        round_=round_, item=item, user=commissioner_a, data=AgreedScoreInput(score=4), expected_version=0, source="page"
    )
    with pytest.raises(StaleSave) as raised:
        agreed_score_save(
            round_=round_,
            item=item,
            user=commissioner_b,
            data=AgreedScoreInput(score=1),
            expected_version=0,
            source="page",
        )
    assert "changed this agreed score" in raised.value.messages[0]
    assert raised.value.current.score == 4
    assert AgreedScore.objects.get(round=round_, item=item).score == 4


def test_several_participants_rate_an_item_and_one_name_keeps_one_rating(
    instrument: Instrument, site_a: Site, commissioner_a: User
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    item = Item.objects.filter(instrument=instrument).first()
    assert item is not None
    rating_save(
        round_=round_, item=item, user=commissioner_a, participant="CAMHS lead", score=2, source="page", seen=None
    )
    rating_save(
        round_=round_, item=item, user=commissioner_a, participant="School lead", score=4, source="page", seen=None
    )
    rating_save(
        round_=round_, item=item, user=commissioner_a, participant="camhs lead ", score=3, source="page", seen=None
    )
    assert sorted(round_.ratings.values_list("participant", "score")) == [("CAMHS lead", 3), ("School lead", 4)]
    with pytest.raises(ValidationError, match="Choose a score from 1 to 4"):
        rating_save(round_=round_, item=item, user=commissioner_a, participant="GP", score=5, source="page", seen=None)


SYSTEM, SERVICE = Axis("system", "System"), Axis("service", "Services")
LANGUAGE, ACCESS = Axis("common-language", "Common Language"), Axis("accessibility", "Accessibility")


def scored(part: Axis, principle: Axis, score: int | None, order: int) -> ScoredItem:
    return ScoredItem(code=f"{part.code}-{principle.code}", part=part, principle=principle, order=order, score=score)


def test_round_results_match_hand_computed_figures() -> None:
    items = [
        scored(SYSTEM, LANGUAGE, 4, 1),
        scored(SYSTEM, ACCESS, 2, 2),
        scored(SERVICE, LANGUAGE, 3, 3),
        scored(SERVICE, ACCESS, 1, 4),
    ]
    results = round_results(items=items, parts=[SYSTEM, SERVICE], principles=[LANGUAGE, ACCESS], threshold=3)
    # Common Language: (4 + 3) / 2 = 3.5 -> THRIVE-like; Accessibility: (2 + 1) / 2 = 1.5 -> not.
    assert results.by_principle["common-language"].value == Decimal("3.50")
    assert results.by_principle["common-language"].thrive_like
    assert results.by_principle["accessibility"].value == Decimal("1.50")
    assert not results.by_principle["accessibility"].thrive_like
    # System: (4 + 2) / 2 = 3.0 -> exactly the threshold counts; Services: (3 + 1) / 2 = 2.0.
    assert results.by_part["system"].value == Decimal("3.00")
    assert results.by_part["system"].thrive_like
    assert results.by_part["service"].value == Decimal("2.00")
    assert results.overall.value == Decimal("2.50")
    assert [i.code for i in results.below_threshold] == ["service-accessibility", "system-accessibility"]


def test_unscored_items_are_left_out_of_means_and_listed() -> None:
    items = [scored(SYSTEM, LANGUAGE, 2, 1), scored(SYSTEM, ACCESS, None, 2)]
    results = round_results(items=items, parts=[SYSTEM], principles=[LANGUAGE, ACCESS], threshold=3)
    assert results.by_part["system"].value == Decimal("2.00")
    assert results.by_part["system"].scored == 1
    assert results.by_principle["accessibility"].value is None
    assert [i.code for i in results.not_scored] == ["system-accessibility"]


def test_comparison_shows_change_per_item_principle_and_overall() -> None:
    before = round_results(
        items=[scored(SYSTEM, LANGUAGE, 2, 1), scored(SYSTEM, ACCESS, 3, 2)],
        parts=[SYSTEM],
        principles=[LANGUAGE, ACCESS],
        threshold=3,
    )
    after = round_results(
        items=[scored(SYSTEM, LANGUAGE, 4, 1), scored(SYSTEM, ACCESS, 2, 2)],
        parts=[SYSTEM],
        principles=[LANGUAGE, ACCESS],
        threshold=3,
    )
    comparison = compare_rounds(before, after)
    assert [(c.before, c.after, c.delta, c.direction) for _, c in comparison.items] == [
        (2, 4, Decimal(2), "improved"),
        (3, 2, Decimal(-1), "worse"),
    ]
    assert comparison.overall.before == Decimal("2.50")
    assert comparison.overall.after == Decimal("3.00")
    assert comparison.overall.delta == Decimal("0.50")


def test_round_result_from_the_database_uses_agreed_scores_and_evidence(
    instrument: Instrument, site_a: Site, commissioner_a: User
) -> None:
    round_ = round_create(site=site_a, user=commissioner_a, held_on=HELD_ON, source="page")
    items = list(Item.objects.filter(instrument=instrument).order_by("order"))
    for index, item in enumerate(items):
        value = Decimal("12.5") if item.evidence_type == "quantitative" else None
        agreed_score_save(
            round_=round_,
            item=item,
            user=commissioner_a,
            data=AgreedScoreInput(score=1 + index % 4, evidence_value=value, evidence_text="Seen in the audit"),
            expected_version=None,
            source="page",
        )
    rating_save(round_=round_, item=items[0], user=commissioner_a, participant="GP", score=4, source="page", seen=None)
    results = round_result(round_=round_)
    # Scores cycle 1, 2, 3, 4 over 24 items: mean 2.5, and 12 items (the 1s and 2s) below 3.
    assert results.overall.value == Decimal("2.50")
    assert len(results.below_threshold) == 12
    quantitative = next(i for i in results.items if i.code == "service-accessibility")
    assert quantitative.evidence == "12.5 weeks – Seen in the audit"
