"""Celery doors into the rights services. Tasks take ids, never addresses."""

from __future__ import annotations

import json
import logging
import os
import re

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import translation

logger = logging.getLogger(__name__)

JOURNAL_MAX_RETRIES = 10


@shared_task(autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=3)
def access_report_build_for_contact(contact_id: int, reference: str) -> str:
    """Build a contact's access report (Art. 15) into private storage; returns the stored name.

    For staff and integrations that start from a contact rather than from a
    request (requests_dsar builds its own answers). The name holds only the
    reference; storage is private and never served without login. Safe to run
    twice: the second run writes a fresh copy under the same name.
    """
    from core.audit import Actor, audit_record
    from subjects.models import Contact, private_storage

    from .services import access_report_build

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", reference):
        raise ValueError("reference: letters, digits, - and _ only")
    found = Contact.objects.filter(pk=contact_id).values_list("email", "language").first()
    if found is None:
        return ""
    email, language = found
    # In the person's own language (Art. 12(1)), whatever the worker's default.
    with translation.override(language if language in ("nb", "en") else "nb"):
        content = access_report_build(emails=[email], reference=reference)
    name = f"access-reports/{reference}.zip"
    if private_storage.exists(name):
        private_storage.delete(name)
    stored = private_storage.save(name, ContentFile(content))
    # An export that reveals personal data is audited like a staff view of it.
    audit_record(
        actor=Actor.system("rights.access_report"),
        action="rights.access_report",
        target_type=Contact._meta.label_lower,
        target_id=contact_id,
    )
    return stored


@shared_task(bind=True, max_retries=JOURNAL_MAX_RETRIES)
def erasure_journal_file_write(self, entries: list[dict[str, str]]) -> int:
    """After commit, on its own: append erasures to ``ERASURE_JOURNAL_FILE`` (keyed hashes only).

    Retried with exponential backoff while the file cannot be written (volume not
    mounted, disk full); then logged at ERROR for the operator, who runs
    ``erasure_journal_export`` once the volume is back (the database holds every
    entry). Safe to run twice: an entry already in the file is not written again.
    Returns the number of lines written.
    """
    try:
        return journal_file_write(entries)
    except OSError as error:
        if self.request.retries >= self.max_retries:
            logger.error(
                "rights: the erasure journal file could not be written (%s); %d entries are only in the "
                "database: run erasure_journal_export when the volume is back",
                type(error).__name__,
                len(entries),
            )
            return 0
        countdown = min(3600, 15 * 2**self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from None


def journal_file_write(entries: list[dict[str, str]]) -> int:
    """Append the entries not yet in the journal file; the directory must exist (it is a mounted volume).

    The directory is not created here: a journal written inside the container,
    not on the volume, would be lost with it, and nobody would notice.
    """
    path = settings.ERASURE_JOURNAL_FILE
    if not path:
        return 0
    seen: set[tuple[str, str]] = set()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as journal:
            for line in journal:
                if line.strip():
                    known = json.loads(line)
                    seen.add((known.get("email_hash", ""), known.get("reference", "")))
    lines = [json.dumps(e) for e in entries if (e["email_hash"], e["reference"]) not in seen]
    if not lines:
        return 0
    with open(path, "a", encoding="utf-8") as journal:
        journal.write("\n".join(lines) + "\n")
        journal.flush()
        os.fsync(journal.fileno())
    return len(lines)
