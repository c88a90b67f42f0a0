"""The THRIVE assessment in Debian's Chromium: a round scored end to end, and an
axe-core check of every assessment page, in its editing and error states too."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from assessment.management.commands.load_instrument import load_default_instrument
from assessment.models import AgreedScore, Item, Rating, Round, RoundStatus
from assessment.services import AgreedScoreInput, agreed_score_save, rating_save, round_create, round_submit
from sites.models import Role, Site
from tests.browser import screenshot, serious_accessibility_violations, sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARTS = ("system", "service", "individual")
SCALE = {1: "1 – Considerable improvement required", 2: "2 – Some improvement required", 3: "3 – THRIVE-like"}


def item_block(page: Page, code: str) -> Locator:
    return page.locator(f"#item-{code}")


def save_score(page: Page, code: str, score: int) -> None:
    block = item_block(page, code)
    block.get_by_label(SCALE[score]).check()
    block.get_by_role("button", name="Save").first.click()
    expect(item_block(page, code).locator(".app-saved")).to_contain_text("Saved")


def add_rating(page: Page, code: str, participant: str, score: int) -> None:
    block = item_block(page, code)
    block.get_by_label("Name or role").fill(participant)
    block.locator(f"#id_{code}-rating-score_{score}").check()
    block.get_by_role("button", name="Save rating").click()
    expect(item_block(page, code).get_by_text(f"{participant}: {score}")).to_be_visible()


def score_round(page: Page, scores: dict[str, int], ratings: dict[str, list[tuple[str, int]]]) -> None:
    """From a round's page, score every part through the scoring pages."""
    page.get_by_role("link", name="Score commissioning and interagency work").click()
    for part in PARTS:
        expect(page.locator("#part-nav [aria-current=page]")).to_contain_text(part.capitalize()[:6])
        for code in [c for c in scores if c.startswith(f"{part}-")]:
            for participant, score in ratings.get(code, []):
                add_rating(page, code, participant, score)
            save_score(page, code, scores[code])
        if part != "individual":
            page.get_by_role("link", name="Next:").click()
    expect(page.locator("#round-progress")).to_contain_text("24 of 24 scored")
    page.get_by_role("link", name="Back to").click()


def test_commissioner_scores_a_baseline_and_a_follow_up_and_sees_results_and_the_change(
    page: Page, live_server: Any, commissioner_a: User, site_a: Site
) -> None:
    instrument = load_default_instrument()
    codes = list(Item.objects.filter(instrument=instrument).order_by("order").values_list("code", flat=True))
    baseline_scores = {code: 2 for code in codes} | {"system-partnership-working": 1, "service-reducing-stigma": 3}
    follow_up_scores = baseline_scores | {
        "system-common-language": 3,
        "system-partnership-working": 2,
        "service-accessibility": 3,
        "individual-needs-led": 1,
    }
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    page.get_by_role("link", name="Northbridge").click()
    page.get_by_role("link", name="THRIVE assessment").click()
    expect(page.get_by_role("heading", name="No rounds yet")).to_be_visible()
    page.get_by_role("link", name="Start the baseline").click()
    page.get_by_label("Day").fill("12")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Start the round").click()
    expect(page.get_by_text("Baseline started")).to_be_visible()

    # Submitting too early names what is missing and changes nothing.
    page.get_by_role("button", name="Submit baseline").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("24 not yet scored: Common Language (System)")
    screenshot(page, "assessment-submit-refused")

    # Save as you go, with the keyboard: focus lands on the saved message.
    page.get_by_role("link", name="Score commissioning and interagency work").click()
    block = item_block(page, "system-common-language")
    block.get_by_label(SCALE[2]).focus()
    page.keyboard.press("Space")
    block.get_by_label("Measure (% of services) for Common Language").fill("35")
    block.get_by_role("button", name="Save Common Language").press("Enter")
    saved = item_block(page, "system-common-language").locator(".app-saved")
    expect(saved).to_be_focused()
    expect(saved).to_have_attribute("role", "status")
    expect(page.locator("#round-progress")).to_contain_text("1 of 24 scored")
    expect(page.locator("#part-nav")).to_contain_text("1 of 8 scored")
    page.get_by_role("link", name="Back to baseline").click()

    score_round(
        page,
        baseline_scores,
        {
            "system-partnership-working": [("CAMHS service manager", 2), ("Children's social care lead", 1)],
            "service-reducing-stigma": [("School lead", 4), ("Youth charity", 3)],
        },
    )
    page.get_by_role("button", name="Submit baseline").click()
    expect(page.get_by_text("Baseline has been submitted")).to_be_visible()
    baseline = Round.objects.get(site=site_a, sequence=0)
    assert baseline.status == RoundStatus.SUBMITTED
    assert AgreedScore.objects.get(round=baseline, item__code="system-common-language").evidence_value == 35
    assert Rating.objects.filter(round=baseline).count() == 4

    page.get_by_role("link", name="See the results of baseline").click()
    expect(page.locator(".app-heatmap")).to_contain_text("1 – below")
    screenshot(page, "assessment-results-baseline")

    page.get_by_role("link", name="THRIVE assessment").first.click()
    page.get_by_role("link", name="Start a follow-up round").click()
    page.get_by_label("Day").fill("10")
    page.get_by_label("Month").fill("9")
    page.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Start the round").click()
    expect(page.get_by_role("heading", name="Follow-up 1")).to_be_visible()
    score_round(page, follow_up_scores, {"system-partnership-working": [("CAMHS service manager", 2)]})
    page.get_by_role("button", name="Submit follow-up 1").click()
    expect(page.get_by_text("Follow-up 1 has been submitted")).to_be_visible()

    page.get_by_role("link", name="See the results of follow-up 1").click()
    expect(page.locator(".app-heatmap")).to_contain_text("Mean of the part")
    screenshot(page, "assessment-results-follow-up")

    page.get_by_role("link", name="THRIVE assessment").first.click()
    page.get_by_role("link", name="Compare the baseline with later rounds").click()
    principles = page.get_by_role("table", name="By principle")
    expect(principles.get_by_role("row", name="Common Language")).to_contain_text("+0.33 improved")
    expect(principles.get_by_role("row", name="Needs-Led")).to_contain_text("−0.33 worse")
    expect(page.locator("svg.app-compare-chart")).to_be_visible()
    screenshot(page, "assessment-compare")


