"""The retention policy for the login records django-axes keeps (staff/personal_data.py).

Ninety days covers the investigation of a break-in attempt (Art. 32, and Art. 33's
72 hours to tell Datatilsynet once a breach is found); older records serve no
purpose (Art. 5(1)(e)). A policy rather than a setting, so the privacy officer sees
and changes it beside every other period, and the sweep removes the rows through
the one removal engine.
"""

from django.db import migrations

POLICY = {
    "code": "staff-logins",
    "category": "staff_login",
    "period_days": 90,
    "anchor": "",
    "fallback_anchor": "",
    "action": "delete",
    "exempt_active_customers": False,
    # A login record is never worth keeping past its period, and the first run after
    # an upgrade removes every older record at once: no safety valve needed.
    "max_share": "1.000",
    "reason": (
        "Logins to the administration, successful and failed, with the address and browser used: kept "
        "90 days to investigate a break-in attempt (Art. 32), then deleted."
    ),
}


def create_policy(apps, schema_editor):
    RetentionPolicy = apps.get_model("retention", "RetentionPolicy")
    RetentionPolicy.objects.get_or_create(code=POLICY["code"], defaults=POLICY)


def remove_policy(apps, schema_editor):
    RetentionPolicy = apps.get_model("retention", "RetentionPolicy")
    RetentionPolicy.objects.filter(code=POLICY["code"], runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_create_role_groups"),
        ("retention", "0005_statistics_cells_roll_up_to_the_year"),
    ]

    operations = [migrations.RunPython(create_policy, remove_policy)]
