"""The gap analysis API for every persona: the commissioner of site A, the commissioner
of site B, a site viewer of A, a programme reviewer and anonymous. Runs are carried
out in the test process with gaps.services.run_execute, except in the tests marked
`worker`, where the real Celery worker does it."""

import datetime
import importlib
import time
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from gaps import services as gap_services
from gaps.models import (
    AnalysisRun,
    DecisionStatus,
    Gap,
    ImprovementDecision,
    PdsaEntry,
    RunStatus,
    RunTrigger,
    SiteAssumptions,
)
from gaps.tests.test_jobs import point_broker_at, wait_for
from mapping.models import Grouping, Sector
from sites.models import AgeBand, Site, SitePopulation
from tests.api import send
from tests.celery_worker import CeleryWorker
from tests.factories import OfferFactory, ServiceFactory
from thrive_site.celery import app as celery_app
from thrive_site.tests.openapi import openapi_schema

pytestmark = pytest.mark.django_db

# A key every analysis of the small site below suggests: it has no risk support at all.
RISK = "grow:getting-risk-support"
TODAY = datetime.date(2026, 5, 1)


def small_site(site: Site, groupings: dict[str, Grouping]) -> None:
    """Help and Thriving offers, nothing in risk support: some gaps every time."""
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.update_or_create(site=site, age_band=band.value, defaults={"people": people})
    for number in range(3):
        service = ServiceFactory(site=site, name=f"Service {number}", annual_capacity=100 + number)
        OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60)
        OfferFactory(service=service, grouping=groupings["thriving"], capacity_share=40)


def analyse_now(site: Site, user: User | None = None) -> AnalysisRun:
    """A finished run, carried out in this process as the worker would."""
    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.API, requested_by=user)
    gap_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


@pytest.fixture
def run_a(site_a: Site, commissioner_a: User, groupings: dict[str, Grouping]) -> AnalysisRun:
    small_site(site_a, groupings)
    return analyse_now(site_a, commissioner_a)


@pytest.fixture
def run_b(site_b: Site, groupings: dict[str, Grouping]) -> AnalysisRun:
    small_site(site_b, groupings)
    return analyse_now(site_b)


def api_url(site: Site, suffix: str) -> str:
    return reverse("api-site-detail", kwargs={"site_slug": site.slug}) + suffix


def run_url(run: AnalysisRun) -> str:
    return reverse("api-gap-run-detail", kwargs={"site_slug": run.site.slug, "public_id": run.public_id})


def improvement_url(site: Site, key: str, suffix: str = "") -> str:
    return reverse("api-improvement", kwargs={"site_slug": site.slug, "key": key}) + suffix


ASSUMPTIONS: dict[str, Any] = {
    "thriving_percent": "75",
    "advice_percent": "40",
    "help_percent": "35",
    "more_help_percent": "15",
    "risk_percent": "10",
    "max_wait_weeks": 12,
    "self_referral_percent": 40,
    "principle_weights": {"accessibility": "1.5"},
}
POPULATION = {"0-4": 25000, "5-10": 30000, "11-16": 28000, "17-19": 14000, "20-25": 27000}


def read_urls(run: AnalysisRun) -> list[str]:
    site = run.site
    return [
        api_url(site, "gap-runs/"),
        run_url(run),
        improvement_url(site, RISK),
        api_url(site, "gap-assumptions/"),
        api_url(site, "population/"),
    ]


def write_requests(run: AnalysisRun) -> list[tuple[str, str, dict[str, Any]]]:
    site = run.site
    return [
        ("post", api_url(site, "gap-runs/"), {}),
        ("patch", improvement_url(site, RISK), {"status": "accepted", "owner": "CAMHS lead"}),
        ("post", improvement_url(site, RISK, "pdsa/"), {"stage": "plan", "note": "Map crisis offers."}),
        ("put", api_url(site, "gap-assumptions/"), ASSUMPTIONS),
        ("put", api_url(site, "population/"), POPULATION),
    ]