def test_every_assessment_page_passes_axe_with_no_serious_or_critical_violations(
    page: Page, live_server: Any, commissioner_a: User, site_a: Site
) -> None:
    instrument = load_default_instrument()
    commissioner_a.is_staff = True
    commissioner_a.save()
    items = list(Item.objects.filter(instrument=instrument).order_by("order"))
    baseline = round_create(site=site_a, user=commissioner_a, held_on=datetime.date(2026, 3, 1), source="page")
    follow_up_scores = {}
    for number, item in enumerate(items):
        agreed_score_save(
            round_=baseline,
            item=item,
            user=commissioner_a,
            data=AgreedScoreInput(score=1 + number % 4, evidence_text="Workshop notes"),
            expected_version=None,
            source="page",
        )
        follow_up_scores[item.pk] = min(4, 2 + number % 3)
    rating_save(
        round_=baseline, item=items[0], user=commissioner_a, participant="CAMHS lead", score=2, source="page", seen=None
    )
    rating_save(
        round_=baseline,
        item=items[0],
        user=commissioner_a,
        participant="School lead",
        score=4,
        source="page",
        seen=None,
    )
    round_submit(round_=baseline, user=commissioner_a, source="page", expected_version=None)
    follow_up = round_create(site=site_a, user=commissioner_a, held_on=datetime.date(2026, 9, 1), source="page")
    for item in items:
        agreed_score_save(
            round_=follow_up,
            item=item,
            user=commissioner_a,
            data=AgreedScoreInput(score=follow_up_scores[item.pk]),
            expected_version=None,
            source="page",
        )
    round_submit(round_=follow_up, user=commissioner_a, source="page", expected_version=None)
    draft = round_create(site=site_a, user=commissioner_a, held_on=datetime.date(2027, 3, 1), source="page")
    rating_save(
        round_=draft, item=items[0], user=commissioner_a, participant="CAMHS lead", score=3, source="page", seen=None
    )

    slug = {"site_slug": site_a.slug}

    def of(round_: Round, name: str, **extra: str) -> str:
        return reverse(f"assessment:{name}", kwargs={**slug, "public_id": round_.public_id, **extra})

    pages = {
        "round-list": reverse("assessment:round-list", kwargs=slug),
        "round-detail-draft": of(draft, "round-detail"),
        "round-detail-submitted": of(follow_up, "round-detail"),
        "round-edit": of(draft, "round-edit"),
        "round-lock": of(follow_up, "round-lock"),
        "round-score-edit": of(draft, "round-score", part_code="system"),
        "round-score-read-only": of(baseline, "round-score", part_code="service"),
        "round-results": of(baseline, "round-results"),
        "round-results-draft": of(draft, "round-results"),
        "round-compare": reverse("assessment:round-compare", kwargs=slug),
        "instrument-list": reverse("instruments:instrument-list"),
        "instrument-detail": reverse("instruments:instrument-detail", kwargs={"version": instrument.version}),
        "instrument-load": reverse("instruments:instrument-load"),
    }
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    problems = {}
    for name, path in pages.items():
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        problems[name] = serious_accessibility_violations(page)
        screenshot(page, f"assessment-page-{name}")

    # Error states: a refused submission, a form with errors, a bad instrument file,
    # and an item on the scoring page refused in place (htmx) and then saved.
    page.goto(live_server.url + pages["round-detail-draft"])
    page.get_by_role("button", name="Submit follow-up 2").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    problems["round-submit-refused"] = serious_accessibility_violations(page)

    page.goto(live_server.url + pages["round-edit"])
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be a real date")
    problems["round-edit-errors"] = serious_accessibility_violations(page)
    screenshot(page, "assessment-page-round-edit-errors")

    page.goto(live_server.url + pages["instrument-load"])
    page.get_by_label("Instrument file").set_input_files(
        files=[{"name": "tool.json", "mimeType": "application/json", "buffer": b'{"version": "x"}'}]
    )
    page.get_by_role("button", name="Load this version").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The file has no name.")
    problems["instrument-load-errors"] = serious_accessibility_violations(page)
    screenshot(page, "assessment-page-instrument-load-errors")

    page.goto(live_server.url + pages["round-score-edit"])
    block = item_block(page, "system-common-language")
    block.get_by_label("Measure (% of services) for Common Language").fill("about half")
    block.get_by_role("button", name="Save Common Language").click()
    summary = item_block(page, "system-common-language").locator(".govuk-error-summary")
    expect(summary).to_contain_text("Measure must be a number, like 45")
    expect(summary).to_be_focused()
    problems["round-score-error"] = serious_accessibility_violations(page)
    screenshot(page, "assessment-page-round-score-error")
    item_block(page, "system-needs-led").get_by_label(SCALE[3]).check()
    item_block(page, "system-needs-led").get_by_role("button", name="Save Needs-Led").click()
    expect(item_block(page, "system-needs-led").locator(".app-saved")).to_be_focused()
    problems["round-score-saved"] = serious_accessibility_violations(page)
    screenshot(page, "assessment-page-round-score-saved")

    assert {name: found for name, found in problems.items() if found} == {}


