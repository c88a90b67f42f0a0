"""The gap analysis pages, for every persona: the commissioner of the site, the
commissioner of another site, a site viewer, a programme reviewer and an anonymous
visitor; the decisions, PDSA steps, population and assumptions forms; and the
journey on the demo locality with a real Celery worker."""

import importlib
import os
import re
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from demo.services import demo_load
from gaps import services as gap_services
from gaps.models import (
    AnalysisRun,
    DecisionStatus,
    Gap,
    ImprovementDecision,
    PdsaEntry,
    PrevalenceFigure,
    RunStatus,
    RunTrigger,
    SiteAssumptions,
)
from gaps.results import run_results
from gaps.tests.html import part, table_rows, tables_rows
from sites.models import AgeBand, Site, SitePopulation
from tests.celery_worker import CeleryWorker, point_broker_at
from tests.factories import OfferFactory, ServiceFactory
from thrive_site.celery import app as celery_app

FINISH_TIMEOUT = 30.0
SPLIT = {"advice_percent": "50", "help_percent": "30", "more_help_percent": "15", "risk_percent": "5"}
WEIGHTS = {
    f"weight_{code.replace('-', '_')}": "1"
    for code in (
        "common-language",
        "needs-led",
        "shared-decision-making",
        "proactive-prevention",
        "partnership-working",
        "outcome-informed",
        "reducing-stigma",
        "accessibility",
    )
}


# Helpers ---------------------------------------------------------------------------------


def seed_prevalence() -> None:
    """Transactional tests flush the tables the migrations seeded; put the survey back."""
    importlib.import_module("gaps.migrations.0002_seed_prevalence").seed(django_apps, None)


def small_site(site: Site, groupings: dict[str, Any]) -> None:
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.create(site=site, age_band=band.value, people=people)
    for number in range(6):
        service = ServiceFactory(site=site, name=f"Service {number}", annual_capacity=100 + number)
        OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60)
        OfferFactory(service=service, grouping=groupings["thriving"], capacity_share=40)


def finished_run(site: Site, user: User | None = None) -> AnalysisRun:
    """A run carried out in this process, as the worker would."""
    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.PAGE, requested_by=user)
    gap_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def gaps_url(site: Site, name: str = "gaps-home", **kwargs: Any) -> str:
    return reverse(f"gaps:{name}", kwargs={"site_slug": site.slug, **kwargs})


def decision_post(status: str, owner: str = "", reason: str = "", due: date | None = None) -> dict[str, str]:
    return {
        "action": "decision",
        "decision-status": status,
        "decision-dismiss_reason": reason,
        "decision-owner": owner,
        "decision-due_on_0": str(due.day) if due else "",
        "decision-due_on_1": str(due.month) if due else "",
        "decision-due_on_2": str(due.year) if due else "",
    }


def assumptions_post(**changes: str) -> dict[str, str]:
    return {
        "action": "assumptions",
        "thriving_percent": "80",
        **SPLIT,
        "max_wait_weeks": "18",
        "self_referral_percent": "50",
        **WEIGHTS,
        **changes,
    }


def population_post(*people: str) -> dict[str, str]:
    names = ("people_0_4", "people_5_10", "people_11_16", "people_17_19", "people_20_25")
    return {"action": "population", **dict(zip(names, people, strict=True))}


