"""The gap analysis in Debian's Chromium: a commissioner starts a run, watches the
progress bar advance and the results appear without a reload, and accepts an item;
the demo's run page opens on a summary that fits one screen, on a laptop and on a
workshop projector, and prints whole; keyboard users move between its tabs and follow
a grouping to its gaps; and an axe-core check of every gap analysis page."""

import json
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from demo.services import DEMO_PASSWORD, demo_load
from gaps import services as gap_services
from gaps.models import AnalysisRun, RunStatus, RunTrigger
from gaps.results import run_results
from gaps.selectors import latest_succeeded_run
from gaps.tests.test_pages import database_url_for_tests, finished_run, gaps_url, seed_prevalence, small_site
from sites.models import Site
from tests.browser import ARTIFACTS, screenshot, serious_accessibility_violations, sign_in
from tests.celery_worker import CeleryWorker
from tests.factories import PASSWORD, OfferFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.worker
def test_commissioner_watches_a_run_progress_sees_results_without_a_reload_and_accepts_an_item(
    page: Page,
    live_server: Any,
    celery_worker_process: CeleryWorker,
    commissioner_a: User,
    site_a: Site,
    groupings: dict[str, Any],
) -> None:
    seed_prevalence()
    small_site(site_a, groupings)
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    page.goto(live_server.url + gaps_url(site_a))
    expect(page.get_by_role("heading", name="What the gap analysis does")).to_be_visible()
    screenshot(page, "gaps-home-empty")

    status = page.locator("#run-progress-text")
    bar = page.locator("#run-progress-bar")
    # Two locks hold the worker at two points of the run, so each step of the
    # progress bar can be seen: reading the register, then saving the results.
    with (
        psycopg.connect(database_url_for_tests()) as register_lock,
        psycopg.connect(database_url_for_tests()) as results_lock,
    ):
        register_lock.execute("LOCK TABLE mapping_offer IN ACCESS EXCLUSIVE MODE")
        results_lock.execute("LOCK TABLE gaps_gap IN ACCESS EXCLUSIVE MODE")
        page.get_by_role("button", name="Run the gap analysis").click()
        expect(page.get_by_text("The gap analysis has started")).to_be_visible()
        # Survives only as long as the document does: a reload would drop it.
        page.evaluate("window.stillTheSamePage = true")

        expect(status).to_have_text("Reading the register – 5%")
        expect(bar).to_have_attribute("value", "5")
        screenshot(page, "gaps-progress-reading")
        register_lock.rollback()

        expect(status).to_have_text("Saving gaps and improvements – 80%")
        expect(bar).to_have_attribute("value", "80")
        screenshot(page, "gaps-progress-saving")
        results_lock.rollback()

    expect(page.get_by_role("heading", name="Top improvements")).to_be_visible()
    expect(bar).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage === true")
    run = AnalysisRun.objects.get(site=site_a)
    assert run.status == RunStatus.SUCCEEDED
    screenshot(page, "gaps-results")
    # The results loaded in place have working tabs.
    page.get_by_role("tab", name="Improvements").click()
    expect(page.get_by_role("heading", name="Improvements, in the site's order")).to_be_visible()
    expect(page.get_by_role("heading", name="Top improvements")).to_be_hidden()
    page.get_by_role("tab", name="Summary").click()

    first = run_results(run=run).improvements[0]
    page.get_by_role("link", name=first.title).first.click()
    expect(page.get_by_role("heading", name=first.title, level=1)).to_be_visible()
    page.get_by_label("Accept: the site will work on this improvement").check()
    page.get_by_label("Owner").fill("Priya Shah")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text(f"Your decision on “{first.title}” has been saved: Accepted.")).to_be_visible()
    expect(page.locator(".govuk-summary-list").filter(has_text="Owner")).to_contain_text("Priya Shah")
    screenshot(page, "gaps-improvement-accepted")

    page.get_by_role("link", name="Gap analysis", exact=True).first.click()
    card = page.locator(".app-improvement").first
    expect(card).to_contain_text("Accepted · owner: Priya Shah")


def _check(page: Page, name: str) -> None:
    violations = serious_accessibility_violations(page)
    screenshot(page, name)
    assert violations == [], (name, violations)


