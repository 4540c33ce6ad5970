"""The audit trail's hash chain: appending under one lock, and verifying it.

Art. 32 asks for protection against alteration: the append-only trigger stops
the application and anyone without ownership of the table, but a database
owner can disable it. The chain makes such a rewrite visible: each event
carries the hash of the one before it, so editing, deleting or inserting an
event breaks every link after it, and the daily head hash kept outside the
database (``AUDIT_ANCHOR_FILE``) catches a rewrite of the whole chain.

The canonical encoding is a JSON array with a fixed field order. The data
subject's address is not in it, only its keyed hash: the address expires or is
erased (Art. 5(1)(e), Art. 17) while the chain must keep verifying.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from .crypto import keyed_hash
from .models import AuditChainVerification, AuditEvent

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1
# pg_advisory_xact_lock key: "audit" in ASCII, one lock for the one chain.
CHAIN_LOCK_KEY = 0x6175646974


def address_hash(ip_address: str | None) -> str:
    if not ip_address:
        return ""
    return _address_hash(str(ip_address), settings.HASH_KEY)


@lru_cache(maxsize=4096)
def _address_hash(ip_address: str, _key: str) -> str:
    # Cached: the same few addresses recur on thousands of events (keyed by
    # HASH_KEY too, so a changed key is never served from the cache).
    return keyed_hash(ip_address, purpose="audit-address")


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor_kind: str,
    actor_id: str,
    actor_role: str,
    action: str,
    target_type: str,
    target_id: str,
    changed_fields: Sequence[str],
    ip_hash: str,
    previous_hash: str,
) -> str:
    """SHA-256 over the canonical encoding of one event followed by the previous hash."""
    canonical = json.dumps(
        [
            CHAIN_VERSION, seq, _timestamp(at), actor_kind, actor_id, actor_role,
            action, target_type, target_id, list(changed_fields), ip_hash,
        ],
        ensure_ascii=True,
        separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(f"{canonical}\n{previous_hash}".encode()).hexdigest()


def _lock_chain() -> None:
    # One writer at a time appends, until its transaction ends, so concurrent
    # writers keep one chain. SQLite (development) serialises writers itself.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def chain_append(events: list[AuditEvent]) -> list[AuditEvent]:
    """Link ``events`` (unsaved) to the head of the chain and insert them, in order."""
    # No savepoint: the events belong to the caller's transaction, and a failed
    # insert fails it anyway; two fewer round trips per event.
    with transaction.atomic(savepoint=False):
        _lock_chain()
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "chain_hash").first()
        seq, previous = head if head else (0, GENESIS_HASH)
        for event in events:
            seq += 1
            event.seq = seq
            event.ip_hash = address_hash(event.ip_address)
            event.previous_hash = previous
            event.chain_hash = event_hash(
                seq=seq,
                at=event.at,
                actor_kind=event.actor_kind,
                actor_id=event.actor_id,
                actor_role=event.actor_role,
                action=event.action,
                target_type=event.target_type,
                target_id=event.target_id,
                changed_fields=event.changed_fields,
                ip_hash=event.ip_hash,
                previous_hash=previous,
            )
            previous = event.chain_hash
        if len(events) == 1:
            events[0].save()
        else:
            AuditEvent.objects.bulk_create(events, batch_size=1000)
    return events


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    head_seq: int | None
    head_hash: str
    broken_seq: int | None = None
    problem: str = ""


_COLUMNS = (
    "seq", "at", "actor_kind", "actor_id", "actor_role", "action", "target_type", "target_id",
    "changed_fields", "ip_address", "ip_hash", "previous_hash", "chain_hash",
)  # fmt: skip


def _stream(batch: int = 5000) -> Iterator[tuple]:
    # Keyset pages on the unique index: flat memory for any length of chain, no
    # long-lived server-side cursor, and plain tuples (no model or field conversion).
    table = AuditEvent._meta.db_table
    sql = f"SELECT {', '.join(_COLUMNS)} FROM {table} WHERE seq > %s ORDER BY seq LIMIT %s"  # noqa: S608 (names from constants, values bound)
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [last, batch])
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            fields = row[8]
            if isinstance(fields, str):  # SQLite hands JSON back as text
                fields = json.loads(fields)
            at = row[1]
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            yield (*row[:1], at, *row[2:8], fields, *row[9:])
        last = rows[-1][0]


def chain_verify(*, batch: int = 5000) -> ChainReport:
    """Walk the chain from the first event; name the first broken link."""
    expected_seq = 1
    previous = GENESIS_HASH
    checked = 0
    for row in _stream(batch):
        (seq, at, kind, actor_id, role, action, ttype, tid, fields, ip, ip_hash, prev, stored) = row
        problem = ""
        if seq != expected_seq:
            problem = f"events {expected_seq}..{seq - 1} are missing before event {seq}"
        elif prev != previous:
            problem = f"event {seq} does not point at the hash of event {seq - 1}"
        elif ip and address_hash(ip) != ip_hash:
            problem = f"event {seq}'s address does not match its keyed hash"
        elif (
            event_hash(
                seq=seq, at=at, actor_kind=kind, actor_id=actor_id, actor_role=role, action=action,
                target_type=ttype, target_id=tid, changed_fields=fields, ip_hash=ip_hash,
                previous_hash=prev,
            )
            != stored
        ):  # fmt: skip
            problem = f"event {seq} was changed after it was written"
        if problem:
            return ChainReport(False, checked, seq - 1 if checked else None, previous, seq, problem)
        checked += 1
        expected_seq = seq + 1
        previous = stored
    head_seq = expected_seq - 1 if checked else None
    # A truncation of the chain's end leaves no broken link: compare with the
    # head the last passing run saw, and with the anchor outside the database.
    for known_seq, known_hash, where in _known_heads():
        if head_seq is None or known_seq > head_seq:
            return ChainReport(
                False, checked, head_seq, previous, known_seq,
                f"event {known_seq} ({where}) is no longer in the chain",
            )  # fmt: skip
        stored = AuditEvent.objects.filter(seq=known_seq).values_list("chain_hash", flat=True).first()
        if stored != known_hash:
            return ChainReport(
                False, checked, head_seq, previous, known_seq,
                f"event {known_seq} differs from its hash recorded in {where}",
            )  # fmt: skip
    return ChainReport(True, checked, head_seq, previous)


def _known_heads() -> list[tuple[int, str, str]]:
    heads: list[tuple[int, str, str]] = []
    last = (
        AuditChainVerification.objects.filter(ok=True, head_seq__isnull=False)
        .order_by("-at", "-id")
        .values_list("head_seq", "head_hash")
        .first()
    )
    if last:
        heads.append((last[0], last[1], "the last passing verification"))
    anchor = anchor_read_last()
    if anchor:
        heads.append((anchor[0], anchor[1], "the anchor file"))
    return heads


def _anchor_path() -> Path | None:
    name = getattr(settings, "AUDIT_ANCHOR_FILE", "")
    return Path(name) if name else None


def anchor_read_last() -> tuple[int, str] | None:
    path = _anchor_path()
    if path is None or not path.exists():
        return None
    last_line = ""
    with path.open(encoding="ascii", errors="replace") as f:
        for line in f:
            if line.strip():
                last_line = line
    parts = last_line.split()
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


def anchor_write(report: ChainReport) -> None:
    """The day's head hash, in the log and appended to the anchor file outside the database."""
    if report.head_seq is None:
        return
    logger.info("audit chain head seq=%s hash=%s", report.head_seq, report.head_hash)
    path = _anchor_path()
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as f:
        f.write(f"{_timestamp(datetime.now(UTC))} {report.head_seq} {report.head_hash}\n")
