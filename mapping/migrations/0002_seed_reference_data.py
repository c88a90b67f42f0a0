"""Seed the five THRIVE needs-based groupings and the reference lists (see
mapping/reference_data.py)."""

from django.db import migrations

from mapping.reference_data import seed


def seed_reference_data(apps, schema_editor):
    seed(
        grouping_model=apps.get_model("mapping", "Grouping"),
        delivery_setting_model=apps.get_model("mapping", "DeliverySetting"),
        referral_route_model=apps.get_model("mapping", "ReferralRoute"),
    )


class Migration(migrations.Migration):
    dependencies = [("mapping", "0001_initial")]

    operations = [migrations.RunPython(seed_reference_data, migrations.RunPython.noop)]
