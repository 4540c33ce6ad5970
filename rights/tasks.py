"""Celery doors into the rights services. Tasks take ids, never addresses."""

from __future__ import annotations

import re

from celery import shared_task
from django.core.files.base import ContentFile


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
    email = Contact.objects.filter(pk=contact_id).values_list("email", flat=True).first()
    if email is None:
        return ""
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
