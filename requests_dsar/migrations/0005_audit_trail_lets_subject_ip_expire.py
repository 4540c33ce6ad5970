"""Let the audit trail's append-only trigger allow one change: emptying a data subject's IP address.

Issue 8, item 9 (Art. 5(1)(e)): the address a person used in the portal is
personal data kept for a declared period (``AUDIT_SUBJECT_IP_KEEP_DAYS``);
``core.audit_retention.audit_ip_expire`` empties it afterwards. Every other
change, and every delete, is still refused: the row must be the same in every
other column (compared as JSON, so columns added later, such as a hash chain,
are covered too). Which events are emptied (the data subjects') is decided in
``audit_ip_expire``.

It lives in requests_dsar (the app that owns the portal and this retention) so
that it does not collide with the audit trail's own migrations in core; it
replaces the trigger function core/migrations/0002 created with the very SQL
the hardening branch's core/migrations/0004 installs, so that whichever runs
last, the function is the same. Once both are on main this migration may be
emptied (keep the file, as a no-op, for databases that applied it).
"""

from django.db import migrations

ALLOW_SUBJECT_IP_EXPIRY = """
CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.ip_address IS NULL
       AND (to_jsonb(NEW) - 'ip_address') = (to_jsonb(OLD) - 'ip_address') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

REFUSE_EVERY_CHANGE = """
CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW_SUBJECT_IP_EXPIRY, params=None)


def refuse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE_EVERY_CHANGE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("requests_dsar", "0004_history_answer_file_deleted"),
        ("core", "0002_audit_events_append_only_in_postgresql"),
    ]

    operations = [migrations.RunPython(allow, refuse)]
