"""The stored decision of the consent check (``ConsentDecision``), kept with whatever changes it.

``decisions_refresh`` recomputes the decision of every active marketing purpose for the
contacts (or purposes) it is given, set-based: one statement clears their rows, one writes
what the rules clear now, and the suppression list, whose keyed hashes only Python can
compute, takes back the few rows that rest on neither a consent nor an opt-out of their own.
Callers: the ledger (every act), the suppression list, the § 15(2) sale record, a purpose's
change, the register's own changes (``consent.signals``), the demo, and the fill migration.

The rules are ``consent.machine.basis_for``'s marketing branch, as SQL; the property test
(tests/consent/test_authority_property.py) proves the stored decision equals a replay
written apart after every act, and that a refill from scratch writes the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from core.crypto import email_hash
from subjects.models import Contact

from .. import machine
from ..models import ConsentDecision, ConsentState, Purpose, SuppressionEntry

_NOT_ATTESTED = tuple(sorted(str(s) for s in Contact.THIRD_PARTY_SOURCES))

# One row per (contact, active marketing purpose) that a basis clears, before the suppression
# list (basis_for, marketing branch, in its order):
# - a third party's data without the source's attestation: never (policy, Når samler vi inn);
# - the purpose granted: consent (the machine turns a consent given before an objection into
#   an objection, so a granted state is one given after it, Art. 21(3));
# - an opt-out of the purpose or an objection to direct marketing: never;
# - a function's address: outside Marketing Control Act § 15;
# - § 15(2): our own similar products to a customer whose address came with a sale and an
#   opt-out; until the contract ends.
_DECIDE = """
SELECT c.id, p.id, c.email,
       CASE WHEN s.state = %(granted)s THEN %(consent)s
            WHEN c.email_kind = %(functional)s THEN %(functional_address)s
            ELSE %(customer)s END,
       CASE WHEN s.state = %(granted)s OR c.email_kind = %(functional)s THEN NULL
            ELSE org.customer_contract_ends END
FROM subjects_contact c
CROSS JOIN consent_purpose p
LEFT JOIN consent_consentstate s ON s.contact_id = c.id AND s.purpose_id = p.id
LEFT JOIN consent_consentstate o ON o.contact_id = c.id AND o.purpose_id = %(direct_marketing)s
LEFT JOIN subjects_organisation org ON org.id = c.organisation_id
LEFT JOIN consent_customeraddressrecord r ON r.contact_id = c.id
WHERE p.is_marketing AND p.is_active {scope}
  AND (c.source_type NOT IN ({not_attested}) OR c.source_attests_consent)
  AND (s.state = %(granted)s OR (
        (s.state IS NULL OR s.state NOT IN (%(withdrawn)s, %(objected)s, %(expired)s))
        AND (o.state IS NULL OR o.state <> %(objected)s)
        AND (c.email_kind = %(functional)s
             OR (p.own_similar_products AND org.is_customer AND r.opt_out_offered))))
"""


def _in(name: str, values: list[int], params: dict[str, object]) -> str:
    keys = [f"{name}{i}" for i in range(len(values))]
    params.update(zip(keys, values, strict=True))
    return ", ".join(f"%({k})s" for k in keys) or "NULL"


def decisions_refresh(
    *, contact_ids: Iterable[int] | None = None, purpose_ids: Iterable[int] | None = None
) -> None:
    """Recompute the stored decision of these contacts (or purposes; neither: everyone).

    Inside the caller's transaction, so the decision moves with what changed it. Rows are
    emptied, never deleted: a projection row is no personal data leaving the register.
    """
    params: dict[str, object] = {
        "granted": ConsentState.State.GRANTED,
        "withdrawn": ConsentState.State.WITHDRAWN,
        "objected": ConsentState.State.OBJECTED,
        "expired": ConsentState.State.EXPIRED,
        "consent": machine.Basis.CONSENT,
        "functional": Contact.EmailKind.FUNCTIONAL,
        "functional_address": machine.Basis.FUNCTIONAL_ADDRESS,
        "customer": machine.Basis.CUSTOMER_RELATIONSHIP,
        "direct_marketing": Purpose.objects.filter(code=Purpose.DIRECT_MARKETING)
        .values_list("pk", flat=True)
        .first(),
    }
    scope: list[str] = []
    clear: list[str] = []
    for name, alias, values in (("contact_id", "c", contact_ids), ("purpose_id", "p", purpose_ids)):
        if values is None:
            continue
        ids = sorted(set(values))
        if not ids:
            return
        listed = _in(alias, ids, params)
        scope.append(f"AND {alias}.id IN ({listed})")
        clear.append(f"{{d}}{name} IN ({listed})")
    # Names from model metadata and the rules above; every value is a parameter.
    table = ConsentDecision._meta.db_table
    decide = _DECIDE.format(scope=" ".join(scope), not_attested=", ".join(f"'{s}'" for s in _NOT_ATTESTED))
    empty = f"UPDATE {table} SET email = '', basis = '', until = NULL WHERE basis <> ''"  # noqa: S608
    upsert = (
        f"INSERT INTO {table} (contact_id, purpose_id, email, basis, until) {decide} "
        "ON CONFLICT (contact_id, purpose_id) "
        "DO UPDATE SET email = EXCLUDED.email, basis = EXCLUDED.basis, until = EXCLUDED.until"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(empty + "".join(" AND " + c.format(d="") for c in clear), params)
        cursor.execute(upsert, params)
        _suppressed_take_back(cursor, table, clear, params)


def _suppressed_take_back(cursor: Any, table: str, clear: list[str], params: dict[str, object]) -> None:
    """An opt-out outlives erasure for every kind of address (Art. 21(3), 17): a decision that
    rests on neither a consent nor the contact's own states goes when the address is suppressed."""
    candidates = (
        f"SELECT d.contact_id, c.email FROM {table} d JOIN subjects_contact c ON c.id = d.contact_id "  # noqa: S608
        "WHERE d.basis IN (%(functional_address)s, %(customer)s)"
    )
    cursor.execute(candidates + "".join(" AND " + c.format(d="d.") for c in clear), params)
    rows = cursor.fetchall()
    for start in range(0, len(rows), 5000):
        by_hash: dict[str, list[int]] = {}
        for pk, email in rows[start : start + 5000]:
            by_hash.setdefault(email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE), []).append(pk)
        found = SuppressionEntry.objects.filter(email_hash__in=list(by_hash)).values_list(
            "email_hash", flat=True
        )
        suppressed = sorted({pk for digest in found for pk in by_hash[digest]})
        if suppressed:
            taken: dict[str, object] = dict(params)
            listed = _in("s", suppressed, taken)
            cursor.execute(
                f"UPDATE {table} SET email = '', basis = '', until = NULL "  # noqa: S608
                f"WHERE basis IN (%(functional_address)s, %(customer)s) AND contact_id IN ({listed})",
                taken,
            )


def decisions_refresh_for_email(*, email: str) -> None:
    """After the suppression list changed: every contact with this address."""
    decisions_refresh(contact_ids=Contact.objects.filter(email=email).values_list("pk", flat=True))
