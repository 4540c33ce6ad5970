"""Start the chain head at the chain's last event (or at the start, for an empty trail).

Writers advance the head in the statement that inserts their event from now on
(``core.audit_chain.chain_append``); before this migration the head was read
from the events table itself.
"""

from django.db import migrations


def fill_head(apps, schema_editor):
    from core.audit_chain import GENESIS_HASH

    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "previous_hash", "chain_hash").first()
    seq, previous, digest = last if last else (0, "", GENESIS_HASH)
    AuditChainHead.objects.update_or_create(
        id=1, defaults={"seq": seq, "previous_hash": previous, "chain_hash": digest}
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0006_audit_chain_head")]
    operations = [migrations.RunPython(fill_head, migrations.RunPython.noop)]
