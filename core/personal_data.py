from __future__ import annotations

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.registry import Erasure, PersonalData, registry

from .models import AuditChainHead, AuditChainVerification, AuditEvent, WorkerHeartbeat

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
        # removal-doors (issue 8, item 9): the address a data subject used is personal
        # data; core.audit_retention.audit_ip_expire empties it after its period (beat).
        retention_note=format_lazy(
            _(
                "Kept for security investigations; the IP address you used in our portal is removed after "
                "{days} days."
            ),
            days=settings.AUDIT_SUBJECT_IP_KEEP_DAYS,
        ),
        # Nothing in the product deletes an audit event; it names records by id,
        # never the person, so erasing a person leaves it as it is.
        erasure=Erasure.KEEP,
        kept_because=_(
            "The security record of who did what (Art. 32): it names records by number, not you; the IP "
            "address you used in our portal is kept for a limited time."
        ),
    )
)  # fmt: skip
registry.register_not_personal(WorkerHeartbeat, reason="Operational timestamps only.")
registry.register_not_personal(AuditChainVerification, reason="Results of verifying the audit hash chain.")
registry.register_not_personal(AuditChainHead, reason="The last position and hash of the audit hash chain.")
