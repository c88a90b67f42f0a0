"""One read model: the run's page and the API show the same gaps, improvements and
inputs for the same run, because both read gaps.results; and runs stored by earlier
versions of THRIVE Mapper (older snapshot formats) still display on both."""

import datetime
import html
import re
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from gaps import services as gap_services
from gaps.models import AnalysisRun, RunStatus, RunTrigger
from gaps.snapshot import FORMAT, RunInputs
from mapping.models import Grouping, Sector
from sites.models import AgeBand, Site, SitePopulation
from tests.factories import OfferFactory, ServiceFactory

pytestmark = pytest.mark.django_db

RISK = "grow:getting-risk-support"


def analysed(site: Site, user: User | None = None) -> AnalysisRun:
    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.PAGE, requested_by=user)
    gap_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


@pytest.fixture
def two_runs(site_a: Site, commissioner_a: User, groupings: dict[str, Grouping]) -> AnalysisRun:
    """A second run of a small site, compared with a first, with decisions on it."""
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.create(site=site_a, age_band=band.value, people=people)
    for number in range(3):
        service = ServiceFactory(
            site=site_a, name=f"Service {number}", annual_capacity=100 + number, typical_wait_weeks=30
        )
        OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60)
        OfferFactory(service=service, grouping=groupings["thriving"], capacity_share=40)
    ServiceFactory(site=site_a, name="Old record", last_checked_on=datetime.date(2020, 1, 1))
    analysed(site_a, commissioner_a)
    crisis = ServiceFactory(site=site_a, name="Crisis line", sector=Sector.VOLUNTARY, annual_capacity=40)
    OfferFactory(service=crisis, grouping=groupings["getting-risk-support"], capacity_share=100)
    run = analysed(site_a, commissioner_a)
    keys = list(run.improvements.filter(data_quality=False).order_by("rank").values_list("key", flat=True))
    gap_services.decision_update(
        site=site_a,
        key=keys[0],
        user=commissioner_a,
        source="page",
        changes={"status": "dismissed", "dismiss_reason": "Commissioned regionally."},
        expected_version=None,
    )
    gap_services.decision_update(
        site=site_a,
        key=keys[-1],
        user=commissioner_a,
        source="page",
        changes={"status": "accepted", "owner": "CAMHS lead", "manual_rank": 1},
        expected_version=None,
    )
    return run


def page_of(client: Any, run: AnalysisRun) -> str:
    url = reverse("gaps:run-detail", kwargs={"site_slug": run.site.slug, "public_id": run.public_id})
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def api_of(user: User, run: AnalysisRun) -> dict[str, Any]:
    client = APIClient()
    client.force_login(user)
    url = reverse("api-gap-run-detail", kwargs={"site_slug": run.site.slug, "public_id": run.public_id})
    response = client.get(url)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def section(page: str, anchor: str) -> str:
    """The page from the heading with this id to the next h2."""
    start = page.index(f'id="{anchor}"')
    end = page.find("<h2", start + 1)
    return page[start : end if end != -1 else None]


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_run_page_and_the_api_show_the_same_gaps_improvements_and_inputs(
    client_for: Any, viewer_a: User, two_runs: AnalysisRun
) -> None:
    page = page_of(client_for(viewer_a), two_runs)
    body = api_of(viewer_a, two_runs)

    # Gaps: the same sentences with the same severities, provision gaps and data quality apart.
    severity = r'\s*<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>'
    gap_rows = re.findall(r'<td class="govuk-table__cell">(.*?)</td>' + severity, section(page, "gaps"), re.S)
    quality_rows = re.findall(
        r'<td class="govuk-table__cell">(.*?)(?: <a .*?)?</td>' + severity, section(page, "data-quality"), re.S
    )
    api_gaps = [(g["sentence"], g["severity"]) for g in body["gaps"] if not g["data_quality"]]
    api_quality = [(g["sentence"], g["severity"]) for g in body["gaps"] if g["data_quality"]]
    assert sorted((s, int(v)) for s, v in gap_rows) == sorted(api_gaps)
    assert [(s, int(v)) for s, v in quality_rows] == api_quality != []

    # Improvements: the same items in the same (site's) order, with the same decisions.
    titles = re.findall(r'class="govuk-summary-card__title">.*?<a class="govuk-link" href="[^"]+">([^<]+)</a>', page)
    assert titles == [item["title"] for item in body["improvements"]]
    first = body["improvements"][0]
    assert (first["position"], first["decision"]["manual_rank"], first["decision"]["owner"]) == (1, 1, "CAMHS lead")
    assert "placed at 1 by the site" in page and "Accepted · owner: CAMHS lead" in page
    dismissed = next(item for item in body["improvements"] if item["decision"]["status"] == "dismissed")
    assert f"Dismissed: {dismissed['decision']['dismiss_reason']}" in page
    for item in body["improvements"]:
        assert f"<strong>{item['priority']}</strong> · severity {item['severity']} out of 100" in page

    # Inputs: need and capacity, population and prevalence, assumptions.
    need_rows = re.findall(
        r'<th scope="row" class="govuk-table__header">([^<]+)</th>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([\d,]+)</td>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([\d,]+)</td>',
        section(page, "need-capacity"),
    )
    labels = {g["code"]: g["label"] for g in body["inputs"]["groupings"]}
    assert {label: (number(need), number(capacity)) for label, need, capacity in need_rows} == {
        labels[code]: (need, body["inputs"]["capacity_by_grouping"][code])
        for code, need in body["inputs"]["need_by_grouping"].items()
    }
    band_rows = re.findall(
        r'<th scope="row" class="govuk-table__header app-nowrap">([^<]+)</th>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([\d,]+)</td>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([\d.]+)%</td>',
        section(page, "inputs"),
    )
    prevalence = {figure["age_band"]: figure["percent"] for figure in body["inputs"]["prevalence"]}
    assert band_rows == [
        (band["label"], f"{band['people']:,}", f"{float(prevalence[band['age_band']]):g}")
        for band in body["inputs"]["population"]
    ]
    assumptions = body["inputs"]["assumptions"]
    for label, value in [
        ("Maximum wait target", f"{assumptions['max_wait_weeks']} weeks"),
        ("Self-referral target: share of advice and help capacity", f"{assumptions['self_referral_percent']}%"),
        ("Records count as stale after", f"{assumptions['stale_after_days']} days"),
        ("Thriving: share of all children and young people", f"{float(assumptions['thriving_percent']):g}%"),
    ]:
        assert re.search(
            rf'<dt class="govuk-summary-list__key">{re.escape(label)}</dt>\s*'
            rf'<dd class="govuk-summary-list__value">{re.escape(value)}</dd>',
            page,
        ), label

    # The comparison with the first run.
    comparison = body["comparison"]
    resolved = section(page, "comparison")
    for gap in comparison["resolved"]:
        assert gap["sentence"] in resolved


