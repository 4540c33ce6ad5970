"""Carrying out data-subject rights through the registry of personal data (core.registry).

Every registered model takes part through its declaration in its app's
``personal_data.py``: what is held about a person (Art. 15), what they gave us
(Art. 20), what may be corrected (Art. 16), and how their rows are erased or
anonymised (Art. 17). Nothing here names another app's models, so a new model
with a declaration is covered without a change here.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from consent.models import SuppressionEntry
from consent.services import suppression_add
from core.audit import Actor, audit_record
from core.crypto import email_hash
from core.events import subject_erased
from core.registry import Erasure, PersonalData, registry
from core.removal import Door, RemovalOutcome, removal_execute, removal_preview, rows_target, subject_targets
from core.validators import clean_email, normalise_email, normalise_phone
from subjects.models import Contact

from .models import ErasureJournalEntry
from .report import build_sections, render_rows_html
from .selectors import recipients_for

logger = logging.getLogger(__name__)


def _addresses(emails: Iterable[str]) -> list[str]:
    """The person's addresses, normalised and without duplicates; at least one."""
    found = sorted({normalise_email(e) for e in emails if normalise_email(e)})
    if not found:
        raise ValidationError(_("Give at least one email address."), code="no_email")
    return found


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- Access (Art. 15) -------------------------------------------------------------------------


def access_report_build(*, emails: list[str], reference: str) -> bytes:
    """A zip with ``report.html`` (printable) and ``report.json`` of everything held about the person.

    One query per registered model that can find the person's rows (``.values()``,
    no model instances), so the number of queries never grows with the rows.
    Each section says why we hold the data, of which category, from where, who
    receives it and for how long (Art. 15(1)(a)-(d), (g)); the closing part names
    the person's further rights and the right to complain (Art. 15(1)(e)-(f)).
    """
    addresses = _addresses(emails)
    generated_at = timezone.now()
    sections = build_sections(addresses)
    language = translation.get_language() or settings.LANGUAGE_CODE
    # First: rendering also turns the rows' dates into ISO text for the JSON.
    html = render_to_string(
        "rights/access_report.html",
        {
            "reference": reference,
            "generated_at": generated_at,
            "language": language,
            "sections": [(s, render_rows_html(s)) for s in sections],
            "row_count": sum(len(s.rows) for s in sections),
        },
    )
    document = {
        "reference": reference,
        "generated_at": generated_at,
        "language": language,
        "controller": settings.DEFAULT_FROM_EMAIL,
        "sections": [
            {
                "model": s.label,
                "title": s.title,
                "description": s.description,
                "category": s.category,
                "category_label": s.category_label,
                "purposes": [{"code": c, "label": label} for c, label in s.purposes],
                "source": s.source,
                "recipients": [{"code": c, "label": label} for c, label in s.recipients],
                "retention": s.retention,
                "kept_after_erasure_because": s.kept_because,
                "fields": [{"name": n, "label": label} for n, label in s.fields],
                "rows": s.rows,
            }
            for s in sections
        ],
    }
    return _zip(
        {
            "report.html": html,
            # No indent: only then does json use its C encoder (ten thousand rows).
            "report.json": json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False),
        }
    )


# --- Portability (Art. 20) --------------------------------------------------------------------


def portability_export_build(*, emails: list[str], reference: str) -> bytes:
    """A zip with ``data.json`` and one CSV per model of the data the person gave us (Art. 20).

    Only the fields each declaration names in ``provided_by_subject``: what the
    person provided, not what we inferred or recorded about them. One query per
    model.
    """
    addresses = _addresses(emails)
    data: dict[str, list[dict[str, Any]]] = {}
    files: dict[str, str | bytes] = {}
    for declaration in registry.personal():
        if not declaration.findable or not declaration.provided_by_subject:
            continue
        names = declaration.provided_by_subject
        rows = list(declaration.rows_for(addresses).order_by("pk").values(*names))
        if not rows:
            continue
        data[declaration.label] = rows
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(names))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
        files[f"{declaration.label.replace('.', '_')}.csv"] = out.getvalue()
    document = {"reference": reference, "generated_at": timezone.now(), "data": data}
    files = {
        "data.json": json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
        **files,
    }
    return _zip(files)


def _csv_value(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


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
        gone = set(contact_ids) - set(Contact.objects.filter(pk__in=contact_ids).values_list("pk", flat=True))
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
    from .tasks import erasure_journal_file_write

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


# --- Rectification (Art. 16) ------------------------------------------------------------------

_NORMALISERS = {"email": clean_email, "phone": normalise_phone}


def subject_rectify(
    *, emails: list[str], changes: dict[str, dict[str, object]], actor: Actor, reference: str
) -> dict[str, int]:
    """Correct the person's rows: ``changes`` maps a model label to {field: new value}.

    Only fields the model's declaration lists in ``rectifiable_fields``. Every
    row is validated before any is written, so a bad value writes nothing.
    Returns the number of rows corrected per model. Recipients to tell of the
    correction (Art. 19): ``rights.selectors.recipients_for``.
    """
    addresses = _addresses(emails)
    declarations = {d.label: d for d in registry.personal()}
    errors: dict[str, list[ValidationError]] = {}
    planned: list[tuple[PersonalData, models.Model, dict[str, object]]] = []
    for label, values in changes.items():
        declaration = declarations.get(label)
        if declaration is None or not declaration.findable:
            raise ValidationError(_("There is no register called “%(label)s”."), params={"label": label})
        if not values:
            continue
        not_allowed = sorted(set(values) - set(declaration.rectifiable_fields))
        if not_allowed:
            raise ValidationError(
                _("These fields of %(model)s cannot be corrected this way: %(fields)s."),
                params={
                    "model": declaration.model._meta.verbose_name_plural,
                    "fields": ", ".join(not_allowed),
                },
            )
        cleaned: dict[str, object] = {}
        for name, value in values.items():
            normalise = _NORMALISERS.get(name)
            try:
                cleaned[name] = normalise(value) if normalise and isinstance(value, str) else value
            except ValidationError as error:
                errors.setdefault(f"{label}.{name}", []).append(error)
        for row in declaration.rows_for(addresses).order_by("pk"):
            for name, value in cleaned.items():
                setattr(row, name, value)
            try:
                row.full_clean()
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    errors.setdefault(f"{label}.{name}", []).extend(ValidationError(m) for m in messages)
            planned.append((declaration, row, cleaned))
    if errors:
        raise ValidationError(errors)

    corrected: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        for declaration, row, cleaned in planned:
            update_fields = list(cleaned)
            update_fields += [
                f.name
                for f in row._meta.concrete_fields
                if getattr(f, "auto_now", False) and f.name not in cleaned
            ]
            row.save(update_fields=update_fields)
            audit_record(actor=actor, action="rights.rectify", target=row, fields=cleaned)
            corrected[declaration.label] += 1
    return dict(corrected)


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
