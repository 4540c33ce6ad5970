"""Fill the stored decision of the consent check (ConsentDecision) for the whole register.

Set-based, through the same statements the services keep it with
(``consent.services.decisions.decisions_refresh``): one INSERT ... SELECT over every
contact and active marketing purpose, then the suppression list (keyed hashes, computed
in Python) takes back the few rows that rest on a function's address or a § 15(2) sale.
"""

from django.db import migrations


def fill(apps, schema_editor):
    from consent.services.decisions import decisions_refresh

    decisions_refresh()
    if schema_editor.connection.vendor == "postgresql":
        # A new table of a million rows: the check's plan needs its statistics at once.
        schema_editor.execute("ANALYZE consent_consentdecision")


class Migration(migrations.Migration):
    dependencies = [("consent", "0009_consent_decision")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
