"""Each gap rule on small hand-made sites with expected outputs (no database)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from gaps.engine import (
    AgeBandInput,
    AnalysisInput,
    AssessmentInput,
    AssessmentItemInput,
    Assumptions,
    OfferInput,
    ServiceInput,
    age_band_gaps,
    analyse,
    assessment_gaps,
    coverage_gaps,
    need_by_grouping,
    offer_breadth_gaps,
    self_referral_gaps,
    stale_gaps,
    wait_gaps,
)
from mapping.groupings import ADVICE, HELP, MORE_HELP, RISK, THRIVING

TODAY = date(2026, 11, 1)
GROUPINGS = (
    (THRIVING, "Thriving"),
    (ADVICE, "Getting Advice and Signposting"),
    (HELP, "Getting Help"),
    (MORE_HELP, "Getting More Help"),
    (RISK, "Getting Risk Support"),
)
ASSUMPTIONS = Assumptions(
    thriving_percent=Decimal(80),
    need_split_percent={ADVICE: Decimal(50), HELP: Decimal(30), MORE_HELP: Decimal(15), RISK: Decimal(5)},
    max_wait_weeks=18,
    principle_weights={},
    stale_after_days=365,
    self_referral_percent=50,
)
# 10,000 young people aged 11 to 16 with 20% prevalence: 2,000 with need, so
# Advice 1,000, Help 600, More Help 300, Risk Support 100; Thriving 8,000.
TEENS = AgeBandInput("11-16", "11 to 16", 11, 16, 10_000, Decimal(20))
ADULTS = AgeBandInput("20-25", "20 to 25", 20, 25, 5_000, Decimal(20))


def service(
    name: str,
    offers: dict[str, int],
    *,
    capacity: int = 1_000,
    sector: str = "nhs",
    ages: tuple[int, int] = (11, 18),
    wait: int | None = 4,
    routes: frozenset[str] = frozenset({"gp"}),
    status: str = "active",
    checked: date | None = date(2026, 6, 1),
) -> ServiceInput:
    return ServiceInput(
        id=name,
        name=name,
        sector=sector,
        sector_label={"nhs": "NHS", "voluntary": "Voluntary and community", "education": "Education"}[sector],
        min_age=ages[0],
        max_age=ages[1],
        annual_capacity=capacity,
        typical_wait_weeks=wait,
        referral_routes=routes,
        status=status,
        last_checked_on=checked,
        offers=tuple(OfferInput(g, share) for g, share in offers.items()),
    )


def site(*services: ServiceInput, bands: tuple[AgeBandInput, ...] = (TEENS,), **kwargs: object) -> AnalysisInput:
    return AnalysisInput(
        site="test",
        today=TODAY,
        groupings=GROUPINGS,
        age_bands=bands,
        services=services,
        assumptions=ASSUMPTIONS,
        principle_labels={"accessibility": "Accessibility", "partnership-working": "Partnership Working"},
        **kwargs,
    )


def test_need_follows_population_prevalence_and_the_split() -> None:
    assert need_by_grouping(site()) == {THRIVING: 8_000, ADVICE: 1_000, HELP: 600, MORE_HELP: 300, RISK: 100}


def test_coverage_gap_is_the_share_of_need_not_met() -> None:
    inputs = site(service("Crisis team", {RISK: 30}, capacity=100))  # 30 places against 100 needed
    (gap,) = [g for g in coverage_gaps(inputs) if g.grouping == RISK]
    assert gap.severity == 70
    assert gap.children_affected == 70
    assert gap.numbers == {"need": 100, "capacity": 30, "coverage_percent": 30, "acuity": "1"}
    assert gap.sentence == (
        "Getting Risk Support: services can see about 30 children and young people a year "
        "against an estimated need of 100 (30% coverage)."
    )


def test_a_shortfall_in_thriving_weighs_half_as_much_as_one_in_risk_support() -> None:
    # Thriving: 4,000 places for 8,000 (50% unmet × acuity 0.5 = 25).
    inputs = site(service("Wellbeing", {THRIVING: 100}, capacity=4_000))
    (gap,) = [g for g in coverage_gaps(inputs) if g.grouping == THRIVING]
    assert gap.severity == 25


def test_capacity_at_or_above_need_is_no_coverage_gap_and_paused_services_do_not_count() -> None:
    inputs = site(service("Help", {HELP: 100}, capacity=600), service("Paused", {RISK: 100}, status="paused"))
    groupings = {g.grouping for g in coverage_gaps(inputs)}
    assert HELP not in groupings
    assert RISK in groupings


def test_a_grouping_with_no_service_is_fully_severe() -> None:
    inputs = site(service("Help", {HELP: 100}))
    no_service = {g.grouping: g.severity for g in offer_breadth_gaps(inputs) if g.kind == "no-service"}
    assert no_service == {THRIVING: 100, ADVICE: 100, MORE_HELP: 100, RISK: 100}


def test_single_sector_matters_most_in_advice_and_risk_support() -> None:
    inputs = site(
        service("Advice A", {ADVICE: 50, HELP: 50}),
        service("Advice B", {ADVICE: 100}),
        service("Help charity", {HELP: 100}, sector="voluntary"),
    )
    single = {g.grouping: g.severity for g in offer_breadth_gaps(inputs) if g.kind == "single-sector"}
    assert single == {ADVICE: 70}
    inputs = site(service("Help", {HELP: 100}), service("More", {MORE_HELP: 100}))
    single = {g.grouping: g.severity for g in offer_breadth_gaps(inputs) if g.kind == "single-sector"}
    assert single == {HELP: 35, MORE_HELP: 35}
    # Risk support from two sectors is still short of a multi-agency offer.
    inputs = site(service("Crisis", {RISK: 100}), service("Youth justice", {RISK: 100}, sector="voluntary"))
    (gap,) = [g for g in offer_breadth_gaps(inputs) if g.kind == "single-sector"]
    assert (gap.grouping, gap.severity, gap.numbers["sectors"]) == (RISK, 50, 2)
    assert "at least 3 sectors" in gap.sentence


def test_age_band_with_no_provision_in_a_grouping() -> None:
    inputs = site(service("Teen help", {HELP: 100}, ages=(11, 19)), bands=(TEENS, ADULTS))
    (gap,) = age_band_gaps(inputs)
    # 80 × Getting Help's acuity 0.9 = 72
    assert (gap.grouping, gap.age_band, gap.severity) == (HELP, "20-25", 72)
    # 5,000 × 20% × 30% = 300 young adults estimated to need Getting Help.
    assert gap.children_affected == 300
    assert "no service covers ages 20 to 25" in gap.sentence


def test_no_self_referral_into_advice_and_help_is_severe_and_little_is_a_gap() -> None:
    none = site(service("Advice", {ADVICE: 100}), service("Help", {HELP: 100}))
    (gap,) = self_referral_gaps(none)
    assert gap.severity == 85
    assert gap.sentence.startswith("No advice or help service accepts self-referral")
    # 100 of 1,000 places (10%) open to self-referral: 30 + 50 × (1 − 0.10 / 0.50) = 70.
    little = site(
        service("Drop-in", {ADVICE: 100}, capacity=100, routes=frozenset({"self"})),
        service("Help", {HELP: 100}, capacity=900),
    )
    (gap,) = self_referral_gaps(little)
    assert gap.severity == 70
    assert gap.numbers == {"services_open": 1, "services": 2, "capacity_percent": 10, "target_percent": 50}
    assert "(10% of their capacity, against a target of 50%)" in gap.sentence
    # The site sets its own target: 10% open is no gap against 10%, and against 20%
    # it is 30 + 50 × (1 − 0.10 / 0.20) = 55.
    assert self_referral_gaps(replace(little, assumptions=replace(ASSUMPTIONS, self_referral_percent=10))) == []
    (gap,) = self_referral_gaps(replace(little, assumptions=replace(ASSUMPTIONS, self_referral_percent=20)))
    assert (gap.severity, gap.numbers["target_percent"]) == (55, 20)
    enough = site(
        service("Drop-in", {ADVICE: 100}, capacity=600, routes=frozenset({"self"})),
        service("Help", {HELP: 100}, capacity=600),
    )
    assert self_referral_gaps(enough) == []


def test_waits_above_the_target_by_grouping() -> None:
    inputs = site(
        service("CAMHS", {MORE_HELP: 100}, wait=38),
        service("Counselling", {HELP: 100}, wait=10),
        service("Wellbeing", {THRIVING: 100}, wait=40),
    )
    (gap,) = wait_gaps(inputs)
    # 40 + 60 × (38 − 18) / 36 = 73.3 → 73
    assert (gap.grouping, gap.severity) == (MORE_HELP, 73)
    assert gap.numbers == {"services_over": 1, "longest_weeks": 38, "target_weeks": 18}
    assert "CAMHS (38 weeks)" in gap.sentence


def test_assessment_items_below_threshold_weighted_by_distance() -> None:
    assessment = AssessmentInput(
        round_label="Baseline",
        held_on=date(2026, 3, 1),
        threshold=3,
        scale_min=1,
        items=(
            AssessmentItemInput("system-accessibility", "accessibility", "Accessibility", "Commissioning", 1),
            AssessmentItemInput("service-needs-led", "needs-led", "Needs-Led", "Services", 2),
            AssessmentItemInput("individual-common-language", "common-language", "Common Language", "Individual", 3),
        ),
    )
    gaps = {g.key: g.severity for g in assessment_gaps(site(assessment=assessment))}
    assert gaps == {"assessment:system-accessibility": 100, "assessment:service-needs-led": 50}


def test_stale_records_are_a_data_quality_gap_shown_apart() -> None:
    inputs = site(
        service("Old", {HELP: 100}, checked=date(2025, 9, 1)),
        service("Never", {HELP: 100}, checked=None),
        service("Fresh", {HELP: 100}),
        service("Gone", {HELP: 100}, status="decommissioned", checked=None),
    )
    (gap,) = stale_gaps(inputs)
    assert gap.data_quality
    assert gap.numbers["stale"] == 2
    assert gap.severity == 67
    result = analyse(inputs)
    assert result.gaps[-1].kind == "stale"
    assert result.improvements[-1].data_quality


def test_improvements_group_gaps_and_rank_by_explained_priority() -> None:
    inputs = site(
        service("Crisis", {RISK: 100}, capacity=20),
        service("Help", {HELP: 100}, capacity=600),
        service("Advice", {ADVICE: 100}, capacity=1_000, sector="voluntary", routes=frozenset({"self"})),
        service("Wellbeing", {THRIVING: 100}, capacity=8_000, sector="education"),
        service("CAMHS", {MORE_HELP: 100}, capacity=300, wait=30),
    )
    result = analyse(inputs)
    keys = [i.key for i in result.improvements]
    grow_risk = next(i for i in result.improvements if i.key == "grow:getting-risk-support")
    # Risk support: 20 of 100 → severity 80, 80 affected; the most affected item is the
    # single-sector Thriving offer (8,000 need), so reach = 1 + 0.5 × 80/8000 = 1.005,
    # rounded half up to 1.01; weight 1.
    assert grow_risk.severity == 80
    assert grow_risk.reach == Decimal("1.01")
    assert grow_risk.priority == Decimal("80.8")
    assert grow_risk.explanation.startswith("Severity 80 (worst of 1 gap) × reach 1.01")
    assert grow_risk.explanation.endswith("= 80.8")
    assert keys == sorted(keys, key=lambda k: -next(i.priority for i in result.improvements if i.key == k))
    assert analyse(inputs) == result  # same inputs, same output and order


def test_principle_weights_change_the_ranking() -> None:
    inputs = site(service("Help", {HELP: 100}, capacity=600), service("Advice", {ADVICE: 100}, capacity=1_000))
    plain = [i.key for i in analyse(inputs).improvements if not i.data_quality]
    weighted_inputs = replace(
        inputs, assumptions=replace(ASSUMPTIONS, principle_weights={"partnership-working": Decimal(3)})
    )
    weighted = [i.key for i in analyse(weighted_inputs).improvements if not i.data_quality]
    assert weighted[0].startswith("multi-agency")
    assert plain != weighted
