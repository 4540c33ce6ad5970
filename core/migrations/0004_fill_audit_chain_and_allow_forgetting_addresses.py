"""Link the events written before the chain existed, in the order they were written,
and let the trigger allow one change: forgetting an address.

The address is personal data that must expire (Art. 5(1)(e)); the chain covers
only its keyed hash, so setting it to NULL leaves every link intact. Any other
UPDATE, and every DELETE, is still refused by the database (Art. 32).
"""

from django.db import migrations

ALLOW_FORGETTING = """
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
REFUSE_ALL = """
CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def fill_chain(apps, schema_editor):
    from core.audit_chain import GENESIS_HASH, address_hash, event_hash

    AuditEvent = apps.get_model("core", "AuditEvent")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
    previous = GENESIS_HASH
    seq = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        ip_hash = address_hash(event.ip_address)
        digest = event_hash(
            seq=seq, at=event.at, actor_kind=event.actor_kind, actor_id=event.actor_id,
            actor_role=event.actor_role, action=event.action, target_type=event.target_type,
            target_id=event.target_id, changed_fields=event.changed_fields, ip_hash=ip_hash,
            previous_hash=previous,
        )  # fmt: skip
        # The historical model has a plain manager, so update() is allowed here.
        AuditEvent.objects.filter(pk=event.pk).update(
            seq=seq, ip_hash=ip_hash, previous_hash=previous, chain_hash=digest
        )
        previous = digest
    if postgres:
        schema_editor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")
        schema_editor.execute(ALLOW_FORGETTING, params=None)


def refuse_all(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE_ALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_hash_chain_fields")]
    operations = [migrations.RunPython(fill_chain, refuse_all)]