# Runs stored by earlier versions ---------------------------------------------------------


def format_1(snapshot: dict[str, Any], *, survey_kept: bool, self_referral_kept: bool) -> dict[str, Any]:
    """The same snapshot as the code before gaps.snapshot stored it: "today", groupings
    as [code, label] pairs, the services' ids; the first runs kept no survey details
    and no self-referral target."""
    old = {
        "site": snapshot["site"],
        "today": snapshot["analysed_on"],
        "groupings": [[g["code"], g["label"]] for g in snapshot["groupings"]],
        "age_bands": snapshot["age_bands"],
        "assumptions": dict(snapshot["assumptions"]),
        "assessment": snapshot["assessment"],
        "principle_labels": snapshot["principle_labels"],
        "services": {**snapshot["services"], "ids": ["1", "2", "3"]},
        "need_by_grouping": snapshot["need_by_grouping"],
        "capacity_by_grouping": snapshot["capacity_by_grouping"],
    }
    if survey_kept:
        old["prevalence"] = snapshot["prevalence"]
    if not self_referral_kept:
        del old["assumptions"]["self_referral_percent"]
    return old


@pytest.mark.parametrize("survey_kept", [False, True])
def test_a_run_stored_in_the_older_format_still_displays_on_the_page_and_in_the_api(
    client_for: Any, viewer_a: User, two_runs: AnalysisRun, survey_kept: bool
) -> None:
    stored = two_runs.inputs
    assert stored is not None and stored["format"] == FORMAT
    AnalysisRun.objects.filter(pk=two_runs.pk).update(
        inputs=format_1(stored, survey_kept=survey_kept, self_referral_kept=survey_kept)
    )
    two_runs.refresh_from_db()

    page = page_of(client_for(viewer_a), two_runs)
    body = api_of(viewer_a, two_runs)
    inputs = body["inputs"]
    assert inputs["analysed_on"] == stored["analysed_on"]
    assert [g["code"] for g in inputs["groupings"]] == [g["code"] for g in stored["groupings"]]
    assert inputs["population"][0] == {"age_band": "0-4", "label": "0 to 4", "people": 1000}
    assert inputs["need_by_grouping"] == stored["need_by_grouping"]
    assert inputs["assumptions"]["self_referral_percent"] == 50
    assert "Self-referral target: share of advice and help capacity" in page
    eleven = next(figure for figure in inputs["prevalence"] if figure["age_band"] == "11-16")
    assert eleven["percent"] == "22.60"
    if survey_kept:
        assert eleven["wave"] == "2023 (wave 4)"
        assert "2023 (wave 4)" in page
    else:
        assert (eleven["survey"], eleven["wave"], eleven["caveat"]) == ("", "", "")
        assert "This run did not keep the survey details behind each figure" in page
        assert "Not recorded" in page
    assert len(body["gaps"]) == two_runs.gaps.count()
    assert [item["title"] for item in body["improvements"]] == re.findall(
        r'class="govuk-summary-card__title">.*?<a class="govuk-link" href="[^"]+">([^<]+)</a>', page
    )


def test_what_a_run_used_reads_back_exactly_as_it_was_stored(two_runs: AnalysisRun) -> None:
    used = RunInputs.from_json(two_runs.inputs)
    assert RunInputs.from_json(used.to_json()) == used
    assert used.to_json() == two_runs.inputs
    assert used.prevalence is not None and len(used.prevalence) == len(AgeBand)
    assert used.assumptions.stale_after_days == 365
