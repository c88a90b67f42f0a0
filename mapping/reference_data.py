"""Reference data every site shares: the five THRIVE needs-based groupings, in
THRIVE order, and the lists of delivery settings and referral routes.

Descriptions follow Wolpert et al. (2019), THRIVE Framework for system change, as
quoted by the National i-THRIVE programme. Seeded by migration 0002; `seed` takes
the model classes so the migration can pass its historical models.
"""

from typing import Any

from .groupings import ADVICE, HELP, MORE_HELP, RISK, THRIVING

GROUPINGS = [
    (
        THRIVING,
        "Thriving",
        "Thriving",
        "Population wellbeing promotion, and universal and selective prevention, for children "
        "and young people who are getting on with life.",
    ),
    (
        ADVICE,
        "Getting Advice and Signposting",
        "Advice",
        "For mild or temporary difficulties, or ongoing difficulties managed by the family itself: "
        "advice, signposting, self-management and community offers, with no wrong door.",
    ),
    (
        HELP,
        "Getting Help",
        "Help",
        "Focused, evidence-based help with clear aims and criteria for assessing whether the aims are met.",
    ),
    (
        MORE_HELP,
        "Getting More Help",
        "More help",
        "Extensive, specialist, evidence-based treatment over a predetermined timeframe, aiming at recovery.",
    ),
    (
        RISK,
        "Getting Risk Support",
        "Risk support",
        "For those not benefiting from or not able to use help who remain a significant risk: "
        "individually tailored, collaborative, multi-agency support that aims to reduce risk.",
    ),
]

DELIVERY_SETTINGS = [
    ("school", "School or college"),
    ("community", "Community venue"),
    ("clinic", "Clinic or hospital"),
    ("home", "Home"),
    ("online", "Online"),
    ("telephone", "Telephone or text"),
    ("primary-care", "GP practice"),
    ("inpatient", "Inpatient ward"),
]

REFERRAL_ROUTES = [
    ("self", "Self-referral"),
    ("parent-carer", "Parent or carer"),
    ("school", "School or college"),
    ("gp", "GP"),
    ("social-care", "Social care"),
    ("specialist", "Specialist service"),
    ("health-visitor", "Health visitor or school nurse"),
    ("youth-justice", "Youth justice"),
    ("emergency", "Emergency department or police"),
]


def seed(*, grouping_model: Any, delivery_setting_model: Any, referral_route_model: Any) -> None:
    """Create or refresh the reference rows; safe to run again."""
    for order, (code, label, short_label, description) in enumerate(GROUPINGS, start=1):
        grouping_model.objects.update_or_create(
            code=code,
            defaults={"label": label, "short_label": short_label, "order": order, "description": description},
        )
    for order, (code, label) in enumerate(DELIVERY_SETTINGS, start=1):
        delivery_setting_model.objects.update_or_create(code=code, defaults={"label": label, "order": order})
    for order, (code, label) in enumerate(REFERRAL_ROUTES, start=1):
        referral_route_model.objects.update_or_create(code=code, defaults={"label": label, "order": order})


def seed_current() -> None:
    from .models import DeliverySetting, Grouping, ReferralRoute

    seed(grouping_model=Grouping, delivery_setting_model=DeliverySetting, referral_route_model=ReferralRoute)
