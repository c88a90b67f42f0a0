"""A scored baseline and follow-up of the THRIVE Assessment Tool for the demo site,
so the assessment pages are never empty in a first look. Fictional figures."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from accounts.models import User
from sites.models import Site

from .management.commands.load_instrument import load_default_instrument
from .models import Item, Round
from .services import AgreedScoreInput, agreed_score_save, rating_save, round_create, round_lock, round_submit


@dataclass(frozen=True)
class DemoScore:
    baseline: int
    follow_up: int
    evidence_value: str | None = None  # baseline figure for quantitative items
    follow_up_value: str | None = None
    evidence: str = ""


# Weak where the demo register is weak: partnership for risk support, accessibility
# (long specialist waits, little self-referral), shared decision making in practice.
SCORES = {
    "system-common-language": DemoScore(2, 3, "35", "60", "Service specifications reviewed for the 2026 contracts."),
    "system-needs-led": DemoScore(2, 2, evidence="Commissioning plan still organised by service type."),
    "system-shared-decision-making": DemoScore(
        2, 3, evidence="Young people's panel now sits on the partnership board."
    ),
    "system-proactive-prevention": DemoScore(3, 3, "48", "55", "Schools in the jointly planned wellbeing programme."),
    "system-partnership-working": DemoScore(1, 2, "2", "3", "Agencies at the joint risk-support panel."),
    "system-outcome-informed": DemoScore(2, 2, evidence="Outcome reporting differs by provider."),
    "system-reducing-stigma": DemoScore(3, 3, evidence="Joint campaign with schools and youth services."),
    "system-accessibility": DemoScore(1, 2, evidence="No single front door; waits not reported by grouping."),
    "service-common-language": DemoScore(2, 3, evidence="Groupings used in referral forms from spring 2026."),
    "service-needs-led": DemoScore(2, 3, "40", "58", "Open cases with a current grouping and plan."),
    "service-shared-decision-making": DemoScore(2, 2, evidence="Shared decision tools used in CAMHS only."),
    "service-proactive-prevention": DemoScore(3, 3, evidence="Mental Health Support Teams in half the schools."),
    "service-partnership-working": DemoScore(2, 2, evidence="Few joint posts outside the crisis pathway."),
    "service-outcome-informed": DemoScore(2, 3, "45", "62", "Services reviewing goal-based outcomes."),
    "service-reducing-stigma": DemoScore(3, 4, evidence="Youth-led design of waiting areas and letters."),
    "service-accessibility": DemoScore(1, 2, "38", "36", "Median wait to first helping contact, specialist CAMHS."),
    "individual-common-language": DemoScore(2, 3, evidence="Families hear the groupings at first contact."),
    "individual-needs-led": DemoScore(2, 2, evidence="Plans still follow diagnosis in specialist services."),
    "individual-shared-decision-making": DemoScore(2, 2, "51", "57", "Respondents as involved as they wanted."),
    "individual-proactive-prevention": DemoScore(3, 3, evidence="Safety plans co-written with young people."),
    "individual-partnership-working": DemoScore(2, 3, evidence="Named lead professional for complex cases."),
    "individual-outcome-informed": DemoScore(2, 3, "30", "52", "Cases with goals recorded and reviewed."),
    "individual-reducing-stigma": DemoScore(3, 3, evidence="Peer mentors in youth settings."),
    "individual-accessibility": DemoScore(2, 2, "41", "44", "Children and young people seen in a setting they chose."),
}
# Items where the room disagreed at the baseline: participant ratings before agreeing.
RATINGS = {
    "system-partnership-working": [
        ("CAMHS service manager", 2),
        ("Children's social care lead", 1),
        ("Youth charity", 1),
    ],
    "service-accessibility": [("CAMHS service manager", 2), ("Parent carer forum", 1)],
    "individual-shared-decision-making": [("School mental health lead", 3), ("Young people's panel", 2)],
}
BASELINE_ON = date(2025, 11, 12)
FOLLOW_UP_ON = date(2026, 5, 20)


def demo_rounds_load(*, site: Site, user: User) -> list[Round]:
    """A locked baseline and a submitted follow-up one, scored as a room would."""
    instrument = load_default_instrument()
    items = {item.code: item for item in Item.objects.filter(instrument=instrument)}
    baseline = round_create(site=site, user=user, source="demo", held_on=BASELINE_ON, instrument=instrument)
    for code, participants in RATINGS.items():
        for participant, score in participants:
            rating_save(
                round_=baseline,
                item=items[code],
                user=user,
                source="demo",
                participant=participant,
                score=score,
                seen=None,
            )
    _score(baseline, items, user, follow_up=False)
    round_submit(round_=baseline, user=user, source="demo", expected_version=None)
    round_lock(round_=baseline, user=user, source="demo", expected_version=None)
    follow_up = round_create(site=site, user=user, source="demo", held_on=FOLLOW_UP_ON, instrument=instrument)
    _score(follow_up, items, user, follow_up=True)
    round_submit(round_=follow_up, user=user, source="demo", expected_version=None)
    return [baseline, follow_up]


def _score(round_: Round, items: dict[str, Item], user: User, *, follow_up: bool) -> None:
    for code, item in items.items():
        demo = SCORES[code]
        value = demo.follow_up_value if follow_up else demo.evidence_value
        agreed_score_save(
            round_=round_,
            item=item,
            user=user,
            source="demo",
            data=AgreedScoreInput(
                score=demo.follow_up if follow_up else demo.baseline,
                evidence_value=Decimal(value) if value is not None else None,
                evidence_text=demo.evidence,
            ),
            expected_version=None,
        )