def gap_state(site: Site) -> dict[str, Any]:
    """Everything a write could change, to show that a refused write changed nothing."""
    return {
        "runs": list(AnalysisRun.objects.filter(site=site).order_by("pk").values("pk", "status")),
        "decisions": list(ImprovementDecision.objects.filter(site=site).order_by("pk").values()),
        "pdsa": list(PdsaEntry.objects.filter(decision__site=site).order_by("pk").values()),
        "assumptions": list(SiteAssumptions.objects.filter(site=site).values()),
        "population": list(SitePopulation.objects.filter(site=site).order_by("age_band").values()),
    }


# Who may read and write what


def test_commissioner_a_can_read_every_gap_endpoint_of_site_a(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    for url in [*read_urls(run_a), reverse("api-prevalence-list")]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
def test_people_who_only_read_site_a_can_read_every_gap_endpoint(
    request: pytest.FixtureRequest, api_for: Any, persona: str, run_a: AnalysisRun
) -> None:
    client = api_for(request.getfixturevalue(persona))
    for url in [*read_urls(run_a), reverse("api-prevalence-list")]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
def test_people_who_only_read_site_a_get_403_on_every_gap_write_and_nothing_changes(
    request: pytest.FixtureRequest, api_for: Any, persona: str, run_a: AnalysisRun
) -> None:
    client = api_for(request.getfixturevalue(persona))
    before = gap_state(run_a.site)
    for method, url, body in write_requests(run_a):
        response = send(client, method, url, body)
        assert response.status_code == 403, (method, url)
    assert gap_state(run_a.site) == before


def test_commissioner_b_gets_404_for_every_gap_read_and_write_of_site_a_and_nothing_changes(
    api_for: Any, commissioner_b: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_b)
    for url in read_urls(run_a):
        assert client.get(url).status_code == 404, url
    before = gap_state(run_a.site)
    for method, url, body in write_requests(run_a):
        assert send(client, method, url, body).status_code == 404, (method, url)
    assert gap_state(run_a.site) == before


def test_site_a_run_and_improvement_are_404_through_site_b_urls(
    api_for: Any, commissioner_b: User, run_a: AnalysisRun, site_b: Site
) -> None:
    client = api_for(commissioner_b)
    url = reverse("api-gap-run-detail", kwargs={"site_slug": site_b.slug, "public_id": run_a.public_id})
    assert client.get(url).status_code == 404
    # Site B has never been analysed, so site A's improvement keys do not exist for it.
    assert client.get(improvement_url(site_b, RISK)).status_code == 404
    assert send(client, "patch", improvement_url(site_b, RISK), {"status": "accepted"}).status_code == 404
    assert not ImprovementDecision.objects.exists()


def test_anonymous_gets_401_on_every_gap_endpoint_and_nothing_changes(api_for: Any, run_a: AnalysisRun) -> None:
    client = api_for(None)
    for url in [*read_urls(run_a), reverse("api-prevalence-list")]:
        assert client.get(url).status_code == 401, url
    before = gap_state(run_a.site)
    for method, url, body in write_requests(run_a):
        assert send(client, method, url, body).status_code == 401, (method, url)
    assert gap_state(run_a.site) == before


# Asking for a run


def test_commissioner_asks_for_a_run_and_gets_202_with_the_run_to_poll(
    api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    response = api_for(commissioner_a).post(api_url(site_a, "gap-runs/"))
    assert response.status_code == 202
    body = response.json()
    run = AnalysisRun.objects.get(site=site_a)
    assert body["run"]["id"] == str(run.public_id)
    assert body["run"]["status"] == "queued"
    assert body["run"]["progress"] == 0
    assert body["run"]["links"]["run"] == "http://testserver" + run_url(run)
    assert response["Location"] == body["run"]["links"]["run"]
    assert body["enqueued"] is True
    assert body["message"]
    assert (run.trigger, run.requested_by) == (RunTrigger.API, commissioner_a)


def test_asking_again_while_a_run_is_in_progress_returns_that_run_with_200(
    api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    client = api_for(commissioner_a)
    first = client.post(api_url(site_a, "gap-runs/")).json()
    response = client.post(api_url(site_a, "gap-runs/"))
    assert response.status_code == 200
    assert response.json()["run"]["id"] == first["run"]["id"]
    assert response.json()["message"] == "An analysis of this site is already in progress."
    assert AnalysisRun.objects.filter(site=site_a).count() == 1


# Reading runs


def test_run_list_is_paginated_newest_first_with_who_asked_and_the_gap_count(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    nightly = AnalysisRun.objects.create(site=run_a.site, trigger=RunTrigger.NIGHTLY)
    body = api_for(commissioner_a).get(api_url(run_a.site, "gap-runs/")).json()
    assert body["count"] == 2
    newest, finished = body["results"]
    assert (newest["id"], newest["status"], newest["trigger"]) == (str(nightly.public_id), "queued", "nightly")
    assert newest["requested_by"] is None
    assert newest["gap_count"] is None
    assert finished["requested_by"] == "commissioner-a"
    assert finished["gap_count"] == run_a.gaps.filter(data_quality=False).count() > 0
    assert finished["duration_seconds"] >= 0
    assert set(finished) == {
        "id",
        "status",
        "progress",
        "progress_message",
        "trigger",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "duration_seconds",
        "gap_count",
        "links",
    }


def test_run_list_takes_the_same_queries_however_many_runs(api_for: Any, viewer_a: User, run_a: AnalysisRun) -> None:
    client = api_for(viewer_a)
    client.get(api_url(run_a.site, "gap-runs/"))
    with CaptureQueriesContext(connection) as one_run:
        client.get(api_url(run_a.site, "gap-runs/"))
    for _ in range(3):
        analyse_now(run_a.site, viewer_a)
    with CaptureQueriesContext(connection) as four_runs:
        assert client.get(api_url(run_a.site, "gap-runs/")).json()["count"] == 4
    assert len(four_runs) == len(one_run)


def test_succeeded_run_shows_the_inputs_it_used(api_for: Any, viewer_a: User, run_a: AnalysisRun) -> None:
    inputs = api_for(viewer_a).get(run_url(run_a)).json()["inputs"]
    assert inputs["assumptions"]["thriving_percent"] == "80.00"
    assert inputs["assumptions"]["need_split_percent"]["getting-risk-support"] == "5.00"
    assert inputs["assumptions"]["max_wait_weeks"] == 18
    assert inputs["population"][0] == {"age_band": "0-4", "label": "0 to 4", "people": 1000}
    assert [band["age_band"] for band in inputs["population"]] == ["0-4", "5-10", "11-16", "17-19", "20-25"]
    eleven = next(figure for figure in inputs["prevalence"] if figure["age_band"] == "11-16")
    assert eleven["percent"] == "22.60"
    assert eleven["wave"] == "2023 (wave 4)"
    assert eleven["measure"].startswith("Probable mental disorder")
    assert "not directly comparable" in eleven["caveat"]
    assert inputs["need_by_grouping"]["getting-risk-support"] > 0
    assert inputs["capacity_by_grouping"]["getting-risk-support"] == 0
    assert inputs["capacity_by_grouping"]["getting-help"] == 60 + 60 + 61
    assert inputs["services"]["count"] == 3
    assert inputs["assessment"] is None


def test_succeeded_run_shows_its_gaps_with_the_numbers_behind_them(
    api_for: Any, viewer_a: User, run_a: AnalysisRun
) -> None:
    body = api_for(viewer_a).get(run_url(run_a)).json()
    assert body["status"] == "succeeded"
    assert body["error"] is None
    gaps = {gap["key"]: gap for gap in body["gaps"]}
    assert list(gaps) == list(run_a.gaps.values_list("key", flat=True))
    risk = gaps["no-service:getting-risk-support"]
    assert risk["kind"] == "no-service"
    assert risk["grouping"] == "getting-risk-support"
    assert 0 < risk["severity"] <= 100
    assert risk["numbers"]["services"] == 0
    assert risk["sentence"]
    assert risk["data_quality"] is False
    assert set(risk) == {
        "key",
        "kind",
        "kind_label",
        "grouping",
        "age_band",
        "principle",
        "severity",
        "children_affected",
        "numbers",
        "sentence",
        "data_quality",
    }


def test_succeeded_run_lists_improvements_by_priority_with_an_explanation_and_an_open_decision(
    api_for: Any, viewer_a: User, run_a: AnalysisRun
) -> None:
    improvements = api_for(viewer_a).get(run_url(run_a)).json()["improvements"]
    assert [item["key"] for item in improvements] == list(
        run_a.improvements.filter(data_quality=False).order_by("rank").values_list("key", flat=True)
    )
    assert [item["position"] for item in improvements] == list(range(1, len(improvements) + 1))
    risk = next(item for item in improvements if item["key"] == RISK)
    assert "no-service:getting-risk-support" in risk["gap_keys"]
    assert isinstance(risk["priority"], str)
    assert risk["explanation"].endswith(f"= {risk['priority']}")
    assert risk["decision"] == {
        "key": RISK,
        "status": "open",
        "dismiss_reason": "",
        "owner": "",
        "due_on": None,
        "manual_rank": None,
        "pdsa_entries": [],
        "overdue": False,
        "version": 0,
        "updated_by": None,
        "updated_at": None,
    }


def test_run_results_take_the_same_queries_however_many_decisions_and_pdsa_steps(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    client.get(run_url(run_a))
    with CaptureQueriesContext(connection) as undecided:
        client.get(run_url(run_a))
    for item in run_a.improvements.filter(data_quality=False):
        gap_services.decision_update(
            site=run_a.site,
            key=item.key,
            user=commissioner_a,
            source="page",
            changes={"status": "accepted"},
            expected_version=None,
        )
        for stage in ("plan", "do"):
            gap_services.pdsa_record(
                site=run_a.site,
                key=item.key,
                user=commissioner_a,
                source="page",
                stage=stage,
                note="A step.",
                recorded_on=TODAY,
            )
    with CaptureQueriesContext(connection) as decided:
        body = client.get(run_url(run_a)).json()
    assert all(len(item["decision"]["pdsa_entries"]) == 2 for item in body["improvements"])
    # Decisions and PDSA steps, with the people behind them, come in a fixed number of queries.
    assert len(decided) <= len(undecided) + 3


def test_queued_run_has_progress_but_no_results(api_for: Any, viewer_a: User, site_a: Site) -> None:
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE)
    body = api_for(viewer_a).get(run_url(run)).json()
    assert (body["status"], body["progress"]) == ("queued", 0)
    assert body["inputs"] is body["gaps"] is body["improvements"] is body["comparison"] is body["error"] is None
    assert body["summary"] is None


def test_the_schema_documents_the_run_summary_before_the_details() -> None:
    components = openapi_schema()["components"]["schemas"]
    run = components["GapRunDetail"]["properties"]
    details = ["summary", "improvements", "gaps", "comparison", "inputs"]
    assert [name for name in run if name in details] == details
    summary = components["RunSummary"]["properties"]
    assert {"top_improvements", "by_grouping", "gap_count", "improvement_count", "data_quality_count"} <= set(summary)
    row = components["GroupingSummary"]["properties"]
    assert {"grouping", "need", "capacity", "gap_count", "worst_severity", "gap_keys"} <= set(row)
    assert "decision_status" in components["SummaryImprovement"]["properties"]


def test_failed_run_shows_the_first_line_of_its_error_and_not_the_traceback(
    api_for: Any, viewer_a: User, site_a: Site
) -> None:
    run = AnalysisRun.objects.create(
        site=site_a,
        trigger=RunTrigger.PAGE,
        status=RunStatus.FAILED,
        error='ValueError: no population\n\nTraceback (most recent call last):\n  File "gaps/engine.py"',
    )
    body = api_for(viewer_a).get(run_url(run)).json()
    assert body["status"] == "failed"
    assert body["error"] == "ValueError: no population"
    assert body["gaps"] is body["summary"] is None


def test_run_id_that_is_not_a_run_of_the_site_is_404(
    api_for: Any, commissioner_a: User, site_a: Site, run_b: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    url = reverse("api-gap-run-detail", kwargs={"site_slug": site_a.slug, "public_id": run_b.public_id})
    assert client.get(url).status_code == 404


def test_second_run_is_compared_with_the_first(
    api_for: Any, viewer_a: User, run_a: AnalysisRun, groupings: dict[str, Grouping]
) -> None:
    # Risk support from three sectors closes the no-service gap.
    for number, sector in enumerate([Sector.NHS, Sector.VOLUNTARY, Sector.LOCAL_AUTHORITY]):
        service = ServiceFactory(site=run_a.site, name=f"Crisis {number}", sector=sector, annual_capacity=5000)
        OfferFactory(service=service, grouping=groupings["getting-risk-support"], capacity_share=100)
    second = analyse_now(run_a.site)
    comparison = api_for(viewer_a).get(run_url(second)).json()["comparison"]
    assert comparison["previous_run"] == str(run_a.public_id)
    resolved = {gap["key"]: gap for gap in comparison["resolved"]}
    before = Gap.objects.get(run=run_a, key="no-service:getting-risk-support")
    assert resolved["no-service:getting-risk-support"]["severity"] == before.severity
    for changed in comparison["changed"]:
        assert changed["severity_before"] != changed["severity_after"]
    assert api_for(viewer_a).get(run_url(run_a)).json()["comparison"] is None


# Decisions on improvement items


def test_commissioner_accepts_an_improvement_and_assigns_an_owner_and_a_due_date(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    body = {"status": "accepted", "owner": " CAMHS lead ", "due_on": "2027-03-31"}
    response = send(client, "patch", improvement_url(run_a.site, RISK), body)
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["owner"] == "CAMHS lead"
    assert response.json()["due_on"] == "2027-03-31"
    assert response.json()["updated_by"] == "commissioner-a"
    decision = ImprovementDecision.objects.get(site=run_a.site, key=RISK)
    assert (decision.status, decision.owner, decision.due_on) == (
        DecisionStatus.ACCEPTED,
        "CAMHS lead",
        datetime.date(2027, 3, 31),
    )
    assert client.get(improvement_url(run_a.site, RISK)).json()["owner"] == "CAMHS lead"


def test_dismissing_without_a_reason_is_400_on_dismiss_reason_and_changes_nothing(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    response = send(client, "patch", improvement_url(run_a.site, RISK), {"status": "dismissed"})
    assert response.status_code == 400
    assert response.json() == {"dismiss_reason": ["Say why the improvement is dismissed."]}
    response = send(client, "patch", improvement_url(run_a.site, RISK), {"status": "dismissed", "dismiss_reason": "  "})
    assert response.status_code == 400
    assert not ImprovementDecision.objects.exists()


def test_dismissing_with_a_reason_keeps_the_reason(api_for: Any, commissioner_a: User, run_a: AnalysisRun) -> None:
    body = {"status": "dismissed", "dismiss_reason": "Commissioned regionally."}
    response = send(api_for(commissioner_a), "patch", improvement_url(run_a.site, RISK), body)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["dismiss_reason"]) == ("dismissed", "Commissioned regionally.")


def test_a_decision_field_that_is_not_a_choice_or_a_date_is_400(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    for body, field in [
        ({"status": "maybe"}, "status"),
        ({"due_on": "31 March"}, "due_on"),
        ({"manual_rank": 0}, "manual_rank"),
        ({"owner": "x" * 121}, "owner"),
    ]:
        response = send(client, "patch", improvement_url(run_a.site, RISK), body)
        assert response.status_code == 400, body
        assert list(response.json()) == [field]
    assert not ImprovementDecision.objects.exists()


def test_null_clears_the_owner_the_due_date_and_the_position(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    url = improvement_url(run_a.site, RISK)
    send(client, "patch", url, {"owner": "CAMHS lead", "due_on": "2027-03-31", "manual_rank": 2})
    response = send(client, "patch", url, {"owner": None, "due_on": None, "manual_rank": None})
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["due_on"], response.json()["manual_rank"]) == ("", None, None)
    assert response.json()["status"] == "open"


def test_placing_an_improvement_by_hand_moves_it_in_the_run_list(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    last = list(run_a.improvements.filter(data_quality=False).order_by("rank").values_list("key", flat=True))[-1]
    assert send(client, "patch", improvement_url(run_a.site, last), {"manual_rank": 1}).status_code == 200
    improvements = client.get(run_url(run_a)).json()["improvements"]
    assert (improvements[0]["key"], improvements[0]["position"]) == (last, 1)
    assert improvements[0]["decision"]["manual_rank"] == 1


def test_decision_carries_over_to_a_later_run_that_suggests_the_same_improvement(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    body = {"status": "accepted", "owner": "CAMHS lead", "due_on": "2027-03-31"}
    assert send(client, "patch", improvement_url(run_a.site, RISK), body).status_code == 200
    client.post(improvement_url(run_a.site, RISK, "pdsa/"), {"stage": "plan", "note": "Map crisis offers."})
    later = analyse_now(run_a.site)
    improvements = client.get(run_url(later)).json()["improvements"]
    risk = next(item for item in improvements if item["key"] == RISK)
    assert risk["decision"]["status"] == "accepted"
    assert risk["decision"]["owner"] == "CAMHS lead"
    assert risk["decision"]["due_on"] == "2027-03-31"
    assert [entry["note"] for entry in risk["decision"]["pdsa_entries"]] == ["Map crisis offers."]
    others = [item["decision"]["status"] for item in improvements if item["key"] != RISK]
    assert others and set(others) == {"open"}


def test_improvement_key_no_run_of_the_site_suggested_is_404(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    for key in ["grow:no-such-grouping", "nonsense"]:
        assert client.get(improvement_url(run_a.site, key)).status_code == 404
        assert send(client, "patch", improvement_url(run_a.site, key), {"status": "accepted"}).status_code == 404
        response = client.post(improvement_url(run_a.site, key, "pdsa/"), {"stage": "do", "note": "x"}, format="json")
        assert response.status_code == 404
    assert not ImprovementDecision.objects.exists()


# PDSA steps


def test_commissioner_records_a_pdsa_step_and_it_shows_on_the_decision(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    body = {"stage": "study", "note": " Waits fell by two weeks. ", "recorded_on": "2026-05-01"}
    response = client.post(improvement_url(run_a.site, RISK, "pdsa/"), body, format="json")
    assert response.status_code == 201
    assert response.json()["stage"] == "study"
    assert response.json()["note"] == "Waits fell by two weeks."
    assert response.json()["recorded_on"] == "2026-05-01"
    assert response.json()["recorded_by"] == "commissioner-a"
    entries = client.get(improvement_url(run_a.site, RISK)).json()["pdsa_entries"]
    assert [(e["stage"], e["note"]) for e in entries] == [("study", "Waits fell by two weeks.")]


def test_pdsa_step_without_a_date_is_recorded_today(api_for: Any, commissioner_a: User, run_a: AnalysisRun) -> None:
    body = {"stage": "plan", "note": "Map crisis offers."}
    response = api_for(commissioner_a).post(improvement_url(run_a.site, RISK, "pdsa/"), body, format="json")
    assert response.status_code == 201
    assert response.json()["recorded_on"] == timezone.localdate().isoformat()


def test_pdsa_step_with_an_unknown_stage_or_no_note_is_400(
    api_for: Any, commissioner_a: User, run_a: AnalysisRun
) -> None:
    client = api_for(commissioner_a)
    url = improvement_url(run_a.site, RISK, "pdsa/")
    response = client.post(url, {"stage": "review", "note": "Looked again."}, format="json")
    assert response.status_code == 400
    assert response.json() == {"stage": ["Choose plan, do, study or act."]}
    response = client.post(url, {"stage": "do", "note": ""}, format="json")
    assert response.status_code == 400
    assert response.json() == {"note": ["Describe what happened in this step."]}
    assert not PdsaEntry.objects.exists()


# Assumptions and population


def test_assumptions_read_as_the_labelled_defaults_until_the_site_sets_its_own(
    api_for: Any, viewer_a: User, site_a: Site
) -> None:
    body = api_for(viewer_a).get(api_url(site_a, "gap-assumptions/")).json()
    assert body == {
        "thriving_percent": "80.00",
        "advice_percent": "50.00",
        "help_percent": "30.00",
        "more_help_percent": "15.00",
        "risk_percent": "5.00",
        "max_wait_weeks": 18,
        "self_referral_percent": 50,
        "principle_weights": {},
        "uses_defaults": True,
        "version": 0,
        "updated_by": None,
        "updated_at": None,
    }


def test_commissioner_replaces_the_assumptions_and_the_next_run_uses_them(
    api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    client = api_for(commissioner_a)
    response = send(client, "put", api_url(site_a, "gap-assumptions/"), ASSUMPTIONS)
    assert response.status_code == 200
    body = response.json()
    assert (body["thriving_percent"], body["risk_percent"], body["max_wait_weeks"]) == ("75.00", "10.00", 12)
    assert body["self_referral_percent"] == 40
    assert body["principle_weights"] == {"accessibility": "1.50"}
    assert (body["uses_defaults"], body["updated_by"]) == (False, "commissioner-a")
    assert client.get(api_url(site_a, "gap-assumptions/")).json() == body
    run = analyse_now(site_a)
    inputs = client.get(run_url(run)).json()["inputs"]
    assert inputs["assumptions"]["need_split_percent"]["getting-risk-support"] == "10.00"
    assert inputs["assumptions"]["principle_weights"] == {"accessibility": "1.50"}
    assert inputs["assumptions"]["self_referral_percent"] == 40


def test_assumptions_whose_shares_do_not_add_up_to_100_are_400_with_the_message(
    api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    body = {**ASSUMPTIONS, "risk_percent": "20"}
    response = send(api_for(commissioner_a), "put", api_url(site_a, "gap-assumptions/"), body)
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["The shares of need across the four help groupings add up to 110%. Make them 100%."]
    }
    assert not SiteAssumptions.objects.exists()


def test_assumptions_out_of_range_are_400_on_the_field(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    client = api_for(commissioner_a)
    changes: list[tuple[dict[str, Any], str]] = [
        ({"advice_percent": "-10", "help_percent": "85"}, "advice_percent"),
        ({"thriving_percent": "101"}, "thriving_percent"),
        ({"max_wait_weeks": 105}, "max_wait_weeks"),
        ({"self_referral_percent": 101}, "self_referral_percent"),
        ({"principle_weights": {"accessibility": "4"}}, "principle_weights"),
        ({"principle_weights": {"accessibility": "a lot"}}, "principle_weights"),
    ]
    for change, field in changes:
        response = send(client, "put", api_url(site_a, "gap-assumptions/"), {**ASSUMPTIONS, **change})
        assert response.status_code == 400, change
        assert list(response.json()) == [field], response.json()
    response = send(client, "put", api_url(site_a, "gap-assumptions/"), {"thriving_percent": "70"})
    assert response.status_code == 400
    assert "advice_percent" in response.json()
    assert not SiteAssumptions.objects.exists()


def test_population_reads_zero_for_bands_not_set(api_for: Any, viewer_a: User, site_a: Site) -> None:
    SitePopulation.objects.create(site=site_a, age_band="5-10", people=30000)
    body = api_for(viewer_a).get(api_url(site_a, "population/")).json()
    assert body == {"0-4": 0, "5-10": 30000, "11-16": 0, "17-19": 0, "20-25": 0, "version": 1}


def test_commissioner_sets_the_population_of_all_five_bands(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    response = send(api_for(commissioner_a), "put", api_url(site_a, "population/"), POPULATION)
    assert response.status_code == 200
    assert response.json() == {**POPULATION, "version": 1}
    assert dict(SitePopulation.objects.filter(site=site_a).values_list("age_band", "people")) == POPULATION


def test_population_with_a_band_missing_or_out_of_range_is_400_on_that_band(
    api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    client = api_for(commissioner_a)
    missing = {band: people for band, people in POPULATION.items() if band != "17-19"}
    response = send(client, "put", api_url(site_a, "population/"), missing)
    assert response.status_code == 400
    assert response.json() == {"17-19": ["Enter the number of people aged 17 to 19"]}
    response = send(client, "put", api_url(site_a, "population/"), {**POPULATION, "0-4": -1})
    assert response.status_code == 400
    assert list(response.json()) == ["0-4"]
    response = send(client, "put", api_url(site_a, "population/"), {**POPULATION, "0-4": "many"})
    assert response.status_code == 400
    assert list(response.json()) == ["0-4"]
    assert not SitePopulation.objects.filter(site=site_a).exists()


def test_prevalence_lists_each_band_with_its_survey_wave_measure_and_caveat(api_for: Any, viewer_a: User) -> None:
    figures = api_for(viewer_a).get(reverse("api-prevalence-list")).json()
    assert [f["age_band"] for f in figures] == ["0-4", "5-10", "11-16", "17-19", "20-25"]
    under_five = figures[0]
    assert under_five["percent"] == "5.50"
    assert under_five["wave"] == "2017 (wave 1)"
    assert under_five["source_ages"] == "2 to 4"
    assert under_five["measure"] and under_five["caveat"] and under_five["survey"]


def test_prevalence_is_read_only(api_for: Any, commissioner_a: User) -> None:
    response = api_for(commissioner_a).post(reverse("api-prevalence-list"), {"age_band": "0-4"}, format="json")
    assert response.status_code == 405


# With the real worker


@pytest.fixture
def prevalence_seeded(transactional_db: Any) -> None:
    """Transactional tests flush the migration-seeded prevalence table; put it back."""
    importlib.import_module("gaps.migrations.0002_seed_prevalence").seed(apps, None)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_asked_for_through_the_api_is_carried_out_by_the_worker_and_read_back_as_json(
    celery_worker_process: CeleryWorker,
    prevalence_seeded: None,
    api_for: Any,
    commissioner_a: User,
    site_a: Site,
    groupings: dict[str, Grouping],
) -> None:
    small_site(site_a, groupings)
    client = api_for(commissioner_a)
    response = client.post(api_url(site_a, "gap-runs/"))
    assert response.status_code == 202
    assert response.json()["enqueued"] is True
    url = response["Location"]

    def finished() -> bool:
        return client.get(url).json()["status"] in (RunStatus.SUCCEEDED, RunStatus.FAILED)

    assert wait_for(finished)
    body = client.get(url).json()
    assert body["status"] == "succeeded", body["error"]
    assert (body["progress"], body["progress_message"]) == (100, "Finished")
    assert body["requested_by"] == "commissioner-a"
    assert body["trigger"] == "api"
    assert body["inputs"]["services"]["count"] == 3
    assert body["inputs"]["prevalence"][2]["wave"] == "2023 (wave 4)"
    assert "no-service:getting-risk-support" in {gap["key"] for gap in body["gaps"]}
    assert RISK in {item["key"] for item in body["improvements"]}
    assert body["gap_count"] == sum(1 for gap in body["gaps"] if not gap["data_quality"])
    run = AnalysisRun.objects.get(site=site_a)
    assert run.attempts == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_asked_for_while_redis_is_down_is_202_not_enqueued_within_5_seconds_and_stays_queued(
    celery_worker_process: CeleryWorker, api_for: Any, commissioner_a: User, site_a: Site
) -> None:
    client = api_for(commissioner_a)
    working_broker = celery_app.conf.broker_url
    point_broker_at("redis://127.0.0.1:1/0")  # nothing listens there: Redis is down
    try:
        started = time.monotonic()
        response = client.post(api_url(site_a, "gap-runs/"))
        elapsed = time.monotonic() - started
    finally:
        point_broker_at(working_broker)
    assert elapsed < 5
    assert response.status_code == 202
    body = response.json()
    assert body["enqueued"] is False
    assert "cannot be reached" in body["message"]
    assert body["run"]["status"] == "queued"
    # The run is kept for the sweeper, not lost.
    assert client.get(response["Location"]).json()["status"] == "queued"
    run = AnalysisRun.objects.get(site=site_a)
    assert (run.status, run.enqueued_at) == (RunStatus.QUEUED, None)
    assert run.enqueue_error