def test_every_gap_analysis_page_has_no_serious_accessibility_violations(
    page: Page,
    browser: Browser,
    live_server: Any,
    commissioner_a: User,
    viewer_a: User,
    site_a: Site,
    groupings: dict[str, Any],
) -> None:
    seed_prevalence()
    small_site(site_a, groupings)
    ServiceFactory(site=site_a, name="Old Record", last_checked_on=timezone.localdate() - timedelta(days=500))
    first_run = finished_run(site_a, commissioner_a)
    items = run_results(run=first_run).improvements
    gap_services.decision_update(
        site=site_a,
        key=items[0].key,
        user=commissioner_a,
        source="page",
        # Due yesterday: shown as overdue on the list and the improvement's page.
        changes={"status": "accepted", "owner": "Ada", "due_on": timezone.localdate() - timedelta(days=1)},
        expected_version=None,
    )
    gap_services.pdsa_record(
        site=site_a,
        key=items[0].key,
        user=commissioner_a,
        source="page",
        stage="plan",
        note="Agree a pilot with two schools.",
        recorded_on=timezone.localdate(),
    )
    failed = AnalysisRun.objects.create(
        site=site_a,
        trigger=RunTrigger.NIGHTLY,
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error="OperationalError: the database went away\n\nTraceback (most recent call last): ...",
    )
    risk = ServiceFactory(site=site_a, name="Risk Panel", sector="social_care")
    OfferFactory(service=risk, grouping=groupings["getting-risk-support"], capacity_share=100)
    latest = finished_run(site_a, commissioner_a)

    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    pages = {
        "gaps-a11y-home": gaps_url(site_a),
        "gaps-a11y-run-list": gaps_url(site_a, "run-list"),
        "gaps-a11y-run-detail": gaps_url(site_a, "run-detail", public_id=latest.public_id),
        "gaps-a11y-run-failed": gaps_url(site_a, "run-detail", public_id=failed.public_id),
        "gaps-a11y-improvement": gaps_url(site_a, "improvement", key=items[0].key),
        "gaps-a11y-assumptions": gaps_url(site_a, "assumptions"),
    }
    for name, url in pages.items():
        page.goto(live_server.url + url)
        _check(page, name)

    page.goto(live_server.url + gaps_url(site_a, "improvement", key=items[1].key))
    page.get_by_role("radio", name="Dismiss").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why the improvement is dismissed.")
    _check(page, "gaps-a11y-improvement-error")

    page.goto(live_server.url + gaps_url(site_a, "assumptions"))
    page.get_by_label("Getting Risk Support", exact=True).fill("10")
    page.get_by_role("button", name="Save assumptions").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Make them 100%.")
    _check(page, "gaps-a11y-assumptions-error")

    # Someone else saves the decision while the page is open: the refusal shows what they saved.
    page.goto(live_server.url + gaps_url(site_a, "improvement", key=items[0].key))
    gap_services.decision_update(
        site=site_a,
        key=items[0].key,
        user=commissioner_a,
        source="api",
        changes={"owner": "Team Sam"},
        expected_version=None,
    )
    page.get_by_label("Owner").fill("Priya Shah")
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("changed this decision")
    expect(page.locator("#stale-notice")).to_contain_text("Team Sam")
    expect(page.get_by_label("Owner")).to_have_value("Priya Shah")
    _check(page, "gaps-a11y-improvement-stale")

    queued = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE, requested_by=commissioner_a)
    AnalysisRun.objects.filter(pk=queued.pk).update(
        status=RunStatus.RUNNING, progress=40, progress_message="Comparing provision with need"
    )
    page.goto(live_server.url + gaps_url(site_a))
    expect(page.locator("#run-progress-text")).to_have_text("Comparing provision with need – 40%")
    _check(page, "gaps-a11y-home-in-progress")
    page.goto(live_server.url + gaps_url(site_a, "run-progress", public_id=queued.public_id))
    _check(page, "gaps-a11y-progress")

    reader = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        sign_in(reader, live_server.url, "viewer-a", PASSWORD)
        for name, url in (
            ("gaps-a11y-viewer-improvement", gaps_url(site_a, "improvement", key=items[0].key)),
            ("gaps-a11y-viewer-assumptions", gaps_url(site_a, "assumptions")),
        ):
            reader.goto(live_server.url + url)
            _check(reader, name)
    finally:
        reader.context.close()


# The run's page: a summary first, details in tabs --------------------------------------

# The demo's Northbridge run page at 1366 px wide before it opened on a summary
# (issue 9): every section one after another.
PAGE_HEIGHT_BEFORE = 13_940
LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1920, "height": 1080}
PHONE = {"width": 375, "height": 800}
# A4 at 96 dots an inch, for a look at the printed page.
A4 = {"width": 794, "height": 1123}


def _height(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["height"])


def _bottom(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["y"] + box["height"])


