"""One read model: the run's page and the API show the same summary, gaps, improvements
and inputs for the same run, because both read gaps.results; and runs stored by earlier
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
from gaps.results import TOP_IMPROVEMENTS
from gaps.snapshot import FORMAT, RunInputs
from gaps.tests.html import part, table_rows, tables_rows
from gaps.tests.test_pages import titles_in_order
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


def number(text: str) -> int:
    return int(text.replace(",", ""))


STALE_LINK = " See the records not checked for more than a year"


def test_the_run_page_and_the_api_show_the_same_gaps_improvements_and_inputs(
    client_for: Any, viewer_a: User, two_runs: AnalysisRun
) -> None:
    page = page_of(client_for(viewer_a), two_runs)
    body = api_of(viewer_a, two_runs)

    # Gaps: the same sentences, children affected and severities, provision gaps and data quality apart.
    provision, quality = part(page, "gaps").split('id="data-quality"')
    api_gaps = [(g["sentence"], g["children_affected"], g["severity"]) for g in body["gaps"] if not g["data_quality"]]
    api_quality = [(g["sentence"], g["children_affected"], g["severity"]) for g in body["gaps"] if g["data_quality"]]
    shown = sorted((row[0], number(row[2]), int(row[3])) for row in tables_rows(provision, "app-gap-table"))
    assert shown == sorted(api_gaps)
    shown_quality = [
        (row[0].removesuffix(STALE_LINK), number(row[2]), int(row[3])) for row in tables_rows(quality, "app-gap-table")
    ]
    assert shown_quality == api_quality != []

    # Improvements: the same items in the same (site's) order, with the same decisions.
    improvements = part(page, "improvements")
    assert titles_in_order(improvements) == [item["title"] for item in body["improvements"]]
    first = body["improvements"][0]
    assert (first["position"], first["decision"]["manual_rank"], first["decision"]["owner"]) == (1, 1, "CAMHS lead")
    assert "placed at 1 by the site" in improvements and "Accepted · owner: CAMHS lead" in improvements
    dismissed = next(item for item in body["improvements"] if item["decision"]["status"] == "dismissed")
    assert f"Dismissed: {dismissed['decision']['dismiss_reason']}" in improvements
    for item in body["improvements"]:
        assert f"<strong>{item['priority']}</strong> · severity {item['severity']} out of 100" in improvements

    # Inputs: need and capacity, population and prevalence, assumptions.
    need_rows = tables_rows(part(page, "gaps"), "app-need-table")
    labels = {g["code"]: g["label"] for g in body["inputs"]["groupings"]}
    assert {label: (number(need), number(capacity)) for label, need, capacity, *_ in need_rows} == {
        labels[code]: (need, body["inputs"]["capacity_by_grouping"][code])
        for code, need in body["inputs"]["need_by_grouping"].items()
    }
    band_rows = re.findall(
        r'<th scope="row" class="govuk-table__header app-nowrap">([^<]+)</th>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([\d,]+)</td>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([\d.]+)%</td>',
        part(page, "inputs"),
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
    resolved = part(page, "comparison")
    for gap in comparison["resolved"]:
        assert gap["sentence"] in resolved


DECISION_TAGS = {"accepted": "Accepted", "dismissed": "Dismissed", "open": "Not yet decided"}


def test_the_run_page_and_the_api_give_the_same_summary(client_for: Any, viewer_a: User, two_runs: AnalysisRun) -> None:
    page = page_of(client_for(viewer_a), two_runs)
    body = api_of(viewer_a, two_runs)
    summary = body["summary"]
    assert list(body)[list(body).index("error") + 1 :] == ["summary", "improvements", "gaps", "comparison", "inputs"]

    # The first improvements in the site's order: the one the site placed first, then by priority.
    top = summary["top_improvements"]
    assert [item["key"] for item in top] == [item["key"] for item in body["improvements"][:TOP_IMPROVEMENTS]]
    assert top[0]["decision_status"] == "accepted" and "dismissed" in {item["decision_status"] for item in top}
    assert summary["improvement_count"] == len(body["improvements"]) > len(top)
    assert table_rows(part(page, "summary-improvements")) == [
        [
            f"{item['position']}. {item['title']}",
            item["priority"],
            f"{item['children_affected']:,}",
            DECISION_TAGS[item["decision_status"]] + (" Overdue" if item["overdue"] else ""),
        ]
        for item in top
    ]

    # The gaps by grouping: the five groupings in THRIVE order, then the gaps not about one.
    by_grouping = summary["by_grouping"]
    assert [row["grouping"] for row in by_grouping] == [g["code"] for g in body["inputs"]["groupings"]] + [""]
    provision = [gap for gap in body["gaps"] if not gap["data_quality"]]
    for row in by_grouping:
        of_row = [gap for gap in provision if gap["grouping"] == row["grouping"]]
        assert row["gap_keys"] == [gap["key"] for gap in of_row]
        assert row["worst_severity"] == max((gap["severity"] for gap in of_row), default=None)
    assert summary["gap_count"] == len(provision) == sum(row["gap_count"] for row in by_grouping)
    assert summary["data_quality_count"] == len(body["gaps"]) - len(provision) == 1
    assert table_rows(part(page, "summary-groupings")) == [
        [
            row["label"],
            "–" if row["need"] is None else f"{row['need']:,}",
            "–" if row["capacity"] is None else f"{row['capacity']:,} {row['coverage_percent']}% of need",
            str(row["gap_count"]),
            "–" if row["worst_severity"] is None else str(row["worst_severity"]),
        ]
        for row in by_grouping
    ]
    # Each row links to its grouping's gaps, which list the same gaps.
    gaps = part(page, "gaps")
    for row in by_grouping:
        anchor = f"gaps-{row['grouping']}" if row["grouping"] else "gaps-other"
        assert f'href="#{anchor}"' in part(page, "summary-groupings")
        section = gaps[gaps.index(f'id="{anchor}"') :].split("<h3", 1)[0]
        sentences = [r[0] for r in tables_rows(section, "app-gap-table")] if row["gap_count"] else []
        by_key = {gap["key"]: gap["sentence"] for gap in provision}
        assert sentences == [by_key[key] for key in row["gap_keys"]]


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
    assert [item["title"] for item in body["improvements"]] == titles_in_order(page)
    assert body["summary"]["by_grouping"][0]["need"] == stored["need_by_grouping"]["thriving"]


def test_what_a_run_used_reads_back_exactly_as_it_was_stored(two_runs: AnalysisRun) -> None:
    used = RunInputs.from_json(two_runs.inputs)
    assert RunInputs.from_json(used.to_json()) == used
    assert used.to_json() == two_runs.inputs
    assert used.prevalence is not None and len(used.prevalence) == len(AgeBand)
    assert used.assumptions.stale_after_days == 365
