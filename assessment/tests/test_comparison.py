"""The change from one round to the next is the difference of the means themselves,
rounded once: a principle that goes from 5/3 to 7/3 has improved by 0.67, although
its means shown to two places (1.67 and 2.33) differ by 0.66."""

import datetime
import html as html_lib
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import User
from assessment.models import Instrument, Item, Round
from assessment.results import Axis, ScoredItem, compare_rounds, round_results
from assessment.services import AgreedScoreInput, agreed_score_save, round_create, round_submit
from sites.models import Site

SYSTEM, SERVICE, INDIVIDUAL = Axis("system", "System"), Axis("service", "Services"), Axis("individual", "Individual")
LANGUAGE = Axis("common-language", "Common Language")


def results(*scores: int) -> Any:
    items = [
        ScoredItem(code=f"{part.code}-common-language", part=part, principle=LANGUAGE, order=order, score=score)
        for order, (part, score) in enumerate(zip((SYSTEM, SERVICE, INDIVIDUAL), scores, strict=True), start=1)
    ]
    return round_results(items=items, parts=[SYSTEM, SERVICE, INDIVIDUAL], principles=[LANGUAGE], threshold=3)


def test_a_change_of_means_is_worked_out_from_the_means_themselves() -> None:
    # 1 + 2 + 2 = 5, 5/3 = 1.666... -> 1.67; 2 + 2 + 3 = 7, 7/3 = 2.333... -> 2.33.
    [change] = compare_rounds(results(1, 2, 2), results(2, 2, 3)).principles
    assert (change.before, change.after) == (Decimal("1.67"), Decimal("2.33"))
    # 7/3 - 5/3 = 2/3 = 0.666... -> 0.67, where 2.33 - 1.67 would give 0.66.
    assert change.delta == Decimal("0.67")
    assert change.direction == "improved"
    [back] = compare_rounds(results(2, 2, 3), results(1, 2, 2)).principles
    assert (back.delta, back.direction) == (Decimal("-0.67"), "worse")


def test_means_that_round_apart_but_are_equal_show_no_change() -> None:
    # The same mean, 5/3, both times: no change, whatever the rounding.
    [change] = compare_rounds(results(1, 2, 2), results(2, 1, 2)).principles
    assert (change.delta, change.direction) == (Decimal("0.00"), "no change")


@pytest.fixture
def two_rounds(db: Any, site_a: Site, commissioner_a: User, default_instrument: Instrument) -> list[Round]:
    """Common Language scored 1, 2, 2 at the baseline and 2, 2, 3 at the follow-up;
    every other item 2 both times."""
    rounds = []
    for held_on, scores in (
        (datetime.date(2026, 3, 1), {"system": 1, "service": 2, "individual": 2}),
        (datetime.date(2026, 9, 1), {"system": 2, "service": 2, "individual": 3}),
    ):
        round_ = round_create(site=site_a, user=commissioner_a, source="page", held_on=held_on)
        for item in Item.objects.filter(instrument=default_instrument).select_related("part", "principle"):
            score = scores[item.part.code] if item.principle.code == "common-language" else 2
            agreed_score_save(
                round_=round_,
                item=item,
                user=commissioner_a,
                source="page",
                data=AgreedScoreInput(score=score),
                expected_version=None,
            )
        rounds.append(round_submit(round_=round_, user=commissioner_a, source="page", expected_version=None))
    return rounds


def test_the_comparison_page_and_api_show_plus_0_67_where_the_rounded_means_differ_by_0_66(
    client_for: Any, api_for: Any, commissioner_a: User, site_a: Site, two_rounds: list[Round]
) -> None:
    page = client_for(commissioner_a).get(reverse("assessment:round-compare", kwargs={"site_slug": site_a.slug}))
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page.content.decode())).split())
    assert "Common Language 1.67 2.33 ▲ +0.67 improved" in text

    body = api_for(commissioner_a).get(reverse("api-assessment-comparison", kwargs={"site_slug": site_a.slug})).json()
    [comparison] = body["comparisons"]
    language = next(p for p in comparison["principles"] if p["code"] == "common-language")
    assert (language["before"], language["after"], language["change"]) == ("1.67", "2.33", "0.67")
    # Overall: 47/24 = 1.958... -> 1.96 before, 49/24 = 2.041... -> 2.04 after: 2/24 -> +0.08.
    assert comparison["overall"] == {"before": "1.96", "after": "2.04", "change": "0.08", "direction": "improved"}
