from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.utils import timezone

from .audit_chain import ChainReport, anchor_write, chain_verify
from .models import AuditChainVerification, WorkerHeartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, name: str) -> WorkerHeartbeat:
    beat, _ = WorkerHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})
    return beat


def audit_chain_check(*, anchor: bool = True) -> tuple[AuditChainVerification, ChainReport]:
    """Verify the audit chain, record the result and, on a break, tell the privacy officer.

    Art. 32 and Art. 33: an altered trail is a possible breach the privacy
    officer must assess at once. A passing run writes the head hash to the log
    and to the anchor file (``AUDIT_ANCHOR_FILE``) outside the database.
    """
    report = chain_verify()
    verification = AuditChainVerification.objects.create(
        ok=report.ok,
        events_checked=report.events_checked,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        broken_seq=report.broken_seq,
        problem=report.problem[:300],
    )
    if report.ok:
        if anchor:
            anchor_write(report)
    else:
        logger.error("audit chain broken at event %s: %s", report.broken_seq, report.problem)
        # Ids and positions only: the mail says where to look, not what the events hold.
        send_mail(
            "Personvern: the audit trail has been altered",
            f"audit_verify found a broken link in the audit trail.\n\n"
            f"First broken position: {report.broken_seq}\nProblem: {report.problem}\n"
            f"Events verified before it: {report.events_checked}\n\n"
            "Assess this as a possible personal data breach (Art. 33).",
            settings.DEFAULT_FROM_EMAIL,
            [settings.PRIVACY_OFFICER_EMAIL],
        )
        mail_admins("audit chain broken", report.problem, fail_silently=True)
    return verification, report
