"""Seed the five THRIVE needs-based groupings and the reference lists, in THRIVE order.

Descriptions follow Wolpert et al. (2019), THRIVE Framework for system change, as
quoted by the National i-THRIVE programme.
"""

from django.db import migrations

GROUPINGS = [
    (
        "thriving",
        "Thriving",
        "Thriving",
        "Population wellbeing promotion, and universal and selective prevention, for children "
        "and young people who are getting on with life.",
    ),
    (
        "getting-advice",
        "Getting Advice and Signposting",
        "Advice",
        "For mild or temporary difficulties, or ongoing difficulties managed by the family itself: "
        "advice, signposting, self-management and community offers, with no wrong door.",
    ),
    (
        "getting-help",
        "Getting Help",
        "Help",
        "Focused, evidence-based help with clear aims and criteria for assessing whether the aims are met.",
    ),
    (
        "getting-more-help",
        "Getting More Help",
        "More help",
        "Extensive, specialist, evidence-based treatment over a predetermined timeframe, aiming at recovery.",
    ),
    (
        "getting-risk-support",
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


def seed(apps, schema_editor):
    Grouping = apps.get_model("mapping", "Grouping")
    DeliverySetting = apps.get_model("mapping", "DeliverySetting")
    ReferralRoute = apps.get_model("mapping", "ReferralRoute")
    for order, (code, label, short_label, description) in enumerate(GROUPINGS, start=1):
        Grouping.objects.update_or_create(
            code=code,
            defaults={"label": label, "short_label": short_label, "order": order, "description": description},
        )
    for order, (code, label) in enumerate(DELIVERY_SETTINGS, start=1):
        DeliverySetting.objects.update_or_create(code=code, defaults={"label": label, "order": order})
    for order, (code, label) in enumerate(REFERRAL_ROUTES, start=1):
        ReferralRoute.objects.update_or_create(code=code, defaults={"label": label, "order": order})


class Migration(migrations.Migration):
    dependencies = [("mapping", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
