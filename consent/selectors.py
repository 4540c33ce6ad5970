"""Reads: the consent check, the current state, notices, and what the daily jobs owe."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice

from django.db import connection
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import email_hash
from core.errors import NotFound
from core.prepared import execute_prepared
from core.registry import registry
from core.validators import normalise_email
from subjects.models import Contact

from . import machine
from .models import (
    ConsentDecision,
    ConsentEvent,
    ConsentState,
    InformationNotice,
    LegalBasis,
    LegitimateInterestAssessment,
    NoticeNotification,
    PendingSignup,
    PrivacyNotice,
    Purpose,
    SuppressionEntry,
)

State = ConsentState.State

# How long after the last interaction (or collection) a contact still counts as
# active: the register's own retention (Hvor lenge: "en rimelig periode").
ACTIVE_FOR = timedelta(days=3 * 365)


class Basis(machine.Basis):
    """What cleared a contact for a purpose (recorded with each marketing send)."""

    LABELS = {
        machine.Basis.CONSENT: _("Consent"),
        machine.Basis.CUSTOMER_RELATIONSHIP: _("Existing customer relationship (Marketing Control Act § 15)"),
        machine.Basis.FUNCTIONAL_ADDRESS: _("A function's address, outside Marketing Control Act § 15"),
        machine.Basis.CONTRACT: _("Contract"),
        machine.Basis.LEGITIMATE_INTEREST: _("Legitimate interest"),
        machine.Basis.LEGAL_OBLIGATION: _("Legal obligation"),
    }


def email_is_suppressed(*, email: str) -> bool:
    return SuppressionEntry.objects.filter(
        email_hash=email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE)
    ).exists()


def purpose_by_code(*, code: str | None) -> Purpose:
    """The purpose, or a readable error for a missing or unknown code."""
    if not code:
        raise NotFound(str(_("No purpose was given.")))
    purpose = Purpose.objects.filter(code=code).first()
    if purpose is None:
        raise NotFound(str(_("There is no purpose with that code.")))
    return purpose


def purpose_has_approved_assessment(*, purpose: Purpose, on: datetime | None = None) -> bool:
    today = timezone.localdate(on) if on else timezone.localdate()
    return LegitimateInterestAssessment.objects.filter(
        purpose=purpose,
        outcome=LegitimateInterestAssessment.Outcome.APPROVED,
        reviewed_on__lte=today,
        next_review__gte=today,
    ).exists()


def purposes_consentable() -> QuerySet[Purpose]:
    """Purposes a person can switch on or off themselves (the portal, the sign-up form)."""
    return Purpose.objects.filter(legal_basis=LegalBasis.CONSENT, is_active=True).order_by("code")


# --- Privacy notices --------------------------------------------------------


def notice_current(*, at: datetime | None = None) -> PrivacyNotice | None:
    """The notice in force: the published version with the latest effective date already reached."""
    at = at or timezone.now()
    return (
        PrivacyNotice.objects.filter(published_at__isnull=False, effective_from__lte=at)
        .order_by("-effective_from", "-id")
        .first()
    )


def notice_upcoming() -> PrivacyNotice | None:
    return (
        PrivacyNotice.objects.filter(published_at__isnull=False, effective_from__gt=timezone.now())
        .order_by("effective_from")
        .first()
    )


def notice_by_version(*, version: str) -> PrivacyNotice:
    notice = PrivacyNotice.objects.filter(version=version, published_at__isnull=False).first()
    if notice is None:
        raise NotFound(str(_("There is no published notice with that version.")))
    return notice


def notices_published() -> QuerySet[PrivacyNotice]:
    return PrivacyNotice.objects.filter(published_at__isnull=False).order_by("-effective_from")


def contacts_active(*, now: datetime | None = None) -> QuerySet[Contact]:
    """People we still deal with: an interaction, or collection, within ``ACTIVE_FOR``.

    A function's address (post@firma.no) is not a person and is left out.
    """
    since = (now or timezone.now()) - ACTIVE_FOR
    return Contact.objects.filter(
        Q(last_interaction_at__gte=since) | Q(last_interaction_at__isnull=True, collected_at__gte=since),
        email_kind=Contact.EmailKind.PERSONAL,
    )


def contacts_to_notify(*, notice: PrivacyNotice) -> QuerySet[Contact]:
    """Active contacts not yet told about ``notice`` (the campaign's remaining work)."""
    told = NoticeNotification.objects.filter(notice=notice, contact=OuterRef("pk"))
    return contacts_active().filter(~Exists(told)).order_by("pk")


def notices_with_campaign_due() -> QuerySet[PrivacyNotice]:
    """Published material changes not yet in force whose campaign has not finished."""
    return PrivacyNotice.objects.filter(
        is_material=True,
        published_at__isnull=False,
        effective_from__gt=timezone.now(),
        campaign_finished_at__isnull=True,
    )


def contacts_due_art14_notice() -> QuerySet[Contact]:
    """Art. 14: people whose data came from someone else and who have not had the notice."""
    sent = InformationNotice.objects.filter(contact=OuterRef("pk"))
    return (
        Contact.objects.filter(
            source_type__in=Contact.THIRD_PARTY_SOURCES, email_kind=Contact.EmailKind.PERSONAL
        )
        .filter(~Exists(sent))
        .order_by("collected_at", "pk")
    )


# --- The consent check --------------------------------------------------------


@dataclass(frozen=True)
class ContactFacts:
    """What the check needs to know about one contact, fetched in one query."""

    contact_id: int
    email: str
    email_kind: str
    third_party: bool
    source_attests_consent: bool
    state: str | None
    marketing_objection: bool
    customer: bool
    sale_opt_out_offered: bool


def _check_facts(facts: ContactFacts) -> machine.CheckFacts:
    return machine.CheckFacts(
        state=facts.state,
        direct_marketing_state=State.OBJECTED if facts.marketing_objection else None,
        functional_address=facts.email_kind == Contact.EmailKind.FUNCTIONAL,
        third_party_without_attestation=facts.third_party and not facts.source_attests_consent,
        customer_with_sale_opt_out=facts.customer and facts.sale_opt_out_offered,
    )


def _basis(purpose: Purpose, facts: ContactFacts, *, suppressed: bool | None = None) -> str | None:
    """Which basis clears this contact for ``purpose`` now, or None (``consent.machine.basis_for``).

    ``suppressed`` None: look the address up on the suppression list only if the
    decision depends on it (a keyed hash per address).
    """
    check = _check_facts(facts)
    kwargs = {
        "legal_basis": purpose.legal_basis,
        "is_marketing": purpose.is_marketing,
        "is_active": purpose.is_active,
        "own_similar_products": purpose.own_similar_products,
    }
    if suppressed is None:
        suppressed = machine.needs_suppression_lookup(
            is_marketing=purpose.is_marketing, is_active=purpose.is_active, facts=check,
            own_similar_products=purpose.own_similar_products,
        ) and email_is_suppressed(email=facts.email)  # fmt: skip
    return machine.basis_for(facts=check, suppressed=suppressed, **kwargs)


def _needs_suppression(purpose: Purpose, facts: ContactFacts) -> bool:
    return machine.needs_suppression_lookup(
        is_marketing=purpose.is_marketing, is_active=purpose.is_active, facts=_check_facts(facts),
        own_similar_products=purpose.own_similar_products,
    )  # fmt: skip


def _facts_queryset(purpose: Purpose, direct_marketing_id: int | None) -> QuerySet[Contact]:
    # order_by(): the register's default ordering by name would sort every chunk for nothing.
    qs = Contact.objects.order_by().annotate(
        purpose_state=FilteredRelation("consent_states", condition=Q(consent_states__purpose_id=purpose.pk)),
    )
    if direct_marketing_id is not None and purpose.is_marketing:
        qs = qs.annotate(
            objection_state=FilteredRelation(
                "consent_states", condition=Q(consent_states__purpose_id=direct_marketing_id)
            )
        )
    return qs


def _facts_values(purpose: Purpose, direct_marketing_id: int | None) -> tuple[str, ...]:
    names = ["pk", "email", "email_kind", "source_type", "source_attests_consent", "purpose_state__state"]
    if direct_marketing_id is not None and purpose.is_marketing:
        names.append("objection_state__state")
    if purpose.is_marketing and purpose.own_similar_products:
        names += [
            "organisation__is_customer",
            "organisation__customer_contract_ends",
            "customer_address_record__opt_out_offered",
        ]
    return tuple(names)


def _facts(row: tuple, names: tuple[str, ...]) -> ContactFacts:
    values = dict(zip(names, row, strict=True))
    ends = values.get("organisation__customer_contract_ends")
    return ContactFacts(
        contact_id=values["pk"],
        email=values["email"],
        email_kind=values["email_kind"],
        third_party=values["source_type"] in Contact.THIRD_PARTY_SOURCES,
        source_attests_consent=values["source_attests_consent"],
        state=values["purpose_state__state"],
        marketing_objection=values.get("objection_state__state") == State.OBJECTED,
        # An existing customer: a customer whose contract has not ended.
        customer=bool(values.get("organisation__is_customer"))
        and (ends is None or ends >= timezone.localdate()),
        sale_opt_out_offered=bool(values.get("customer_address_record__opt_out_offered")),
    )


def _purpose_and_direct_marketing(code: str) -> tuple[Purpose, int | None]:
    """The purpose asked about and the id of ``direct_marketing``, in one query."""
    if not code:
        raise NotFound(str(_("No purpose was given.")))
    found = {p.code: p for p in Purpose.objects.filter(code__in={code, Purpose.DIRECT_MARKETING})}
    if code not in found:
        raise NotFound(str(_("There is no purpose with that code.")))
    dm = found.get(Purpose.DIRECT_MARKETING)
    return found[code], dm.pk if dm else None


# The single check as one statement: the purpose by code, the contact by key, and its
# state and stored decision (ConsentDecision, marketing purposes) through their unique
# (contact, purpose) indexes. Hand-written so a check costs no ORM compilation.
_SINGLE_CHECK_SQL = """
SELECT p.id, p.legal_basis, p.is_marketing, p.is_active, c.id, c.email, s.state, d.basis, d.until
FROM consent_purpose p
JOIN subjects_contact c ON c.id = %(contact)s
LEFT JOIN consent_consentstate s ON s.contact_id = c.id AND s.purpose_id = p.id
LEFT JOIN consent_consentdecision d ON d.contact_id = c.id AND d.purpose_id = p.id
WHERE p.code = %(code)s
"""


def _stored_basis(basis: str | None, until: date | str | None) -> str | None:
    """The stored decision as it stands today: a § 15(2) customer relationship ends with its contract."""
    if not basis:
        return None
    if until is not None:
        if isinstance(until, str):  # SQLite hands dates back as text
            until = date.fromisoformat(until)
        if until < timezone.localdate():
            return None
    return basis


def consent_basis(*, contact: Contact, purpose_code: str) -> str | None:
    """Which basis lets us use ``purpose_code`` for this person now (None: it may not)."""
    if not purpose_code:
        raise NotFound(str(_("No purpose was given.")))
    with connection.cursor() as cursor:
        cursor.execute(_SINGLE_CHECK_SQL, {"contact": contact.pk, "code": purpose_code})
        row = cursor.fetchone()
    if row is None:
        purpose_by_code(code=purpose_code)  # a readable error for an unknown purpose
        return None  # the contact is gone
    return _single_basis(row)


# The API's single check (the mail tool, before every send) from the address: the contact
# is found by its address in the same statement, so the check is one round trip instead
# of two, and it runs as a statement prepared once per connection (issue 10). The
# purpose's row is always there when its code is known; c.id is NULL for an unknown address.
_SINGLE_CHECK_BY_EMAIL_SQL = f"""
SELECT p.id, p.legal_basis, p.is_marketing, p.is_active, c.id, c.email, s.state, d.basis, d.until
FROM {Purpose._meta.db_table} p
LEFT JOIN {Contact._meta.db_table} c ON c.email = %s
LEFT JOIN {ConsentState._meta.db_table} s ON s.contact_id = c.id AND s.purpose_id = p.id
LEFT JOIN {ConsentDecision._meta.db_table} d ON d.contact_id = c.id AND d.purpose_id = p.id
WHERE p.code = %s
LIMIT 1
"""  # noqa: S608 (table names from the models, values bound)


def consent_basis_by_email(*, email: str, purpose_code: str) -> str | None:
    """``consent_basis`` for the contact with this address (None: unknown, or it may not).

    One statement: the address, the purpose, the state and the stored decision. An unknown
    address is simply not allowed; an unknown purpose is ``NotFound``.
    """
    if not purpose_code:
        raise NotFound(str(_("No purpose was given.")))
    with connection.cursor() as cursor:
        execute_prepared(
            cursor, name="pv_consent_check_by_email", sql=_SINGLE_CHECK_BY_EMAIL_SQL,
            params=[normalise_email(email), purpose_code],
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        purpose_by_code(code=purpose_code)  # a readable error for an unknown purpose
        return None  # created since: nobody is cleared for it yet
    if row[4] is None:
        return None  # no contact has this address
    return _single_basis(row)


def _single_basis(row: tuple) -> str | None:
    """The decision of the single check from its one row (both doors above)."""
    _purpose_id, legal_basis, is_marketing, is_active, _contact_id, email, state, stored, until = row
    if is_marketing:
        basis = _stored_basis(stored, until) if is_active else None
    else:
        # Not marketing: the purpose's own state and legal basis decide (consent.machine.basis_for).
        facts = machine.CheckFacts(state, None, False, False, False)
        basis = machine.basis_for(
            legal_basis=legal_basis, is_marketing=False, is_active=bool(is_active),
            own_similar_products=False, facts=facts, suppressed=False,
        )  # fmt: skip
    if basis in _BLOCKABLE and registry.processing_blocked([email]):
        return None
    return basis


# Art. 18(2): while processing is restricted, data may be used only with the
# person's consent (or as the law requires); every other basis is blocked.
_BLOCKABLE = frozenset(
    {Basis.CONTRACT, Basis.LEGITIMATE_INTEREST, Basis.FUNCTIONAL_ADDRESS, Basis.CUSTOMER_RELATIONSHIP}
)


def consent_allowed(*, contact: Contact, purpose_code: str) -> bool:
    """May we use ``purpose_code`` for this person now?

    One query: the purpose by code, the contact by primary key, and its
    projection rows for the purpose and for the objection to direct
    marketing, both through the unique (contact, purpose) index.
    """
    return consent_basis(contact=contact, purpose_code=purpose_code) is not None


def _chunks(values: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def consent_clearance_rows(*, emails: Iterable[str], purpose_code: str) -> Iterator[tuple[int, str, str]]:
    """For many addresses: (contact id, address, basis) for each that may receive ``purpose_code``.

    Addresses are looked up in chunks (one query each, joined to the
    projection through its unique index), so memory grows with the chunk,
    not with the register. Unknown addresses are simply not cleared.
    """
    purpose, dm = _purpose_and_direct_marketing(purpose_code)
    if not purpose.is_active:
        return
    if purpose.is_marketing:
        yield from _stored_clearance_rows(purpose, (normalise_email(e) for e in emails))
        return
    names = _facts_values(purpose, dm)
    base = _facts_queryset(purpose, dm)
    if purpose.legal_basis == LegalBasis.CONSENT and not purpose.own_similar_products:
        # Only a given consent or a function's address can clear; let the
        # database drop everyone else before rows reach Python.
        base = base.filter(Q(purpose_state__state=State.GRANTED) | Q(email_kind=Contact.EmailKind.FUNCTIONAL))
    # PostgreSQL takes a chunk as one array (= ANY): large chunks mean few
    # scans of the register; SQLite caps the number of parameters.
    size = 50_000 if connection.vendor == "postgresql" else 900
    normalised = (normalise_email(e) for e in emails)
    for chunk in _chunks(normalised, size):
        rows = base.filter(email__in=chunk).values_list(*names)
        candidates: list[ContactFacts] = []
        cleared: list[tuple[int, str, str]] = []
        # At most one row per address of the chunk: memory follows the chunk.
        for row in rows:
            facts = _facts(row, names)
            if _needs_suppression(purpose, facts):
                # A function's address or a § 15(2) customer: the suppression list decides.
                candidates.append(facts)
                continue
            basis = _basis(purpose, facts, suppressed=False)
            if basis is not None:
                cleared.append((facts.contact_id, facts.email, basis))
        if candidates:
            # An opt-out outlives erasure for every kind of address (Art. 21(3), 17).
            hashes = {
                email_hash(f.email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE): f for f in candidates
            }
            suppressed = set(
                SuppressionEntry.objects.filter(email_hash__in=list(hashes)).values_list(
                    "email_hash", flat=True
                )
            )
            for digest, facts in hashes.items():
                basis = _basis(purpose, facts, suppressed=digest in suppressed)
                if basis is not None:
                    cleared.append((facts.contact_id, facts.email, basis))
        blocked = registry.processing_blocked([email for _pk, email, basis in cleared if basis in _BLOCKABLE])
        yield from (row for row in cleared if row[1] not in blocked or row[2] not in _BLOCKABLE)


# The batch check of a marketing purpose: the cleared addresses of the purpose, stored with their
# decision (consentdecision_check_idx), so the register itself is not read at all.
_STORED_CHECK_SQL = """
SELECT contact_id, email, basis FROM consent_consentdecision
WHERE purpose_id = %s AND basis <> '' AND email = ANY(%s) AND (until IS NULL OR until >= %s)
"""


def _stored_clearance_rows(purpose: Purpose, emails: Iterable[str]) -> Iterator[tuple[int, str, str]]:
    """(contact id, address, basis) of the addresses the stored decision clears for ``purpose``."""
    today = timezone.localdate()
    postgres = connection.vendor == "postgresql"
    for chunk in _chunks(emails, 50_000 if postgres else 900):
        if postgres:
            # One array parameter: the chunk is one index scan, not 50,000 bound values.
            with connection.cursor() as cursor:
                cursor.execute(_STORED_CHECK_SQL, [purpose.pk, chunk, today])
                cleared = cursor.fetchall()
        else:
            cleared = list(
                ConsentDecision.objects.filter(purpose=purpose, email__in=chunk)
                .exclude(basis="")
                .filter(Q(until__isnull=True) | Q(until__gte=today))
                .values_list("contact_id", "email", "basis")
            )
        blockable = [email for _pk, email, basis in cleared if basis in _BLOCKABLE]
        blocked = registry.processing_blocked(blockable) if blockable else set()
        yield from (row for row in cleared if row[1] not in blocked or row[2] not in _BLOCKABLE)


def consent_clearances(*, emails: Iterable[str], purpose_code: str) -> dict[str, str]:
    """{address: basis} for the addresses that may receive ``purpose_code`` now."""
    return {
        email: basis for _pk, email, basis in consent_clearance_rows(emails=emails, purpose_code=purpose_code)
    }


def consent_allowed_emails(*, emails: Iterable[str], purpose_code: str) -> set[str]:
    """Which of these addresses (normalised) may receive ``purpose_code`` now."""
    return set(consent_clearances(emails=emails, purpose_code=purpose_code))


# --- State, history and replay ------------------------------------------------


@dataclass(frozen=True)
class ConsentStateRow:
    """One purpose's current state for a person, for display (portal, contact page, access report)."""

    purpose_code: str
    purpose_name: str
    legal_basis: str
    legal_basis_label: str
    is_marketing: bool
    state: str | None
    state_label: str
    channel: str | None
    changed_at: datetime | None
    last_event_id: int | None


def consent_state_for_contact(*, contact: Contact) -> list[ConsentStateRow]:
    """Every purpose the person can consent to, and every purpose with a recorded state.

    ``state`` is the effective state (``consent.machine.effective_state``): a marketing
    topic not consented to again after an objection to direct marketing shows as objected.
    Two queries, whatever the number of purposes or events.
    """
    states = {s.purpose_id: s for s in ConsentState.objects.filter(contact=contact).select_related("purpose")}
    dm_state = next((s.state for s in states.values() if s.purpose.code == Purpose.DIRECT_MARKETING), None)
    purposes = Purpose.objects.filter(
        Q(legal_basis=LegalBasis.CONSENT, is_active=True) | Q(pk__in=list(states))
    ).order_by("code")
    rows = []
    for purpose in purposes:
        row = states.get(purpose.pk)
        state = machine.effective_state(
            state=row.state if row else None,
            is_marketing=purpose.is_marketing,
            direct_marketing_state=dm_state,
        )
        rows.append(
            ConsentStateRow(
                purpose_code=purpose.code,
                purpose_name=purpose.name,
                legal_basis=purpose.legal_basis,
                legal_basis_label=str(purpose.get_legal_basis_display()),
                is_marketing=purpose.is_marketing,
                state=state,
                state_label=str(State(state).label if state else _("Not given")),
                channel=row.channel if row else None,
                changed_at=row.changed_at if row else None,
                last_event_id=row.last_event_id if row else None,
            )
        )
    return rows


def consent_effective_state(*, contact: Contact, purpose: Purpose) -> str | None:
    """The effective state of one purpose for one person (receipts; the same rule as the page)."""
    rows = dict(
        ConsentState.objects.filter(
            contact=contact, purpose__code__in=[purpose.code, Purpose.DIRECT_MARKETING]
        ).values_list("purpose__code", "state")
    )
    return machine.effective_state(
        state=rows.get(purpose.code),
        is_marketing=purpose.is_marketing,
        direct_marketing_state=rows.get(Purpose.DIRECT_MARKETING),
    )


def pending_signups_for_email(*, email: str) -> QuerySet[PendingSignup]:
    """Sign-ups with this address still waiting for confirmation (shown apart in the portal)."""
    return PendingSignup.objects.filter(
        email=normalise_email(email), confirmed_at__isnull=True, expires_at__gt=timezone.now()
    )


def consent_history_for_contact(*, contact: Contact, limit: int | None = 200) -> QuerySet[ConsentEvent]:
    qs = ConsentEvent.objects.filter(contact=contact).select_related("purpose", "notice").order_by("-id")
    return qs[:limit] if limit else qs


def _purpose_facts() -> tuple[dict[int, machine.PurposeFacts], int | None]:
    facts = {
        pk: machine.PurposeFacts(pk, is_marketing, code == Purpose.DIRECT_MARKETING, legal_basis)
        for pk, code, is_marketing, legal_basis in Purpose.objects.values_list(
            "pk", "code", "is_marketing", "legal_basis"
        )
    }
    dm = next((pk for pk, f in facts.items() if f.is_direct_marketing), None)
    return facts, dm


def consent_state_replayed(*, contact_ids: Iterable[int]) -> dict[tuple[int, int], str]:
    """The state per (contact, purpose) replayed from the ledger alone, ignoring the projection."""
    purposes, dm = _purpose_facts()
    entries: dict[int, list[machine.LedgerEntry]] = {}
    for contact_id, purpose_id, action, authority, channel in (
        ConsentEvent.objects.filter(contact_id__in=list(contact_ids))
        .order_by("id")
        .values_list("contact_id", "purpose_id", "action", "authority", "channel")
    ):
        entries.setdefault(contact_id, []).append(
            machine.LedgerEntry(purposes[purpose_id], action, authority, channel)
        )
    return {
        (contact_id, purpose_id): state
        for contact_id, events in entries.items()
        for purpose_id, state in machine.fold(events, direct_marketing_id=dm).items()
    }


def consent_report() -> list[dict[str, object]]:
    """Counts per purpose and state, for the staff report (from the projection, one query)."""
    return list(
        ConsentState.objects.values("purpose__code", "purpose__name_nb", "purpose__name_en", "state")
        .annotate(total=Count("pk"))
        .order_by("purpose__code", "state")
    )