def test_a_stale_agreed_score_and_a_stale_rating_are_refused_in_place_showing_what_the_colleague_saved(
    page: Page, live_server: Any, commissioner_a: User, site_a: Site
) -> None:
    instrument = load_default_instrument()
    colleague = UserFactory(username="colleague", first_name="Sam", last_name="Jones")
    MembershipFactory(user=colleague, site=site_a, role=Role.COMMISSIONER)
    draft = round_create(site=site_a, user=commissioner_a, source="page", held_on=datetime.date(2026, 3, 1))
    items = {item.code: item for item in Item.objects.filter(instrument=instrument)}
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    page.goto(
        live_server.url
        + reverse(
            "assessment:round-score",
            kwargs={"site_slug": site_a.slug, "public_id": draft.public_id, "part_code": "system"},
        )
    )
    # While the page is open, a colleague saves Common Language and rates Needs-Led.
    agreed_score_save(
        round_=draft,
        item=items["system-common-language"],
        user=colleague,
        source="page",
        data=AgreedScoreInput(score=2, evidence_value=Decimal("35"), notes="Sam's view"),
        expected_version=0,
    )
    rating_save(
        round_=draft,
        item=items["system-needs-led"],
        user=colleague,
        source="page",
        participant="CAMHS lead",
        score=3,
        seen={},
    )
    problems = {}

    block = item_block(page, "system-common-language")
    block.get_by_label(SCALE[3]).check()
    block.get_by_label("Measure (% of services) for Common Language").fill("60")
    block.get_by_role("button", name="Save Common Language").click()
    block = item_block(page, "system-common-language")
    summary = block.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Sam Jones changed this agreed score at")
    expect(summary).to_be_focused()
    notice = block.locator(".app-stale-notice")
    expect(notice.get_by_role("row", name="Agreed score")).to_contain_text("2 – Some improvement required")
    expect(notice.get_by_role("row", name="Measure")).to_contain_text("35")
    expect(block.get_by_label(SCALE[3])).to_be_checked()
    expect(block.get_by_label("Measure (% of services) for Common Language")).to_have_value("60")
    problems["stale-agreed-score"] = serious_accessibility_violations(page)
    screenshot(page, "assessment-page-round-score-stale-agreed-score")
    assert AgreedScore.objects.get(round=draft).score == 2

    block = item_block(page, "system-needs-led")
    block.get_by_label("Name or role").fill("CAMHS lead")
    block.locator("#id_system-needs-led-rating-score_1").check()
    block.get_by_role("button", name="Save rating").click()
    block = item_block(page, "system-needs-led")
    expect(block.locator(".govuk-error-summary")).to_contain_text("Sam Jones recorded a rating of 3 for CAMHS lead")
    expect(block.get_by_text("CAMHS lead: 3")).to_be_visible()
    expect(block.locator(".app-stale-notice").get_by_role("row", name="Their score")).to_contain_text("3")
    expect(block.get_by_label("Name or role")).to_have_value("CAMHS lead")
    problems["stale-rating"] = serious_accessibility_violations(page)
    screenshot(page, "assessment-page-round-score-stale-rating")
    assert list(Rating.objects.values_list("participant", "score")) == [("CAMHS lead", 3)]

    # Having seen their rating, saving again changes it: a deliberate choice.
    block.get_by_role("button", name="Save rating").click()
    expect(item_block(page, "system-needs-led").get_by_text("CAMHS lead: 1")).to_be_visible()
    assert list(Rating.objects.values_list("participant", "score")) == [("CAMHS lead", 1)]
    assert {name: found for name, found in problems.items() if found} == {}
