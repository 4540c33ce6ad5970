"""The consent ledger is append-only in the database too (PostgreSQL).

A plain UPDATE or DELETE on consent_consentevent is refused by a trigger,
whoever sends it (the ORM, psql, another service). The one way through is
erasure (Art. 17): a transaction that has run
``SELECT set_config('personvern.erasure', 'on', true)`` (``SET LOCAL``) may
DELETE, never UPDATE; consent.services.consent_events_erase does that.
TRUNCATE is left alone: it needs table ownership, and test databases are
flushed with it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION consent_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('personvern.erasure', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the consent ledger is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Erasure goes through consent.services.consent_events_erase.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consent_ledger_append_only
    BEFORE UPDATE OR DELETE ON consent_consentevent
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS consent_ledger_append_only ON consent_consentevent;
DROP FUNCTION IF EXISTS consent_ledger_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_consent_ledger_notices_purposes")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