def test_the_demo_run_page_opens_on_a_summary_that_fits_one_screen_and_prints_whole(
    page: Page, live_server: Any
) -> None:
    seed_prevalence()
    demo_load()
    site = Site.objects.get(slug="northbridge")
    run = latest_succeeded_run(site=site)
    assert run is not None
    summary = run_results(run=run).summary
    sign_in(page, live_server.url, "northbridge-commissioner", DEMO_PASSWORD)

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(LAPTOP)
    page.goto(live_server.url + gaps_url(site, "run-detail", public_id=run.public_id))
    expect(page.get_by_role("tab", name="Summary")).to_have_attribute("aria-selected", "true")
    for hidden in ("#improvements", "#gaps", "#inputs"):
        expect(page.locator(hidden)).to_be_hidden()
    rows = page.locator("#summary-improvements tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text(summary.top_improvements[0].title)
    expect(page.locator("#summary-groupings tbody tr")).to_have_count(len(summary.by_grouping))
    laptop = {
        "summary_tab": _height(page, "#summary"),
        "page": page.evaluate("document.documentElement.scrollHeight"),
        "first_improvement_bottom": _bottom(page, "#summary-improvements tbody tr:first-child"),
    }
    page.screenshot(path=str(ARTIFACTS / "gaps-summary-1366x768.png"))
    screenshot(page, "gaps-summary-1366-full")
    assert serious_accessibility_violations(page) == []

    page.set_viewport_size(PROJECTOR)
    projector = {"summary_tab": _height(page, "#summary"), "summary_bottom": _bottom(page, "#summary")}
    page.screenshot(path=str(ARTIFACTS / "gaps-summary-1920x1080.png"))
    (ARTIFACTS / "gaps-summary-heights.json").write_text(json.dumps({"1366x768": laptop, "1920x1080": projector}))

    # On a laptop the summary is a screenful and starts in the first one; on the
    # projector all of it is on the first screen; the whole page is a fraction of before.
    assert laptop["summary_tab"] < 1100, laptop
    assert laptop["first_improvement_bottom"] < LAPTOP["height"], laptop
    assert projector["summary_bottom"] < PROJECTOR["height"], projector
    assert laptop["page"] < PAGE_HEIGHT_BEFORE / 4, laptop

    # On a phone the tabs are sections one after another, and nothing is wider than the screen.
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Every tab's panel is clean for axe too.
    page.set_viewport_size(LAPTOP)
    for tab, heading in (
        ("Improvements", "Improvements, in the site's order"),
        ("Gaps", "Gaps found, by grouping"),
        ("What the run used", "What this run used"),
    ):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
        expect(page.locator("#summary")).to_be_hidden()
        violations = serious_accessibility_violations(page)
        screenshot(page, f"gaps-tab-{tab.split()[0].lower()}")
        assert violations == [], (tab, violations)

    # On paper every panel prints, without the tab list, the navigation or link addresses.
    page.get_by_role("tab", name="Summary").click()
    page.emulate_media(media="print")
    for panel in ("#summary", "#improvements", "#gaps", "#inputs"):
        expect(page.locator(panel)).to_be_visible()
    for chrome in (".govuk-tabs__list", ".govuk-breadcrumbs", ".govuk-header", "footer"):
        expect(page.locator(chrome)).to_be_hidden()
    link_address = page.evaluate(
        "getComputedStyle(document.querySelector('#summary-improvements a'), '::after').content"
    )
    assert link_address in ("none", "normal"), link_address
    page.pdf(path=str(ARTIFACTS / "gaps-run-print.pdf"), format="A4")
    page.set_viewport_size(A4)
    screenshot(page, "gaps-run-print")


def test_keyboard_users_move_between_the_tabs_and_follow_a_grouping_to_its_gaps(
    page: Page, browser: Browser, live_server: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    seed_prevalence()
    small_site(site_a, groupings)
    run = finished_run(site_a, commissioner_a)
    url = live_server.url + gaps_url(site_a, "run-detail", public_id=run.public_id)
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    page.goto(url)

    def focused() -> str:
        return str(page.evaluate("document.activeElement.textContent.trim()"))

    def tab_until(text: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if focused() == text:
                return
        pytest.fail(f"Tab never reached {text!r}")

    tab_until("Summary")
    page.keyboard.press("ArrowRight")
    improvements = page.get_by_role("tab", name="Improvements")
    expect(improvements).to_be_focused()
    expect(improvements).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("heading", name="Improvements, in the site's order")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Gaps")).to_be_focused()
    expect(page.get_by_role("heading", name="Gaps found, by grouping")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Summary")).to_be_focused()
    expect(page.get_by_role("heading", name="Top improvements")).to_be_visible()

    # From the summary, a grouping's link opens the Gaps tab at that grouping's gaps.
    tab_until("Getting Help")
    page.keyboard.press("Enter")
    expect(page.get_by_role("tab", name="Gaps")).to_have_attribute("aria-selected", "true")
    section = page.locator("#gaps-getting-help")
    expect(section).to_be_focused()
    expect(section).to_be_in_viewport()
    assert page.url.endswith("#gaps-getting-help")
    screenshot(page, "gaps-keyboard-grouping")
    page.go_back()
    expect(page.get_by_role("tab", name="Summary")).to_have_attribute("aria-selected", "true")
    # Opened from an address naming a grouping's gaps, the page shows them.
    page.goto(url + "#gaps-getting-more-help")
    expect(page.locator("#gaps-getting-more-help")).to_be_focused()
    expect(page.get_by_role("tab", name="Gaps")).to_have_attribute("aria-selected", "true")

    # Without JavaScript the tabs are a contents list, and every section shows.
    plain = browser.new_context(viewport=LAPTOP, java_script_enabled=False).new_page()
    try:
        sign_in(plain, live_server.url, "commissioner-a", PASSWORD)
        plain.goto(url)
        expect(plain.get_by_role("heading", name="Contents")).to_be_visible()
        for heading in ("Top improvements", "Improvements, in the site's order", "Gaps found, by grouping"):
            expect(plain.get_by_role("heading", name=heading)).to_be_visible()
        plain.get_by_role("link", name="Getting Help", exact=True).click()
        assert plain.url.endswith("#gaps-getting-help")
        screenshot(plain, "gaps-no-javascript")
    finally:
        plain.context.close()
