"""The gap analysis in Debian's Chromium: a commissioner starts a run, watches the
progress bar advance and the results appear without a reload, and accepts an item;
and an axe-core check of every gap analysis page."""

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from gaps import services as gap_services
from gaps.models import AnalysisRun, RunStatus, RunTrigger
from gaps.results import run_results
from gaps.tests.test_pages import database_url_for_tests, finished_run, gaps_url, seed_prevalence, small_site
from sites.models import Site
from tests.browser import screenshot, serious_accessibility_violations, sign_in
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

    expect(page.get_by_role("heading", name="Improvements, in the site's order")).to_be_visible()
    expect(bar).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage === true")
    run = AnalysisRun.objects.get(site=site_a)
    assert run.status == RunStatus.SUCCEEDED
    screenshot(page, "gaps-results")

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
