"""How long the audit trail keeps a data subject's IP address (issue 8, item 9).

The address a person used in the portal (to confirm a request, download an
answer, change a consent) is personal data (CJEU C-582/14, Breyer) kept for
security investigations (Art. 32); after ``AUDIT_SUBJECT_IP_KEEP_DAYS`` it is no
longer needed for that, and goes (Art. 5(1)(e)). The event itself stays: who
(the person, by kind), what, which record, when.

The audit trail refuses updates through its manager (``AuditEventQuerySet``);
emptying this one column after its period is the single write the trail
allows, done here and nowhere else. The hash chain covers a keyed hash of the
address, not the address, so emptying it does not break the chain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .models import AuditEvent

# The actors whose address is a data subject's: the person in the portal.
SUBJECT_KINDS = (AuditEvent.ActorKind.SUBJECT,)


def audit_ip_keep_days() -> int:
    return int(getattr(settings, "AUDIT_SUBJECT_IP_KEEP_DAYS", 90))


def audit_ip_expire(*, before: datetime | None = None) -> int:
    """Empty the IP address of data subjects' audit events recorded before ``before``.

    Default: the declared period (``AUDIT_SUBJECT_IP_KEEP_DAYS``) back from now.
    One statement; safe to run twice. Returns the number of events emptied.
    """
    before = before or timezone.now() - timedelta(days=audit_ip_keep_days())
    with transaction.atomic():
        # A plain QuerySet: the manager's refuses every update, on purpose.
        rows = models.QuerySet(model=AuditEvent).filter(
            actor_kind__in=SUBJECT_KINDS, at__lt=before, ip_address__isnull=False
        )
        return rows.update(ip_address=None)
