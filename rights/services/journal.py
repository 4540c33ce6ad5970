"""The erasure journal, and replaying it after a backup is restored (Art. 17, 5(1)(e))."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from consent.models import SuppressionEntry
from consent.services import suppression_add
from core.audit import Actor, audit_record
from core.crypto import email_hash
from core.registry import Erasure, registry
from core.removal import Door, removal_execute, subject_targets
from core.validators import normalise_email

from ..models import ErasureJournalEntry

# --- The journal, and replaying it after a restore --------------------------------------------

JOURNAL_FIELDS = ("email_hash", "reference", "erased_at")


def erasure_journal_export() -> Iterator[dict[str, str]]:
    """Every journal entry as plain values: keyed hashes, references and times, no address."""
    for entry in ErasureJournalEntry.objects.order_by("erased_at", "id").values(*JOURNAL_FIELDS).iterator():
        yield {**entry, "erased_at": entry["erased_at"].isoformat()}


def erasure_journal_import(*, entries: Iterable[dict[str, str]]) -> int:
    """Bring back journal entries from an export (a restore may have rolled the journal back). Idempotent."""
    parsed = []
    for number, entry in enumerate(entries, start=1):
        digest = str(entry.get("email_hash", ""))
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValidationError(
                _("Line %(number)s of the journal is not a journal entry."), params={"number": number}
            )
        erased_at = parse_datetime(str(entry.get("erased_at", ""))) or timezone.now()
        parsed.append(
            ErasureJournalEntry(
                email_hash=digest, reference=str(entry.get("reference", ""))[:64], erased_at=erased_at
            )
        )
    before = ErasureJournalEntry.objects.count()
    with transaction.atomic():
        ErasureJournalEntry.objects.bulk_create(parsed, batch_size=1000, ignore_conflicts=True)
    return ErasureJournalEntry.objects.count() - before


@dataclass
class ReplayOutcome:
    people: int = 0
    erased: dict[str, int] = field(default_factory=dict)
    kept: list[tuple[str, str]] = field(default_factory=list)


REPLAY_BATCH = 5000


def erasure_replay(*, actor: Actor, since: datetime | None = None, dry_run: bool = False) -> ReplayOutcome:
    """Erase again everyone in the journal who is back, after a database backup was restored (Art. 17).

    Addresses cannot be read from the journal, so every address the register
    holds is hashed and compared: each column that holds the subjects'
    addresses is read once, in batches (one query per batch, never per row),
    and the people found are erased by the same set-based erasure as the
    first time, in one transaction. Their addresses go back on the suppression
    list too, in case the restore rolled that back as well.

    ``since``: when the restored backup was taken. Only erasures from then on
    are repeated, so a person erased earlier who later came back of their own
    accord (a new job application) is left alone. ``dry_run`` counts the
    people without erasing them.
    """
    entries = ErasureJournalEntry.objects.all()
    if since is not None:
        entries = entries.filter(erased_at__gte=since)
    journalled = set(entries.values_list("email_hash", flat=True))
    if not journalled:
        return ReplayOutcome()
    hashed = _journal_hasher()
    found: set[str] = set()
    for model, column in _address_columns():
        # Streamed in batches (a server-side cursor on PostgreSQL); no ORDER BY or
        # DISTINCT, so the database only scans. A repeated address costs one more hash.
        values = (
            model._default_manager.exclude(**{column: ""})
            .values_list(column, flat=True)
            .order_by()
            .iterator(chunk_size=REPLAY_BATCH)
        )
        for value in values:
            address = normalise_email(value)
            if address not in found and hashed(address) in journalled:
                found.add(address)
    if not found:
        return ReplayOutcome()
    addresses = sorted(found)
    if dry_run:
        return ReplayOutcome(people=len(addresses))
    with transaction.atomic():
        for address in addresses:
            suppression_add(email=address, reason=SuppressionEntry.Reason.ERASURE, actor=actor)
        outcome = removal_execute(
            targets=subject_targets(addresses),
            door=Door.REQUEST,
            actor=actor,
            reference="erasure_replay",
            audit_action="rights.erase",
        )
        audit_record(
            actor=actor,
            action="rights.erasure_replay",
            target_type=ErasureJournalEntry._meta.label_lower,
            fields=sorted(outcome.erased),
        )
    return ReplayOutcome(people=len(addresses), erased=outcome.erased, kept=outcome.kept)


def _journal_hasher() -> Callable[[str], str]:
    """``email_hash(address, purpose=HASH_PURPOSE)`` for a normalised address, fast enough for millions.

    The HMAC's key schedule is done once and copied per address (faster than
    ``hmac.new`` or ``hmac.digest`` per address). Checked against ``core.crypto.email_hash`` before use, so
    a change there can only make this slower, never wrong.
    """
    key = f"{settings.HASH_KEY}:{ErasureJournalEntry.HASH_PURPOSE}".encode()
    base = hmac.new(key, digestmod=hashlib.sha256)

    def fast(address: str) -> str:
        digest = base.copy()
        digest.update(address.encode())
        return digest.hexdigest()

    sample = "probe@example.no"
    if fast(sample) == email_hash(sample, purpose=ErasureJournalEntry.HASH_PURPOSE):
        return fast
    return lambda address: email_hash(address, purpose=ErasureJournalEntry.HASH_PURPOSE)


def _address_columns() -> list[tuple[type[models.Model], str]]:
    """(model, column) of every place an erasable declaration finds a person's address, once each.

    ``contact__email`` leads to Contact.email, so the interactions are not read
    to find their contacts: the contacts are read once, and the erasure then
    reaches the interactions through the declaration.
    """
    columns: dict[tuple[type[models.Model], str], None] = {}
    for declaration in registry.personal():
        if declaration.erasure is Erasure.KEEP or declaration.subject_email_path is None:
            continue
        model: type[models.Model] = declaration.model
        *hops, column = declaration.subject_email_path.split("__")
        for hop in hops:
            model = model._meta.get_field(hop).related_model
        columns[(model, column)] = None
    return list(columns)
