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
from .models import AuditChainHead, AuditChainVerification, AuditEvent
from .prepared import execute_prepared

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


_json_text = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _canonical_parts(
    *,
    at: str,
    actor_kind: str,
    actor_id: str,
    actor_role: str,
    action: str,
    target_type: str,
    target_id: str,
    changed_fields: Sequence[str],
    ip_hash: str,
) -> tuple[str, str]:
    """The canonical encoding around the position: ``head + str(seq) + tail + previous_hash``.

    Exactly ``json.dumps([CHAIN_VERSION, seq, ...], ensure_ascii=True,
    separators=(",", ":"))`` followed by a newline, built from the strings'
    JSON forms directly (the verification hashes a million of them; json.dumps
    of a list is most of the cost). The position is left out so that the
    database can put in the one it assigns (``_APPEND_SQL``).
    """
    fields = ",".join(map(_json_text, changed_fields))
    tail = (
        f",{_json_text(at)},{_json_text(actor_kind)},{_json_text(actor_id)},{_json_text(actor_role)},"
        f"{_json_text(action)},{_json_text(target_type)},{_json_text(target_id)},[{fields}],"
        f"{_json_text(ip_hash)}]\n"
    )
    return f"[{CHAIN_VERSION},", tail


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
    head, tail = _canonical_parts(
        at=_timestamp(at), actor_kind=actor_kind, actor_id=actor_id, actor_role=actor_role, action=action,
        target_type=target_type, target_id=target_id, changed_fields=changed_fields, ip_hash=ip_hash,
    )  # fmt: skip
    return hashlib.sha256(f"{head}{seq}{tail}{previous_hash}".encode()).hexdigest()


# One statement per event (issue 11, performance): lock and advance the head row,
# hash in PostgreSQL (sha256() over the canonical text the writer sent, with the
# position the head assigns), insert the event. The head's row lock, held until
# commit, is what keeps concurrent writers in one chain; nothing is read first.
_HEAD = AuditChainHead._meta.db_table
_EVENTS = AuditEvent._meta.db_table
_APPEND_SQL = f"""
WITH head AS (
    UPDATE {_HEAD}
       SET seq = seq + 1,
           previous_hash = chain_hash,
           chain_hash = encode(
               sha256(convert_to(%s::text || (seq + 1)::text || %s::text || chain_hash, 'UTF8')), 'hex'
           )
     WHERE id = 1
    RETURNING seq, previous_hash, chain_hash
)
INSERT INTO {_EVENTS} (
    at, actor_kind, actor_id, actor_role, action, target_type, target_id, changed_fields, ip_address,
    ip_hash, seq, previous_hash, chain_hash
)
SELECT %s::timestamptz, %s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::jsonb, %s::inet,
       %s::text, head.seq, head.previous_hash, head.chain_hash
  FROM head
RETURNING id, seq, previous_hash, chain_hash
"""  # noqa: S608 (table names from the models, values bound)


# The same append for the event of a read (core.audit.audit_record_read), sent on its own in
# autocommit, so that it is its own transaction (no BEGIN and COMMIT round trips), with
# synchronous_commit off for that transaction alone: its commit does not wait for the WAL
# flush. (A SELECT in a WITH runs only when referenced, hence the cross join.)
_APPEND_READ_SQL = _APPEND_SQL.replace(
    "WITH head AS (",
    "WITH unhurried AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),\nhead AS (",
    1,
).replace("  FROM head\n", "  FROM head CROSS JOIN unhurried\n", 1)


