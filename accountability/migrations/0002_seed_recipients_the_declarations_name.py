"""Seed the register with the recipient codes the declarations (personal_data.py) and the
vocabulary of the access report already use, so the system check passes on a fresh install.
Details (organisation number, agreement, transfer) are for the privacy officer to fill in."""

from __future__ import annotations

from django.db import migrations

RECIPIENTS = [
    ("hosting_provider", "Hosting provider", "processor", ["contact", "interaction", "job_application",
                                                          "web_visit", "consent", "data_subject_request"]),
    ("crm_provider", "CRM provider", "processor", ["contact", "interaction"]),
    ("email_provider", "Email provider", "processor", ["contact", "consent"]),
    ("accountant", "Accountant", "processor", []),
    ("authorities", "Public authorities", "authority", []),
]  # fmt: skip


def seed(apps, schema_editor):
    Recipient = apps.get_model("accountability", "Recipient")
    for code, name, kind, categories in RECIPIENTS:
        Recipient.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "country": "NO", "categories": categories}
        )


class Migration(migrations.Migration):
    dependencies = [("accountability", "0001_recipients_and_disclosures")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