def post_form(client: Client, url: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Post as the page's forms would: with the version each form showed when the page
    was loaded (a test about something else than two people saving at once)."""
    page = client.get(url)
    html = page.content.decode() if page.status_code == 200 else ""
    versions = dict(re.findall(r'name="([\w-]*version)" value="(\d+)"', html))
    return client.post(url, {**versions, **(data or {})}, **kwargs)


def titles_in_order(html: str) -> list[str]:
    return re.findall(r'class="govuk-summary-card__title">.*?<a class="govuk-link" href="[^"]+">([^<]+)</a>', html)


def wait_for(predicate: Any, timeout: float = FINISH_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


# Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def analysed_site_a(site_a: Site, commissioner_a: User, groupings: dict[str, Any]) -> AnalysisRun:
    small_site(site_a, groupings)
    return finished_run(site_a, commissioner_a)


@pytest.fixture
def first_key(analysed_site_a: AnalysisRun) -> str:
    return run_results(run=analysed_site_a).improvements[0].key


# Who may see and do what ------------------------------------------------------------------


def read_urls(site: Site, run: AnalysisRun, key: str) -> list[str]:
    return [
        gaps_url(site),
        gaps_url(site, "run-list"),
        gaps_url(site, "run-detail", public_id=run.public_id),
        gaps_url(site, "improvement", key=key),
        gaps_url(site, "assumptions"),
    ]


def write_posts(site: Site, key: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (gaps_url(site, "run-request"), {}),
        (gaps_url(site, "improvement", key=key), decision_post("accepted", owner="Someone")),
        (gaps_url(site, "improvement", key=key), {"action": "position", "position-manual_rank": "1"}),
        (gaps_url(site, "improvement", key=key), {"action": "position-clear"}),
        (
            gaps_url(site, "improvement", key=key),
            {
                "action": "pdsa",
                "pdsa-stage": "plan",
                "pdsa-recorded_on_0": "1",
                "pdsa-recorded_on_1": "2",
                "pdsa-recorded_on_2": "2026",
                "pdsa-note": "A plan",
            },
        ),
        (gaps_url(site, "assumptions"), assumptions_post(thriving_percent="70")),
        (gaps_url(site, "assumptions"), population_post("1", "2", "3", "4", "5")),
    ]


def nothing_changed(site: Site, runs_before: int) -> bool:
    return (
        AnalysisRun.objects.filter(site=site).count() == runs_before
        and not ImprovementDecision.objects.filter(site=site).exists()
        and not PdsaEntry.objects.exists()
        and not SiteAssumptions.objects.filter(site=site).exists()
        and not SitePopulation.objects.filter(site=site, people=1).exists()
    )


@pytest.mark.django_db
def test_commissioner_can_open_every_gap_page_and_sees_the_controls(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun, first_key: str
) -> None:
    client = client_for(commissioner_a)
    for url in read_urls(site_a, analysed_site_a, first_key):
        assert client.get(url).status_code == 200, url
    assert "Run the gap analysis" in client.get(gaps_url(site_a)).content.decode()
    assert "Save decision" in client.get(gaps_url(site_a, "improvement", key=first_key)).content.decode()
    assert "Save assumptions" in client.get(gaps_url(site_a, "assumptions")).content.decode()


@pytest.mark.django_db
def test_commissioner_can_make_every_change(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun, first_key: str
) -> None:
    client = client_for(commissioner_a)
    for url, data in write_posts(site_a, first_key):
        response = post_form(client, url, data)
        assert response.status_code == 302, (url, data.get("action"), response.content.decode()[:2000])
    assert AnalysisRun.objects.filter(site=site_a, status=RunStatus.QUEUED).count() == 1
    assert ImprovementDecision.objects.get(site=site_a, key=first_key).status == DecisionStatus.ACCEPTED
    assert PdsaEntry.objects.filter(decision__site=site_a).count() == 1
    assert SiteAssumptions.objects.get(site=site_a).thriving_percent == 70


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
@pytest.mark.django_db
def test_readers_see_every_gap_page_without_controls_and_cannot_change_anything(
    request: pytest.FixtureRequest,
    persona: str,
    client_for: Any,
    site_a: Site,
    analysed_site_a: AnalysisRun,
    first_key: str,
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for url in read_urls(site_a, analysed_site_a, first_key):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for control in ("Run the gap analysis", "Save decision", "Record step", "Save assumptions", "Save population"):
            assert control not in html, (url, control)
    runs_before = AnalysisRun.objects.filter(site=site_a).count()
    for url, data in write_posts(site_a, first_key):
        assert post_form(client, url, data).status_code == 403, (url, data.get("action"))
    assert nothing_changed(site_a, runs_before)


@pytest.mark.django_db
def test_commissioner_of_another_site_gets_404_for_every_gap_page_and_change(
    client_for: Any, commissioner_b: User, site_a: Site, analysed_site_a: AnalysisRun, first_key: str
) -> None:
    client = client_for(commissioner_b)
    for url in [
        *read_urls(site_a, analysed_site_a, first_key),
        gaps_url(site_a, "run-progress", public_id=analysed_site_a.public_id),
    ]:
        assert client.get(url).status_code == 404, url
    runs_before = AnalysisRun.objects.filter(site=site_a).count()
    for url, data in write_posts(site_a, first_key):
        assert post_form(client, url, data).status_code == 404, (url, data.get("action"))
    assert nothing_changed(site_a, runs_before)


@pytest.mark.django_db
def test_commissioner_of_another_site_gets_404_for_a_run_of_site_a_under_their_own_site(
    client_for: Any, commissioner_b: User, site_b: Site, analysed_site_a: AnalysisRun, first_key: str
) -> None:
    client = client_for(commissioner_b)
    assert client.get(gaps_url(site_b, "run-detail", public_id=analysed_site_a.public_id)).status_code == 404
    assert client.get(gaps_url(site_b, "run-progress", public_id=analysed_site_a.public_id)).status_code == 404
    assert client.get(gaps_url(site_b, "improvement", key=first_key)).status_code == 404


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_sign_in_from_every_gap_page_and_change(
    site_a: Site, analysed_site_a: AnalysisRun, first_key: str
) -> None:
    client = Client()
    for url in [
        *read_urls(site_a, analysed_site_a, first_key),
        gaps_url(site_a, "run-progress", public_id=analysed_site_a.public_id),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url
    for url, data in write_posts(site_a, first_key):
        response = post_form(client, url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    assert nothing_changed(site_a, 1)


@pytest.mark.django_db
def test_an_improvement_no_run_suggested_is_not_found(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun
) -> None:
    client = client_for(commissioner_a)
    assert client.get(gaps_url(site_a, "improvement", key="grow:nowhere")).status_code == 404
    assert (
        post_form(client, gaps_url(site_a, "improvement", key="grow:nowhere"), decision_post("accepted")).status_code
        == 404
    )
    assert not ImprovementDecision.objects.exists()


# Starting a run and watching it ---------------------------------------------------------


@pytest.mark.django_db
def test_gap_analysis_page_explains_the_analysis_before_any_run(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    html = client_for(commissioner_a).get(gaps_url(site_a)).content.decode()
    assert "What the gap analysis does" in html
    assert "No population is recorded" in html
    assert "Run the gap analysis" in html
    assert 'aria-current="page">Gap analysis</a>' in html


@pytest.mark.django_db
def test_requesting_a_run_answers_at_once_and_the_page_shows_its_progress(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    client = client_for(commissioner_a)
    response = client.post(gaps_url(site_a, "run-request"), follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [(gaps_url(site_a), 302)]
    assert "The gap analysis has started" in html
    run = AnalysisRun.objects.get(site=site_a)
    assert run.status == RunStatus.QUEUED
    assert run.requested_by == commissioner_a
    assert '<progress class="app-progress" id="run-progress-bar" max="100" value="0"' in html
    assert "Waiting for the job service to start it – 0%" in html
    assert f'hx-get="{gaps_url(site_a, "run-progress", public_id=run.public_id)}" hx-trigger="every 1s"' in html

    again = client.post(gaps_url(site_a, "run-request"), follow=True).content.decode()
    assert "An analysis of this site is already in progress." in again
    assert AnalysisRun.objects.filter(site=site_a).count() == 1


@pytest.mark.django_db
def test_progress_partial_reports_progress_then_loads_the_results_into_the_page(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE, requested_by=commissioner_a)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, progress=40, progress_message="Comparing provision with need"
    )
    client = client_for(commissioner_a)
    url = gaps_url(site_a, "run-progress", public_id=run.public_id)
    home = "http://testserver" + gaps_url(site_a)

    partial = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=home).content.decode()
    assert "<html" not in partial
    assert 'value="40"' in partial
    assert "Comparing provision with need – 40%" in partial
    assert 'hx-trigger="every 1s"' in partial
    assert client.get(url).status_code == 200  # a plain page without htmx

    AnalysisRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, progress=0)
    gap_services.run_execute(run_id=run.pk)
    finished = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=home).content.decode()
    assert "every 1s" not in finished
    assert f'hx-get="{gaps_url(site_a)}" hx-trigger="load" hx-select="#gap-analysis"' in finished
    detail = gaps_url(site_a, "run-detail", public_id=run.public_id)
    on_run_page = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver" + detail)
    assert f'hx-get="{detail}" hx-trigger="load"' in on_run_page.content.decode()
    # From the plain progress page, or a page of another origin, htmx goes to the run's page.
    for current in ("http://testserver" + url, "https://evil.example" + gaps_url(site_a)):
        elsewhere = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current)
        assert elsewhere.headers["HX-Redirect"] == detail
    plain = client.get(url)
    assert plain.status_code == 302 and plain.url == detail


@pytest.mark.django_db(transaction=True)
def test_requesting_a_run_while_the_broker_is_down_answers_quickly_with_the_message_and_keeps_the_run(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    client = client_for(commissioner_a)
    working_broker, eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    point_broker_at("redis://127.0.0.1:1/0")  # nothing listens there: Redis is down
    try:
        started = time.monotonic()
        response = client.post(gaps_url(site_a, "run-request"))
        elapsed = time.monotonic() - started
    finally:
        celery_app.conf.task_always_eager = eager
        point_broker_at(working_broker)
    assert elapsed < 5
    assert response.status_code == 302
    html = client.get(response.url).content.decode()
    assert "Important" in html
    assert gap_services.BROKER_DOWN_MESSAGE in html.replace("&#x27;", "'")
    assert "The job service could not be reached when the analysis was requested" in html
    run = AnalysisRun.objects.get(site=site_a)
    assert run.status == RunStatus.QUEUED
    assert run.enqueue_error


@pytest.mark.django_db
def test_failed_run_shows_the_error_in_plain_words_and_offers_to_run_again(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    run = AnalysisRun.objects.create(
        site=site_a,
        trigger=RunTrigger.PAGE,
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error='ZeroDivisionError: division by zero\n\nTraceback (most recent call last):\n  File "x.py"',
    )
    client = client_for(commissioner_a)
    for url in (gaps_url(site_a, "run-detail", public_id=run.public_id), gaps_url(site_a)):
        html = client.get(url).content.decode()
        assert "did not finish" in html
        assert "ZeroDivisionError: division by zero" in html
        assert "Traceback" not in html
        assert "Run again" in html


# Results ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_run_page_shows_ranked_improvements_gaps_and_what_the_run_used(
    client_for: Any, viewer_a: User, site_a: Site, analysed_site_a: AnalysisRun
) -> None:
    html = (
        client_for(viewer_a).get(gaps_url(site_a, "run-detail", public_id=analysed_site_a.public_id)).content.decode()
    )
    titles = titles_in_order(html)
    assert titles == [i.title for i in run_results(run=analysed_site_a).improvements]
    assert "Increase Getting Risk Support capacity to meet estimated need" in titles
    assert "Getting Risk Support: no active service in the register offers this grouping." in html
    assert "No service" in html  # a kind label
    assert "Severity 100 (worst of" in html  # the priority explained
    # What this run used: prevalence with its wave, measure, source ages and caveat.
    assert "2023 (wave 4)" in html
    assert "Probable mental disorder (SDQ-based, unweighted for severity)" in html
    assert "8 to 10" in html
    assert "Survey waves are not directly comparable" in html
    # The local assumptions, labelled as such, with the project's defaults marked.
    assert "These are the site's local assumptions, not published figures." in html
    assert "Thriving: share of all children and young people" in html
    assert "Self-referral target: share of advice and help capacity" in html
    assert html.count("Project default") >= 14
    assert "Proactive Prevention and Promotion" in html
    assert "Getting Help" in html and "Estimated need a year" in html


@pytest.mark.django_db
def test_results_of_a_run_do_not_change_when_the_assumptions_change(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun
) -> None:
    client = client_for(commissioner_a)
    response = post_form(
        client, gaps_url(site_a, "assumptions"), assumptions_post(max_wait_weeks="7", thriving_percent="75")
    )
    assert response.status_code == 302
    PrevalenceFigure.objects.filter(age_band="11-16").update(wave="Edited later")
    html = client.get(gaps_url(site_a, "run-detail", public_id=analysed_site_a.public_id)).content.decode()
    assert ">18 weeks<" in html and ">7 weeks<" not in html
    assert "Edited later" not in html
    assert "Set by the site" not in html


@pytest.mark.django_db
def test_data_quality_gaps_are_shown_apart_from_the_improvements(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    ServiceFactory(site=site_a, name="Old Record", last_checked_on=timezone.localdate() - timedelta(days=500))
    run = finished_run(site_a, commissioner_a)
    html = client_for(commissioner_a).get(gaps_url(site_a, "run-detail", public_id=run.public_id)).content.decode()
    quality = html.index('id="data-quality"')
    assert html.index("have not been checked for more than 365 days") > quality
    assert "Check and update stale service records" not in titles_in_order(html)


@pytest.mark.django_db
def test_a_gap_of_a_kind_the_page_has_never_seen_shows_under_its_grouping_with_its_numbers(
    client_for: Any, viewer_a: User, site_a: Site, analysed_site_a: AnalysisRun
) -> None:
    sentence = "Getting Risk Support: no service can be reached out of hours."
    Gap.objects.create(
        run=analysed_site_a,
        key="hours:getting-risk-support",
        kind="out-of-hours",
        grouping="getting-risk-support",
        principle="accessibility",
        severity=100,
        children_affected=206,
        numbers={"services_out_of_hours": 0, "services": 2},
        sentence=sentence,
        position=99,
    )
    html = client_for(viewer_a).get(gaps_url(site_a, "run-detail", public_id=analysed_site_a.public_id))
    page = html.content.decode()
    risk = next(row for row in table_rows(part(page, "summary-groupings")) if row[0] == "Getting Risk Support")
    assert risk[-1] == "100"
    gaps = part(page, "gaps")
    section = gaps[gaps.index('id="gaps-getting-risk-support"') :].split("<h3", 1)[0]
    row = next(row for row in tables_rows(section, "app-gap-table") if row[0] == sentence)
    # Numbers the page has labels for come first, then the new ones, named from their keys.
    assert row[1:] == ["out-of-hours", "206", "100", "Services: 2 Services out of hours: 0"]


@pytest.mark.django_db
def test_second_run_shows_the_comparison_and_keeps_the_decisions(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun, groupings: dict[str, Any]
) -> None:
    client = client_for(commissioner_a)
    first = run_results(run=analysed_site_a).improvements[0]
    post_form(client, gaps_url(site_a, "improvement", key=first.key), decision_post("accepted", owner="Ada Lovelace"))
    risk = ServiceFactory(site=site_a, name="Risk Panel", sector="social_care")
    OfferFactory(service=risk, grouping=groupings["getting-risk-support"], capacity_share=100)
    second = finished_run(site_a, commissioner_a)
    assert second.previous_id == analysed_site_a.pk

    html = client.get(gaps_url(site_a, "run-detail", public_id=second.public_id)).content.decode()
    assert "Changes since the previous analysis" in html
    assert "Getting Risk Support: no active service in the register offers this grouping." in html  # resolved
    assert re.search(r"Resolved gaps \(\d+\)", html)
    assert "Accepted · owner: Ada Lovelace" in html
    assert "kept from earlier runs" in html


@pytest.mark.django_db
def test_run_list_shows_each_run_in_a_fixed_number_of_queries(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun
) -> None:
    client = client_for(commissioner_a)
    url = gaps_url(site_a, "run-list")
    with CaptureQueriesContext(connection) as few:
        html = client.get(url).content.decode()
    assert "Succeeded" in html
    assert f">{analysed_site_a.gaps.filter(data_quality=False).count()}</td>" in html
    for _ in range(5):
        finished_run(site_a, commissioner_a)
    AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.NIGHTLY)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert "Nightly schedule" in html and "Queued" in html
    assert len(many) == len(few)


@pytest.mark.django_db
def test_run_page_reads_results_in_a_fixed_number_of_queries(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun
) -> None:
    client = client_for(commissioner_a)
    url = gaps_url(site_a, "run-detail", public_id=analysed_site_a.public_id)
    items = run_results(run=analysed_site_a).improvements
    gap_services.decision_update(
        site=site_a,
        key=items[0].key,
        user=commissioner_a,
        source="page",
        changes={"status": "accepted"},
        expected_version=None,
    )
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for item in items:
        gap_services.decision_update(
            site=site_a,
            key=item.key,
            user=commissioner_a,
            source="page",
            changes={"status": "accepted", "owner": "X"},
            expected_version=None,
        )
        gap_services.pdsa_record(
            site=site_a,
            key=item.key,
            user=commissioner_a,
            source="page",
            stage="plan",
            note="Plan",
            recorded_on=date(2026, 1, 1),
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)


# Decisions, positions and PDSA ----------------------------------------------------------


@pytest.mark.django_db
def test_dismissing_without_a_reason_shows_an_error_and_saves_nothing(
    client_for: Any, commissioner_a: User, site_a: Site, first_key: str
) -> None:
    response = post_form(
        client_for(commissioner_a),
        gaps_url(site_a, "improvement", key=first_key),
        decision_post("dismissed", reason="  "),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "<title>Error: " in html
    assert 'href="#id_decision-dismiss_reason">Say why the improvement is dismissed.</a>' in html
    assert "govuk-form-group--error" in html
    assert not ImprovementDecision.objects.filter(status=DecisionStatus.DISMISSED).exists()


@pytest.mark.django_db
def test_dismissing_with_a_reason_records_it_and_readers_see_it(
    client_for: Any, commissioner_a: User, viewer_a: User, site_a: Site, first_key: str
) -> None:
    url = gaps_url(site_a, "improvement", key=first_key)
    response = post_form(client_for(commissioner_a), url, decision_post("dismissed", reason="Covered by the ICB plan."))
    assert response.status_code == 302
    decision = ImprovementDecision.objects.get(site=site_a, key=first_key)
    assert (decision.status, decision.dismiss_reason) == (DecisionStatus.DISMISSED, "Covered by the ICB plan.")
    html = client_for(viewer_a).get(url).content.decode()
    assert "Reason: Covered by the ICB plan." in html
    assert "Dismissed" in html


@pytest.mark.django_db
def test_accepting_with_an_owner_and_due_date_then_clearing_the_date(
    client_for: Any, commissioner_a: User, site_a: Site, first_key: str
) -> None:
    client = client_for(commissioner_a)
    url = gaps_url(site_a, "improvement", key=first_key)
    response = post_form(client, url, decision_post("accepted", owner="CAMHS partnership lead", due=date(2027, 3, 31)))
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "has been saved: Accepted" in html
    assert "CAMHS partnership lead" in html and "31 March 2027" in html
    decision = ImprovementDecision.objects.get(site=site_a, key=first_key)
    assert (decision.status, decision.owner, decision.due_on) == (
        "accepted",
        "CAMHS partnership lead",
        date(2027, 3, 31),
    )

    post_form(client, url, decision_post("accepted", owner="CAMHS partnership lead"))
    decision.refresh_from_db()
    assert decision.due_on is None


@pytest.mark.django_db
def test_an_impossible_due_date_is_refused_in_plain_words(
    client_for: Any, commissioner_a: User, site_a: Site, first_key: str
) -> None:
    data = decision_post("accepted")
    data.update({"decision-due_on_0": "31", "decision-due_on_1": "2", "decision-due_on_2": "2027"})
    html = post_form(client_for(commissioner_a), gaps_url(site_a, "improvement", key=first_key), data).content.decode()
    assert "The due date must be a real date, like 31 3 2027" in html
    assert not ImprovementDecision.objects.exists()


@pytest.mark.django_db
def test_a_manual_position_reorders_the_list_and_clearing_it_restores_priority_order(
    client_for: Any, commissioner_a: User, site_a: Site, analysed_site_a: AnalysisRun
) -> None:
    client = client_for(commissioner_a)
    detail = gaps_url(site_a, "run-detail", public_id=analysed_site_a.public_id)
    by_priority = titles_in_order(client.get(detail).content.decode())
    assert len(by_priority) >= 3
    third = run_results(run=analysed_site_a).improvements[2]

    url = gaps_url(site_a, "improvement", key=third.key)
    assert post_form(client, url, {"action": "position", "position-manual_rank": "1"}).status_code == 302
    moved = titles_in_order(client.get(detail).content.decode())
    assert moved == [by_priority[2], by_priority[0], by_priority[1], *by_priority[3:]]
    assert "placed at 1 by the site" in client.get(detail).content.decode()

    bad = post_form(client, url, {"action": "position", "position-manual_rank": "0"}).content.decode()
    assert "Position must be 1 or more" in bad

    assert post_form(client, url, {"action": "position-clear"}).status_code == 302
    assert titles_in_order(client.get(detail).content.decode()) == by_priority


@pytest.mark.django_db
def test_pdsa_steps_are_recorded_and_listed_in_date_order(
    client_for: Any, commissioner_a: User, site_a: Site, first_key: str
) -> None:
    client = client_for(commissioner_a)
    url = gaps_url(site_a, "improvement", key=first_key)
    for stage, day, note in (("do", "20", "Ran the pilot in two schools"), ("plan", "3", "Agree a pilot")):
        data = {
            "action": "pdsa",
            "pdsa-stage": stage,
            "pdsa-recorded_on_0": day,
            "pdsa-recorded_on_1": "2",
            "pdsa-recorded_on_2": "2026",
            "pdsa-note": note,
        }
        assert post_form(client, url, data).status_code == 302
    html = client.get(url).content.decode()
    assert html.index("Agree a pilot") < html.index("Ran the pilot in two schools")
    assert "3 Feb 2026" in html and "20 Feb 2026" in html
    assert PdsaEntry.objects.filter(decision__site=site_a, decision__key=first_key).count() == 2

    empty = post_form(client, url, {"action": "pdsa", "pdsa-stage": "study", "pdsa-note": ""}).content.decode()
    assert "Describe what happened in this step" in empty
    assert "Enter the date of the step" in empty
    assert PdsaEntry.objects.count() == 2


# Population and assumptions -------------------------------------------------------------


@pytest.mark.django_db
def test_need_split_that_does_not_add_up_to_100_is_refused_and_nothing_is_saved(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    response = post_form(
        client_for(commissioner_a),
        gaps_url(site_a, "assumptions"),
        assumptions_post(risk_percent="10", thriving_percent="70"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert "add up to 105%. Make them 100%." in html
    assert 'href="#id_advice_percent">' in html
    assert not SiteAssumptions.objects.filter(site=site_a).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weight_accessibility": "4"}, "Weight for Accessibility must be 3 or less"),
        ({"self_referral_percent": "150"}, "Self-referral target must be 100% or less"),
        ({"self_referral_percent": "half"}, "Self-referral target must be a whole number, like 50"),
        ({"max_wait_weeks": "105"}, "Maximum wait target must be 104 weeks or less"),
        ({"max_wait_weeks": ""}, "Enter the maximum wait target"),
    ],
)
def test_an_out_of_range_weight_or_target_is_refused_and_nothing_is_saved(
    client_for: Any, commissioner_a: User, site_a: Site, change: dict[str, str], message: str
) -> None:
    html = post_form(
        client_for(commissioner_a), gaps_url(site_a, "assumptions"), assumptions_post(**change)
    ).content.decode()
    assert message in html
    assert not SiteAssumptions.objects.filter(site=site_a).exists()


@pytest.mark.django_db
def test_commissioner_changes_assumptions_and_weights_and_the_page_marks_them_as_the_site_s(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    client = client_for(commissioner_a)
    before = client.get(gaps_url(site_a, "assumptions")).content.decode()
    assert "every value is the project's default" in before
    assert "Project default: 80." in before
    response = post_form(
        client,
        gaps_url(site_a, "assumptions"),
        assumptions_post(
            thriving_percent="75",
            advice_percent="45",
            help_percent="35",
            max_wait_weeks="12",
            self_referral_percent="30",
            weight_accessibility="2.5",
        ),
    )
    assert response.status_code == 302
    saved = SiteAssumptions.objects.get(site=site_a)
    assert (saved.thriving_percent, saved.advice_percent, saved.help_percent, saved.max_wait_weeks) == (75, 45, 35, 12)
    assert saved.self_referral_percent == 30
    assert saved.principle_weights["accessibility"] == 2.5
    assert saved.principle_weights["needs-led"] == 1
    assert saved.updated_by == commissioner_a
    html = client.get(gaps_url(site_a, "assumptions")).content.decode()
    assert "The assumptions have been saved" in html
    assert html.count("Set by the site") == 6  # Thriving, two shares, the wait, self-referral and one weight


@pytest.mark.django_db
def test_commissioner_sets_the_population_by_age_band(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    client = client_for(commissioner_a)
    response = post_form(
        client, gaps_url(site_a, "assumptions"), population_post("16500", "21000", "20500", "9800", "19000")
    )
    assert response.status_code == 302
    assert dict(SitePopulation.objects.filter(site=site_a).values_list("age_band", "people")) == {
        "0-4": 16500,
        "5-10": 21000,
        "11-16": 20500,
        "17-19": 9800,
        "20-25": 19000,
    }
    bad = post_form(
        client, gaps_url(site_a, "assumptions"), population_post("100", "", "-5", "9800", "lots")
    ).content.decode()
    assert "Enter the number of people aged 5 to 10" in bad
    assert "Number of people aged 11 to 16 must be 0 or more" in bad
    assert "Number of people aged 20 to 25 must be a whole number" in bad
    assert SitePopulation.objects.get(site=site_a, age_band="0-4").people == 16500


@pytest.mark.django_db
def test_readers_see_population_assumptions_and_prevalence_read_only(
    client_for: Any, viewer_a: User, site_a: Site
) -> None:
    SitePopulation.objects.create(site=site_a, age_band="11-16", people=20500)
    html = client_for(viewer_a).get(gaps_url(site_a, "assumptions")).content.decode()
    assert "20,500" in html
    assert "<input" not in html.split('id="main-content"')[1]
    assert "Project default" in html
    assert "2023 (wave 4)" in html and "The 2023 wave did not survey children under 8" in html


# The demo journey with a real worker ------------------------------------------------------


def database_url_for_tests() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_demo_commissioner_runs_the_analysis_decides_runs_again_and_sees_decisions_kept(
    celery_worker_process: CeleryWorker,
) -> None:
    seed_prevalence()
    demo_load()
    site = Site.objects.get(slug="northbridge")
    client = Client()
    client.force_login(User.objects.get(username="northbridge-commissioner"))
    home = "http://testserver" + gaps_url(site)

    def progress(run: AnalysisRun) -> str:
        url = gaps_url(site, "run-progress", public_id=run.public_id)
        return client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=home).content.decode()

    # Hold the results table so the run stops where it saves, and watch the partial report it.
    with psycopg.connect(database_url_for_tests()) as blocker:
        blocker.execute("LOCK TABLE gaps_gap IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = client.post(gaps_url(site, "run-request"))
        assert time.monotonic() - started < 2
        assert response.status_code == 302
        run = AnalysisRun.objects.filter(site=site, trigger=RunTrigger.PAGE).get()
        assert wait_for(lambda: "Saving gaps and improvements – 80%" in progress(run))
        assert 'value="80"' in progress(run)
        blocker.rollback()
    assert wait_for(lambda: 'hx-select="#gap-analysis"' in progress(run))
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED

    html = client.get(gaps_url(site)).content.decode()
    titles = titles_in_order(html)
    # The demo's deliberate gaps come first: long waits, nothing for 20 to 25 year
    # olds in help and more help, little self-referral, thin risk support.
    top = " | ".join(titles[:8])
    for deliberate in ("waits within", "age bands it does not reach", "self-referral", "Getting Risk Support"):
        assert deliberate in top, (deliberate, titles[:8])
    assert "Changes since the previous analysis" in html  # against the demo's own run

    items = run_results(run=run).improvements
    owners = {items[0].key: "Priya Shah", items[1].key: "Northbridge CAMHS lead"}
    for key, owner in owners.items():
        response = post_form(client, gaps_url(site, "improvement", key=key), decision_post("accepted", owner=owner))
        assert response.status_code == 302
    # A change to the local assumptions before the next run: a longer wait target.
    assert post_form(client, gaps_url(site, "assumptions"), assumptions_post(max_wait_weeks="30")).status_code == 302

    assert client.post(gaps_url(site, "run-request")).status_code == 302
    second = AnalysisRun.objects.filter(site=site, trigger=RunTrigger.PAGE).exclude(pk=run.pk).get()
    assert wait_for(lambda: AnalysisRun.objects.get(pk=second.pk).status == RunStatus.SUCCEEDED)

    html = client.get(gaps_url(site, "run-detail", public_id=second.public_id)).content.decode()
    assert "Changes since the previous analysis" in html
    assert f"{gaps_url(site, 'run-detail', public_id=run.public_id)}" in html
    assert re.search(r"Severity changed \([1-9]\d*\)", html)
    assert html.count("kept from earlier runs") >= 2
    for owner in owners.values():
        assert f"Accepted · owner: {owner}" in html
    assert "30-week target" in html
