"""The default retention policies, so they exist without demo data (README: Retention explains each)."""

from django.db import migrations

DEFAULTS = [
    {
        "code": "contacts",
        "category": "contact",
        "period_days": 3 * 365,
        "anchor": "",
        "fallback_anchor": "created_at",
        "action": "delete",
        "exempt_active_customers": True,
        "max_share": None,
        "reason": (
            "The policy (Hvor lenge) keeps contact data a reasonable time after the last interaction: "
            "three years covers a typical sales cycle and the limitation period for claims "
            "(foreldelsesloven § 2). Contacts of an active customer are kept while the contract runs. "
            "A contact never interacted with is measured from when it was registered."
        ),
    },
    {
        "code": "job-applications",
        "category": "job_application",
        "period_days": 183,
        "anchor": "",
        "fallback_anchor": "",
        "action": "delete",
        "exempt_active_customers": False,
        "max_share": "0.600",
        "reason": (
            "Six months after the decision covers a complaint under the Equality and "
            "Anti-Discrimination Act (§ 38 allows claims to be raised for a time after the decision). "
            "Undecided applications are never due. The first run after seeding removes about half, "
            "so its safety valve is at 60 %."
        ),
    },
    {
        "code": "web-visits",
        "category": "web_visit",
        "period_days": 90,
        "anchor": "",
        "fallback_anchor": "",
        "action": "delete",
        "exempt_active_customers": False,
        "max_share": "0.600",
        "reason": (
            "Analytics needs a quarter to compare; after 90 days an IP address and browser serve no "
            "purpose. A daily run removes about 1/90 of them; the first run after seeding about half, "
            "so its safety valve is at 60 %."
        ),
    },
]


def create_defaults(apps, schema_editor):
    RetentionPolicy = apps.get_model("retention", "RetentionPolicy")
    for values in DEFAULTS:
        RetentionPolicy.objects.get_or_create(code=values["code"], defaults=values)


def remove_defaults(apps, schema_editor):
    # Policies staff created or changed stay; only untouched defaults go.
    RetentionPolicy = apps.get_model("retention", "RetentionPolicy")
    RetentionPolicy.objects.filter(code__in=[d["code"] for d in DEFAULTS], runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_policies_holds_runs")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