def _head_restore() -> None:
    """Recreate a missing head row from the chain's last event (a flushed test database, a restore)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    if AuditChainHead.objects.filter(id=1).exists():
        return
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "previous_hash", "chain_hash").first()
    seq, previous, digest = last if last else (0, "", GENESIS_HASH)
    AuditChainHead.objects.create(id=1, seq=seq, previous_hash=previous, chain_hash=digest)


# The two appends, prepared once per connection: parsing and planning the statement cost the
# database more than running it (issue 10; execute_prepared).
_STATEMENT_NAMES = {_APPEND_SQL: "pv_audit_append", _APPEND_READ_SQL: "pv_audit_append_read"}


def _append_one(event: AuditEvent, *, sql: str = _APPEND_SQL) -> bool:
    """The one-statement append on PostgreSQL; False when there is no head row to advance."""
    event.ip_hash = address_hash(event.ip_address)
    head, tail = _canonical_parts(
        at=_timestamp(event.at), actor_kind=event.actor_kind, actor_id=event.actor_id,
        actor_role=event.actor_role, action=event.action, target_type=event.target_type,
        target_id=event.target_id, changed_fields=event.changed_fields, ip_hash=event.ip_hash,
    )  # fmt: skip
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            name=_STATEMENT_NAMES[sql],
            sql=sql,
            params=[
                head, tail, event.at, event.actor_kind, event.actor_id, event.actor_role, event.action,
                event.target_type, event.target_id, json.dumps(list(event.changed_fields)),
                event.ip_address or None, event.ip_hash,
            ],
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event.seq, event.previous_hash, event.chain_hash = row
    event._state.adding = False
    event._state.db = connection.alias
    return True


def chain_append(events: list[AuditEvent]) -> list[AuditEvent]:
    """Link ``events`` (unsaved) to the head of the chain and insert them, in order."""
    # No savepoint: the events belong to the caller's transaction, and a failed
    # insert fails it anyway.
    with transaction.atomic(savepoint=False):
        if len(events) == 1 and connection.vendor == "postgresql":
            if _append_one(events[0]):
                return events
            _head_restore()
            if _append_one(events[0]):
                return events
        return _append_in_python(events)


def chain_append_read(event: AuditEvent) -> AuditEvent:
    """Link and insert the event of a read, committed without waiting for the disk.

    Only outside a transaction (the caller's may write, and its commit must stay
    durable); inside one, or on SQLite, or with no head row yet, as ``chain_append``.
    """
    alone = connection.vendor == "postgresql" and not connection.in_atomic_block
    if alone and _append_one(event, sql=_APPEND_READ_SQL):
        return event
    chain_append([event])
    return event


def _append_in_python(events: list[AuditEvent]) -> list[AuditEvent]:
    # Several events at once (exports, bulk actions), and SQLite (development):
    # lock the head row, hash here, insert in one statement, advance the head.
    head = AuditChainHead.objects.select_for_update().filter(id=1).values_list("seq", "chain_hash").first()
    if head is None:
        _head_restore()
        head = AuditChainHead.objects.select_for_update().filter(id=1).values_list("seq", "chain_hash").get()
    seq, previous = head
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
    if events:
        AuditChainHead.objects.filter(id=1).update(
            seq=seq, previous_hash=events[-1].previous_hash, chain_hash=previous
        )
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


def _stream(batch: int) -> Iterator[list[tuple]]:
    """The chain in order, ``batch`` rows at a time, as plain tuples ready to hash.

    PostgreSQL: one server-side cursor (flat memory for any length of chain),
    the time already as canonical text and the changed fields as JSON text, so
    no row becomes a datetime, a list or a model on the way (issue 11: a
    million events in under a minute).
    """
    columns = list(_COLUMNS)
    if connection.vendor == "postgresql":
        columns[1] = """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        columns[8] = "changed_fields::text"
    sql = f"SELECT {', '.join(columns)} FROM {_EVENTS} ORDER BY seq"  # noqa: S608 (names from constants)
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            if connection.vendor != "postgresql":
                rows = [_portable_row(row) for row in rows]
            yield rows


def _portable_row(row: tuple) -> tuple:
    # SQLite (development) hands back the time as a datetime or text and JSON as text.
    at = row[1]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    fields = row[8] if isinstance(row[8], str) else json.dumps(row[8])
    return (row[0], _timestamp(at), *row[2:8], fields, *row[9:])


def chain_verify(*, batch: int = 5_000) -> ChainReport:
    """Walk the chain from the first event; name the first broken link."""
    # Read before the walk: every event up to this head was committed with it, so
    # the walk must reach it (events written during the walk may come after).
    recorded_head = AuditChainHead.objects.filter(id=1).values_list("seq", "chain_hash").first()
    expected_seq = 1
    previous = GENESIS_HASH
    checked = 0
    sha256 = hashlib.sha256
    for rows in _stream(batch):
        # The tight loop: one string and one SHA-256 per event, nothing else on the way.
        for seq, at, kind, actor_id, role, action, ttype, tid, fields, ip, ip_hash, prev, stored in rows:
            head, tail = _canonical_parts(
                at=at, actor_kind=kind, actor_id=actor_id, actor_role=role, action=action,
                target_type=ttype, target_id=tid, changed_fields=() if fields == "[]" else json.loads(fields),
                ip_hash=ip_hash,
            )  # fmt: skip
            if (
                seq == expected_seq
                and prev == previous
                and (not ip or address_hash(ip) == ip_hash)
                and sha256(f"{head}{seq}{tail}{prev}".encode()).hexdigest() == stored
            ):
                checked += 1
                expected_seq = seq + 1
                previous = stored
                continue
            if seq != expected_seq:
                problem = f"events {expected_seq}..{seq - 1} are missing before event {seq}"
            elif prev != previous:
                problem = f"event {seq} does not point at the hash of event {seq - 1}"
            elif ip and address_hash(ip) != ip_hash:
                problem = f"event {seq}'s address does not match its keyed hash"
            else:
                problem = f"event {seq} was changed after it was written"
            return ChainReport(False, checked, seq - 1 if checked else None, previous, seq, problem)
    head_seq = expected_seq - 1 if checked else None
    # A truncation of the chain's end leaves no broken link: compare with the
    # head the last passing run saw, and with the anchor outside the database.
    known_heads = _known_heads()
    if recorded_head and recorded_head[0] > 0:
        known_heads.append((*recorded_head, "the chain head"))
    for known_seq, known_hash, where in known_heads:
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
