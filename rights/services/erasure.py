"""Erasure (Art. 17), by the person's request or from the admin, through the removal engine (core.removal)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from consent.models import SuppressionEntry
from consent.services import suppression_add
from core.audit import Actor, audit_record
from core.crypto import email_hash
from core.events import subject_erased
from core.removal import Door, RemovalOutcome, removal_execute, removal_preview, rows_target, subject_targets
from core.validators import normalise_email
from subjects.models import Contact

from ..models import ErasureJournalEntry
from ..selectors import recipients_for
from .common import _addresses

logger = logging.getLogger(__name__)

# --- Erasure (Art. 17) ------------------------------------------------------------------------


# The answer of an erasure is the removal engine's outcome (per declared model: deleted,
# anonymised with the fields emptied, kept and why, in words).
ErasureOutcome = RemovalOutcome


def subject_erase(
    *,
    emails: list[str],
    actor: Actor,
    reference: str,
    door: Door = Door.REQUEST,
    request_id: int | None = None,
) -> RemovalOutcome:
    """Erase or anonymise the person in every registered model, in one transaction (Art. 17).

    The removal engine (core.removal) does the work, set-based, and keeps what
    must be kept, naming why: declarations marked ``Erasure.KEEP``, rows under
    a legal hold (Art. 17(3)(e)), rows a ``must_keep`` rule names (accounting
    records, bokføringsloven § 13; Art. 17(3)(b)), and what those refer to.
    The erasure is journalled by a keyed hash of each address, so
    ``erasure_replay`` can repeat it after a backup is restored, and the
    addresses go on the suppression list so that a later import cannot bring
    the person back silently. ``door``: who asked (the person's request, or
    staff in the admin, where open requests and objections spare the person).
    """
    addresses = _addresses(emails)
    with transaction.atomic():
        recipients = recipients_for(emails=addresses)
        contact_ids = list(Contact.objects.filter(email__in=addresses).values_list("pk", flat=True))
        # Journal and suppression first, so the outcome names them among what is kept.
        ErasureJournalEntry.objects.bulk_create(
            [
                ErasureJournalEntry(
                    email_hash=email_hash(a, purpose=ErasureJournalEntry.HASH_PURPOSE), reference=reference
                )
                for a in addresses
            ],
            ignore_conflicts=True,
        )
        for address in addresses:
            suppression_add(email=address, reason=SuppressionEntry.Reason.ERASURE, actor=actor)
        outcome = removal_execute(
            targets=subject_targets(addresses),
            door=door,
            actor=actor,
            reference=reference,
            audit_action="rights.erase",
        )
        audit_record(
            actor=actor,
            action="rights.erase",
            target_type=ErasureJournalEntry._meta.label_lower,
            target_id=reference,
            fields=sorted(outcome.erased),
        )
        contacts = outcome.models.get(Contact._meta.label_lower)
        if contacts is not None and contacts.deleted == len(contact_ids):
            gone = set(contact_ids)  # every one of them went: no need to ask
        else:
            gone = set(contact_ids) - set(
                Contact.objects.filter(pk__in=contact_ids).values_list("pk", flat=True)
            )
        subject_erased.send(
            sender=subject_erase,
            emails=addresses,
            contact_ids=sorted(gone),
            recipients=recipients,
            request_id=request_id,
            reason="admin" if door is Door.ADMIN else "request",
        )
        transaction.on_commit(lambda: journal_file_append(addresses=addresses, reference=reference))
    return outcome


def subject_erase_preview(*, emails: list[str], door: Door = Door.ADMIN) -> RemovalOutcome:
    """What ``subject_erase`` would do now, without writing anything (the admin's confirmation page)."""
    return removal_preview(targets=subject_targets(_addresses(emails)), door=door)


# --- Erasure from the admin: the same engine behind a confirmation page --------------------


def _admin_reference() -> str:
    # The journal's reference for an erasure staff started: a time, never a name or an address.
    return f"ADMIN-{timezone.now():%Y%m%d%H%M%S}"


def contacts_erase(*, contacts: QuerySet, actor: Actor) -> RemovalOutcome:
    """Erase the people behind these register rows (Art. 17), as their own request would.

    By address, so everything the person is found by goes (their job
    application, the CV file, closed requests' details, the admin log), the
    addresses are journalled and suppressed; an open request or an objection
    of theirs spares them (the admin is not their request).
    """
    emails = sorted({normalise_email(e) for e in contacts.values_list("email", flat=True) if e})
    if not emails:
        return RemovalOutcome()
    return subject_erase(emails=emails, actor=actor, reference=_admin_reference(), door=Door.ADMIN)


def contacts_erase_preview(*, contacts: QuerySet) -> RemovalOutcome:
    emails = sorted({normalise_email(e) for e in contacts.values_list("email", flat=True) if e})
    if not emails:
        return RemovalOutcome(dry_run=True)
    return subject_erase_preview(emails=emails, door=Door.ADMIN)


def job_applications_erase(*, applications: QuerySet, actor: Actor, dry_run: bool = False) -> RemovalOutcome:
    """Remove these applications and their documents (the files once the transaction commits)."""
    return removal_execute(
        targets=[rows_target(applications)],
        door=Door.ADMIN,
        actor=actor,
        reference=_admin_reference(),
        audit_action="rights.erase",
        dry_run=dry_run,
    )


def organisations_erase(*, organisations: QuerySet, actor: Actor, dry_run: bool = False) -> RemovalOutcome:
    """Erase the people who represent these organisations, then the organisations themselves.

    A held organisation (or a held contact of it) stays, with the reason.
    """
    with transaction.atomic():
        contacts = Contact.objects.filter(organisation__in=organisations)
        outcome = (
            contacts_erase_preview(contacts=contacts)
            if dry_run
            else contacts_erase(contacts=contacts, actor=actor)
        )
        outcome.merge(
            removal_execute(
                targets=[rows_target(organisations)],
                door=Door.ADMIN,
                actor=actor,
                reference=_admin_reference(),
                audit_action="rights.erase",
                dry_run=dry_run,
            )
        )
    return outcome


def journal_file_append(*, addresses: Sequence[str], reference: str) -> None:
    """Append the erasure to ``ERASURE_JOURNAL_FILE`` (keyed hashes only), when it is set.

    The copy outside the database is what survives when a restore rolls the
    database's own journal back too (see README, "Erasure survives a restore").
    Called after commit; the writing is its own retried task
    (``rights.tasks.erasure_journal_file_write``), so a missing or full journal
    volume never stops the answer email or the redaction (issue 8, item 10).
    Never raises: the database's own journal holds the entry either way.
    """
    if not getattr(settings, "ERASURE_JOURNAL_FILE", ""):
        return
    from ..tasks import erasure_journal_file_write

    at = timezone.now().isoformat()
    entries = [
        {
            "email_hash": email_hash(a, purpose=ErasureJournalEntry.HASH_PURPOSE),
            "reference": reference,
            "erased_at": at,
        }
        for a in addresses
    ]
    try:
        erasure_journal_file_write.delay(entries)
    except Exception:
        logger.exception("rights: could not queue the erasure journal write for %s", reference)
