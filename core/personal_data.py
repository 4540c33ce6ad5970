from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import AuditChainVerification, AuditEvent, WorkerHeartbeat

# The audit trail is about staff and systems acting on records; the address it
# keeps is the actor's, needed to investigate a security incident (Art. 32).
registry.register(
    PersonalData(
        model=AuditEvent,
        category="audit_trail",
        description=_("Who saw or changed which record, and from which address"),
        personal_fields=("ip_address",),
        not_personal_fields=(
            "at", "actor_kind", "actor_id", "action", "target_type", "target_id", "changed_fields",
            "actor_role", "seq", "ip_hash", "previous_hash", "chain_hash",
        ),
        purposes=("legal_obligation_security",),
        source=_("Recorded by the system"),
        retention_anchor="at",
        retention_note=_("Kept for security investigations"),
        # Nothing in the product deletes an audit event; it names records by id,
        # never the person, so erasing a person leaves it as it is.
        erasure=Erasure.KEEP,
        kept_because=_("The security record of who did what (Art. 32); it holds no data about you."),
    )
)  # fmt: skip
registry.register_not_personal(WorkerHeartbeat, reason="Operational timestamps only.")
registry.register_not_personal(AuditChainVerification, reason="Results of verifying the audit hash chain.")
