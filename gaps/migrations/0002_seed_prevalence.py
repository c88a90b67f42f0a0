"""Seed prevalence by age band from NHS England's Mental Health of Children and Young
People in England surveys. Waves are not directly comparable; each figure carries
its wave, measure and caveat, and staff can edit them in the admin."""

from decimal import Decimal

from django.db import migrations

SURVEY = "NHS England, Mental Health of Children and Young People in England"
WAVE_2023 = "2023 (wave 4)"
PROBABLE = "Probable mental disorder (SDQ-based, unweighted for severity)"
COMPARABILITY = (
    "Survey waves are not directly comparable: 2017 used a diagnostic assessment, "
    "2020 to 2023 report a 'probable' disorder from questionnaires."
)

FIGURES = [
    (
        "0-4",
        Decimal("5.50"),
        "2017 (wave 1)",
        "Any mental disorder (diagnostic assessment)",
        "2 to 4",
        "The 2023 wave did not survey children under 8; the 2017 figure for 2 to 4 year olds is used "
        "for 0 to 4. " + COMPARABILITY,
    ),
    (
        "5-10",
        Decimal("15.70"),
        WAVE_2023,
        PROBABLE,
        "8 to 10",
        "The 2023 figure for 8 to 10 year olds is applied to 5 to 10 year olds. " + COMPARABILITY,
    ),
    ("11-16", Decimal("22.60"), WAVE_2023, PROBABLE, "11 to 16", COMPARABILITY),
    ("17-19", Decimal("23.30"), WAVE_2023, PROBABLE, "17 to 19", COMPARABILITY),
    ("20-25", Decimal("21.70"), WAVE_2023, PROBABLE, "20 to 25", COMPARABILITY),
]


def seed(apps, schema_editor):
    PrevalenceFigure = apps.get_model("gaps", "PrevalenceFigure")
    for age_band, percent, wave, measure, source_ages, caveat in FIGURES:
        PrevalenceFigure.objects.update_or_create(
            age_band=age_band,
            defaults={
                "percent": percent,
                "survey": SURVEY,
                "wave": wave,
                "measure": measure,
                "source_ages": source_ages,
                "caveat": caveat,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("gaps", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
