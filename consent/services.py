"""Writes: the ledger and its projection, purposes, assessments, notices and their mailings.

Every write to the ledger goes through ``_ledger_append``: it locks the
contact's row (so one person's events are ordered), appends the event,
updates the projection in the same transaction, and records the audit event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.crypto import email_hash, new_token, token_digest
from core.errors import ApplicationError, Conflict, NotFound
from core.mail import send_email
from core.models import AuditEvent
from core.validators import normalise_email
from subjects.models import Contact

from . import rules, selectors
from .models import (
    Channel,
    ConsentConfirmation,
    ConsentEvent,
    ConsentState,
    ConsentWording,
    CustomerAddressRecord,
    InformationNotice,
    LegalBasis,
    LegitimateInterestAssessment,
    MarketingClearance,
    NoticeNotification,
    PrivacyNotice,
    Purpose,
    SuppressionEntry,
    wording_hash,
)

Action = ConsentEvent.Action
State = ConsentState.State

# Who the receipts and notices name as controller (the policy's Hvem er vi?).
CONTROLLER = {
    "name": "IntegrasjonsPartner BITS AS",
    "org_number": "977187761",
    "address": {
        "streetAddress": "Hassingveien 40",
        "postalCode": "1605",
        "addressLocality": "Fredrikstad",
        "addressCountry": "NO",
    },
}

# The channels where the person acts themselves, online: the IP address is the evidence.
SELF_SERVICE_CHANNELS = frozenset({Channel.WEB_FORM, Channel.EMAIL_LINK, Channel.PORTAL})
# Channels where someone else records the consent: a suppressed address
# (an earlier opt-out, objection or erasure) cannot be subscribed this way.
RECORDED_FOR_THE_PERSON = frozenset({Channel.STAFF, Channel.API, Channel.IMPORT})

UNSUBSCRIBE_SALT = "consent.unsubscribe"


class InvalidLink(ApplicationError):
    """A forged, tampered or unknown token (the message says so without details)."""


class ExpiredLink(ApplicationError):
    pass


def _save(instance: models.Model) -> None:
    instance.full_clean()
    instance.save()


# --- Evidence -----------------------------------------------------------------


def _check_evidence(
    *, channel: str, actor: Actor, ip_address: str | None, reference: str, action: str
) -> None:
    """Art. 7(1): we must be able to demonstrate the consent; refuse an event without evidence."""
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if channel in SELF_SERVICE_CHANNELS and not ip_address:
        raise ValidationError(_("The evidence is missing: the IP address the person acted from."))
    if channel == Channel.STAFF:
        if actor.kind != AuditEvent.ActorKind.STAFF:
            raise ValidationError(_("Only a staff member can record a consent on the person's behalf."))
        if not reference.strip():
            raise ValidationError(
                _("The evidence is missing: say how the person gave or withdrew it (call, letter, meeting).")
            )
    if channel == Channel.API and actor.kind != AuditEvent.ActorKind.API_CLIENT:
        raise ValidationError(_("The evidence is missing: the API client that recorded it."))
    if channel == Channel.IMPORT and not reference.strip():
        raise ValidationError(_("The evidence is missing: the import batch or file it came from."))


def _wording(text: str) -> ConsentWording:
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("The evidence is missing: the exact wording the person was shown."))
    existing = ConsentWording.objects.filter(sha256=wording_hash(text)).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            wording = ConsentWording(text=text)
            wording.save()
            return wording
    except IntegrityError:
        return ConsentWording.objects.get(sha256=wording_hash(text))


# --- The ledger -----------------------------------------------------------------


def _lock_contact(contact: Contact) -> None:
    # One person's events are appended one at a time, so the projection
    # follows them in the order they were written.
    if not Contact.objects.select_for_update().filter(pk=contact.pk).exists():
        raise NotFound(_("The contact no longer exists."))


def _current_state(contact: Contact, purpose: Purpose) -> ConsentState | None:
    return ConsentState.objects.filter(contact=contact, purpose=purpose).first()


def _ledger_append(
    *,
    contact: Contact,
    purpose: Purpose,
    action: str,
    channel: str,
    actor: Actor,
    ip_address: str | None = None,
    user_agent: str = "",
    reference: str = "",
    notice: PrivacyNotice | None = None,
    wording: ConsentWording | None = None,
) -> ConsentEvent:
    """Append one event and move the projection (call inside ``transaction.atomic``, contact locked)."""
    event = ConsentEvent(
        contact=contact,
        purpose=purpose,
        action=action,
        channel=channel,
        notice=notice,
        wording=wording,
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:500],
        reference=reference,
        actor_kind=actor.kind,
        actor_id=actor.id,
    )
    _save(event)
    current = _current_state(contact, purpose)
    new = rules.next_state(current.state if current else None, action=action, channel=channel)
    if new is not None:
        ConsentState.objects.update_or_create(
            contact=contact,
            purpose=purpose,
            defaults={
                "state": new,
                "channel": channel,
                "changed_at": event.occurred_at,
                "last_event_id": event.pk,
            },
        )
    audit_record(
        actor=actor,
        action=f"consent.{action}",
        target=event,
        fields=["contact", "purpose", "action", "channel", "notice", "wording", "ip_address", "user_agent"],
    )
    return event


def consent_grant(
    *,
    contact: Contact,
    purpose_code: str,
    channel: str,
    actor: Actor,
    wording: str,
    ip_address: str | None = None,
    user_agent: str = "",
    reference: str = "",
    notice: PrivacyNotice | None = None,
) -> ConsentEvent:
    """Record a consent, with its evidence and the exact wording shown (Art. 7(1)).

    From a web form the consent waits for the emailed confirmation (double
    opt-in); the link is sent after commit. From the portal: ``channel="portal"``
    and ``actor=Actor.subject(ip)``. ``notice`` defaults to the one in force.
    """
    purpose = selectors.purpose_by_code(code=purpose_code)
    _check_evidence(channel=channel, actor=actor, ip_address=ip_address, reference=reference, action="grant")
    if purpose.legal_basis != LegalBasis.CONSENT and purpose.code != Purpose.DIRECT_MARKETING:
        raise Conflict(_("This purpose does not rest on consent, so there is no consent to give."))
    if not purpose.is_active and purpose.code != Purpose.DIRECT_MARKETING:
        # (A consent to direct marketing as such lifts an earlier objection to it.)
        raise Conflict(_("This purpose is not in use."))
    shown = _wording(wording)
    notice = notice or selectors.notice_current()
    if notice is None:
        raise Conflict(_("No privacy notice is published yet, so no consent can be collected."))
    if channel in RECORDED_FOR_THE_PERSON and selectors.email_is_suppressed(email=contact.email):
        # Opt-outs outlive erasure: only the person's own, fresh consent brings them back.
        raise Conflict(
            _("This address opted out earlier; only the person themselves can subscribe it again.")
        )
    token = None
    with transaction.atomic():
        _lock_contact(contact)
        event = _ledger_append(
            contact=contact,
            purpose=purpose,
            action=Action.GRANTED,
            channel=channel,
            actor=actor,
            ip_address=ip_address,
            user_agent=user_agent,
            reference=reference,
            notice=notice,
            wording=shown,
        )
        if channel in rules.DOUBLE_OPT_IN_CHANNELS:
            token = new_token()
            confirmation = ConsentConfirmation(
                contact=contact,
                purpose=purpose,
                token_digest=token_digest(token),
                expires_at=timezone.now() + timedelta(days=settings.CONSENT_CONFIRMATION_DAYS),
            )
            _save(confirmation)
            url = settings.SITE_URL + reverse("consent:confirm", args=[token])
            context = {"purpose": purpose, "url": url, "days": settings.CONSENT_CONFIRMATION_DAYS}
            email, language = contact.email, contact.language
            transaction.on_commit(lambda: send_email("consent_confirm", context, to=email, language=language))
    return event


def consent_confirm(*, token: str, ip_address: str | None, user_agent: str = "") -> ConsentEvent:
    """Double opt-in: the emailed link was followed; the consent now counts."""
    if not token or len(token) > 100:
        raise InvalidLink(_("This confirmation link is not valid."))
    with transaction.atomic():
        confirmation = (
            ConsentConfirmation.objects.select_for_update()
            .select_related("contact", "purpose")
            .filter(token_digest=token_digest(token))
            .first()
        )
        if confirmation is None:
            raise InvalidLink(_("This confirmation link is not valid."))
        if confirmation.confirmed_at is not None:
            raise Conflict(_("This link has already been used; your consent was confirmed then."))
        if confirmation.expired_at is not None or confirmation.expires_at <= timezone.now():
            raise ExpiredLink(_("This confirmation link has expired. Please sign up again."))
        contact = confirmation.contact
        _lock_contact(contact)
        current = _current_state(contact, confirmation.purpose)
        if current is None or current.state != State.PENDING:
            raise Conflict(_("There is no consent waiting for confirmation any more."))
        grant = ConsentEvent.objects.filter(pk=current.last_event_id).first()
        event = _ledger_append(
            contact=contact,
            purpose=confirmation.purpose,
            action=Action.CONFIRMED,
            channel=Channel.EMAIL_LINK,
            actor=Actor.subject(ip_address),
            ip_address=ip_address,
            user_agent=user_agent,
            reference=f"confirmation:{confirmation.pk}",
            notice=grant.notice if grant else None,
            wording=grant.wording if grant else None,
        )
        ConsentConfirmation.objects.filter(pk=confirmation.pk).update(confirmed_at=event.occurred_at)
    return event


def consent_withdraw(
    *,
    contact: Contact,
    purpose_code: str,
    channel: str,
    actor: Actor,
    ip_address: str | None = None,
    user_agent: str = "",
    reference: str = "",
) -> ConsentEvent | None:
    """Withdraw (Art. 7(3)); also the opt-out of Marketing Control Act § 15(2).

    Harmless to repeat: when the purpose is already withdrawn or objected to,
    nothing is written and None is returned. A marketing opt-out also puts the
    address on the suppression list, so it outlives an erasure.
    """
    purpose = selectors.purpose_by_code(code=purpose_code)
    if purpose.legal_basis != LegalBasis.CONSENT and not purpose.is_marketing:
        raise Conflict(
            _("This purpose does not rest on consent; to stop it, object to it or ask for erasure.")
        )
    _check_evidence(
        channel=channel, actor=actor, ip_address=ip_address, reference=reference, action="withdraw"
    )
    with transaction.atomic():
        _lock_contact(contact)
        current = _current_state(contact, purpose)
        if current is not None and current.state in (State.WITHDRAWN, State.OBJECTED):
            return None
        event = _ledger_append(
            contact=contact,
            purpose=purpose,
            action=Action.WITHDRAWN,
            channel=channel,
            actor=actor,
            ip_address=ip_address,
            user_agent=user_agent,
            reference=reference,
            notice=selectors.notice_current(),
        )
        ConsentConfirmation.objects.filter(
            contact=contact, purpose=purpose, confirmed_at__isnull=True, expired_at__isnull=True
        ).update(expired_at=event.occurred_at)
        if purpose.is_marketing:
            suppression_add(email=contact.email, reason=SuppressionEntry.Reason.OPT_OUT, actor=actor)
    return event


def objection_record(
    *,
    contact: Contact,
    purpose_code: str,
    channel: str,
    actor: Actor,
    ip_address: str | None = None,
    user_agent: str = "",
    reference: str = "",
) -> ConsentEvent | None:
    """Record an objection (Art. 21) in the ledger.

    An objection to any marketing purpose is an objection to direct marketing
    (Art. 21(2)-(3)): it is recorded against ``direct_marketing`` and blocks
    every marketing purpose, whatever consents exist; the address goes on the
    suppression list. Repeating it writes nothing and returns None.
    """
    purpose = selectors.purpose_by_code(code=purpose_code)
    if purpose.legal_basis in (LegalBasis.CONTRACT, LegalBasis.LEGAL_OBLIGATION):
        # Art. 21(1) covers processing on Art. 6(1)(e) or (f) only.
        raise Conflict(_("This purpose rests on a contract or the law; it cannot be objected to."))
    if purpose.is_marketing and purpose.code != Purpose.DIRECT_MARKETING:
        reference = reference or f"objection via {purpose.code}"
        purpose = selectors.purpose_by_code(code=Purpose.DIRECT_MARKETING)
    _check_evidence(channel=channel, actor=actor, ip_address=ip_address, reference=reference, action="object")
    with transaction.atomic():
        _lock_contact(contact)
        current = _current_state(contact, purpose)
        if current is not None and current.state == State.OBJECTED:
            return None
        event = _ledger_append(
            contact=contact,
            purpose=purpose,
            action=Action.OBJECTED,
            channel=channel,
            actor=actor,
            ip_address=ip_address,
            user_agent=user_agent,
            reference=reference,
            notice=selectors.notice_current(),
        )
        if purpose.is_marketing:
            suppression_add(email=contact.email, reason=SuppressionEntry.Reason.OBJECTION, actor=actor)
    return event


def consent_confirmations_expire(*, now: datetime | None = None) -> int:
    """Daily: a web sign-up never confirmed expires (and the ledger says so)."""
    now = now or timezone.now()
    actor = Actor.system("consent_confirmations_expire")
    count = 0
    due = ConsentConfirmation.objects.filter(
        confirmed_at__isnull=True, expired_at__isnull=True, expires_at__lte=now
    ).select_related("contact", "purpose")
    for confirmation in due.iterator(chunk_size=500):
        with transaction.atomic():
            claimed = ConsentConfirmation.objects.filter(
                pk=confirmation.pk, confirmed_at__isnull=True, expired_at__isnull=True
            ).update(expired_at=now)
            if not claimed:
                continue
            _lock_contact(confirmation.contact)
            current = _current_state(confirmation.contact, confirmation.purpose)
            if current is not None and current.state == State.PENDING:
                _ledger_append(
                    contact=confirmation.contact,
                    purpose=confirmation.purpose,
                    action=Action.EXPIRED,
                    channel=Channel.WEB_FORM,
                    actor=actor,
                    reference=f"confirmation:{confirmation.pk}",
                )
                count += 1
    return count


def consent_events_erase(
    *, actor: Actor, contact_ids: Iterable[int] | None = None, emails: Iterable[str] | None = None
) -> int:
    """Erase people's consent ledger (Art. 17): the one way through the append-only rule.

    Deletes the ledger events, the projection and pending confirmations of the
    contacts given by id or by address, in one transaction. On PostgreSQL the
    ledger's trigger refuses every UPDATE and DELETE unless the transaction has
    set ``personvern.erasure = 'on'`` (``SET LOCAL``, so it ends with the
    transaction); this function sets it around its own DELETE and switches it
    off again. Deleting a Contact does the same for its ledger (see
    ``consent.signals``). Opt-outs and objections outlive this on the
    suppression list. Returns the number of ledger events deleted.
    """
    if contact_ids is None and emails is None:
        raise ValueError("name the contacts by id or by email")
    q = models.Q(pk__in=[])
    if contact_ids is not None:
        q |= models.Q(pk__in=list(contact_ids))
    if emails is not None:
        q |= models.Q(email__in=sorted({normalise_email(e) for e in emails}))
    with transaction.atomic():
        ids = list(Contact.objects.filter(q).values_list("pk", flat=True))
        deleted, _detail = ConsentEvent.objects.erasable().filter(contact_id__in=ids).delete()
        ConsentState.objects.filter(contact_id__in=ids).delete()
        ConsentConfirmation.objects.filter(contact_id__in=ids).delete()
        for pk in ids:
            audit_record(actor=actor, action="consent.erase", target_type="subjects.contact", target_id=pk)
    return deleted


# --- Suppression ------------------------------------------------------------------


def suppression_add(*, email: str, reason: str, actor: Actor) -> SuppressionEntry:
    """Put an address on the suppression list (idempotent; the first reason stays)."""
    with transaction.atomic():
        entry, created = SuppressionEntry.objects.get_or_create(
            email_hash=email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE),
            defaults={"reason": reason},
        )
        if created:
            audit_record(actor=actor, action="suppression.add", target=entry, fields=["email_hash", "reason"])
    return entry


# --- Marketing Control Act § 15(2) ------------------------------------------------


def customer_address_record(
    *,
    contact: Contact,
    sale_reference: str,
    obtained_at: datetime,
    opt_out_offered: bool,
    actor: Actor,
) -> CustomerAddressRecord:
    """Record that the address was obtained in a sale, and whether an opt-out was offered then."""
    with transaction.atomic():
        record = CustomerAddressRecord.objects.filter(contact=contact).first() or CustomerAddressRecord(
            contact=contact
        )
        record.sale_reference = sale_reference
        record.obtained_at = obtained_at
        record.opt_out_offered = opt_out_offered
        _save(record)
        audit_record(
            actor=actor,
            action="customer_address.record",
            target=record,
            fields=["sale_reference", "obtained_at", "opt_out_offered"],
        )
    return record


def consent_clearances_record(
    *, emails: Iterable[str], purpose_code: str, reference: str, actor: Actor
) -> dict[str, str]:
    """Ask who may receive a campaign, and record which basis cleared each contact.

    Returns {address: basis} like ``selectors.consent_clearances``; the rows
    are written in batches as the answer streams in.
    """
    if not reference.strip():
        raise ValidationError(_("Name the campaign, so that the record says what the clearance was for."))
    purpose = selectors.purpose_by_code(code=purpose_code)
    cleared: dict[str, str] = {}
    batch: list[MarketingClearance] = []
    now = timezone.now()
    with transaction.atomic():
        for contact_id, email, basis in selectors.consent_clearance_rows(
            emails=emails, purpose_code=purpose_code
        ):
            cleared[email] = basis
            batch.append(
                MarketingClearance(
                    contact_id=contact_id, purpose=purpose, basis=basis, reference=reference, checked_at=now
                )
            )
            if len(batch) >= 5000:
                MarketingClearance.objects.bulk_create(batch)
                batch = []
        MarketingClearance.objects.bulk_create(batch)
        audit_record(
            actor=actor,
            action="consent.clearances_record",
            target=purpose,
            fields=["contact", "basis", "reference"],
        )
    return cleared


# --- One-click unsubscribe (RFC 8058) ------------------------------------------------


def unsubscribe_token(*, contact: Contact, purpose_code: str) -> str:
    """A signed, timestamped token naming the contact and purpose; no address in it."""
    return signing.dumps({"c": contact.pk, "p": purpose_code}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, contact: Contact, purpose_code: str) -> str:
    token = unsubscribe_token(contact=contact, purpose_code=purpose_code)
    return settings.SITE_URL + reverse("consent:unsubscribe", args=[token])


def unsubscribe_headers(*, contact: Contact, purpose_code: str) -> dict[str, str]:
    """The header pair of RFC 8058, for every marketing email (pass to ``send_email(headers=...)``)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(contact=contact, purpose_code=purpose_code)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_read(*, token: str) -> tuple[Contact, Purpose]:
    """Check a token: InvalidLink when forged or tampered, ExpiredLink when too old."""
    try:
        payload = signing.loads(
            token, salt=UNSUBSCRIBE_SALT, max_age=timedelta(days=settings.CONSENT_UNSUBSCRIBE_LINK_DAYS)
        )
    except signing.SignatureExpired:
        raise ExpiredLink(_("This unsubscribe link has expired.")) from None
    except signing.BadSignature:
        raise InvalidLink(_("This unsubscribe link is not valid.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
        raise InvalidLink(_("This unsubscribe link is not valid."))
    contact = Contact.objects.filter(pk=payload["c"]).first()
    purpose = Purpose.objects.filter(code=payload.get("p") or "").first()
    if contact is None or purpose is None:
        raise NotFound(_("There is nothing left to unsubscribe: we no longer hold this subscription."))
    return contact, purpose


def unsubscribe_apply(
    *, token: str, everything: bool = False, ip_address: str | None, user_agent: str = ""
) -> ConsentEvent | None:
    """Follow an unsubscribe link: withdraw the topic, or object to all direct marketing.

    No login: the signature is the proof. Following it again changes nothing.
    """
    contact, purpose = unsubscribe_read(token=token)
    actor = Actor.subject(ip_address)
    kwargs = {
        "contact": contact,
        "channel": Channel.EMAIL_LINK,
        "actor": actor,
        "ip_address": ip_address,
        "user_agent": user_agent,
        "reference": "unsubscribe link",
    }
    if everything:
        return objection_record(purpose_code=Purpose.DIRECT_MARKETING, **kwargs)
    return consent_withdraw(purpose_code=purpose.code, **kwargs)


# --- Consent receipts -------------------------------------------------------------


def consent_receipt(*, event: ConsentEvent) -> dict[str, Any]:
    """The consent as a receipt the person can keep (Kantara Consent Receipt v1.1, ISO/IEC TS 27560).

    Who (controller and person), what (the purpose, its data categories and
    third-party sharing), which notice and wording, when, how it was given,
    its state now, and how to withdraw it.
    """
    event = ConsentEvent.objects.select_related("contact", "purpose", "notice", "wording").get(pk=event.pk)
    contact, purpose = event.contact, event.purpose
    state = (
        ConsentState.objects.filter(contact=contact, purpose=purpose).values_list("state", flat=True).first()
    )
    notice_url = (
        settings.SITE_URL + reverse("consent:notice_version", args=[event.notice.version])
        if event.notice
        else settings.SITE_URL + reverse("consent:notice")
    )
    language = contact.language
    name = purpose.name_en if language == "en" else purpose.name_nb
    description = purpose.description_en if language == "en" else purpose.description_nb
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "NO",
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": event.channel,
        "consentReceiptID": str(event.receipt_id),
        "language": language,
        "piiPrincipalId": contact.email,
        "piiControllers": [
            {
                "piiController": CONTROLLER["name"],
                "onBehalf": False,
                "contact": "Personvernombud",
                "address": CONTROLLER["address"],
                "email": settings.PRIVACY_OFFICER_EMAIL,
                "piiControllerUrl": settings.SITE_URL,
                "orgNumber": CONTROLLER["org_number"],
            }
        ],
        "policyUrl": notice_url,
        "services": [
            {
                "service": name,
                "purposes": [
                    {
                        "purpose": description,
                        "purposeCode": purpose.code,
                        "purposeCategory": ["marketing" if purpose.is_marketing else purpose.legal_basis],
                        "consentType": "EXPLICIT",
                        "piiCategory": list(purpose.data_categories),
                        "primaryPurpose": True,
                        "termination": "Until withdrawn",
                        "thirdPartyDisclosure": purpose.shares_with_third_parties,
                        "thirdPartyName": "",
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        # ISO/IEC TS 27560 consent-record fields beyond the Kantara receipt.
        "legalBasis": purpose.legal_basis,
        "event": {"action": event.action, "channel": event.channel, "reference": event.reference},
        "consentStatus": state or "none",
        "notice": {"version": event.notice.version if event.notice else None, "url": notice_url},
        "wording": {
            "text": event.wording.text if event.wording else None,
            "sha256": event.wording.sha256 if event.wording else None,
        },
        "withdrawal": {
            "method": "One-click link in every marketing email, the privacy portal, or email to us",
            "url": unsubscribe_url(contact=contact, purpose_code=purpose.code),
            "email": settings.PRIVACY_OFFICER_EMAIL,
        },
    }


# --- Purposes and legitimate-interest assessments -----------------------------------------


def _purpose_gate(purpose: Purpose) -> None:
    if (
        purpose.is_active
        and purpose.legal_basis == LegalBasis.LEGITIMATE_INTEREST
        and (purpose.pk is None or not selectors.purpose_has_approved_assessment(purpose=purpose))
    ):
        # Art. 6(1)(f) and the policy (Vår hjemmel): legitimate interest only after
        # a documented balancing of the person's interests.
        raise Conflict(
            _(
                "A purpose on legitimate interest cannot be switched on "
                "without an approved, current assessment."
            )
        )


def purpose_create(*, actor: Actor, **values: Any) -> Purpose:
    purpose = Purpose(**values)
    _purpose_gate(purpose)
    with transaction.atomic():
        _save(purpose)
        audit_record(actor=actor, action="purpose.create", target=purpose, fields=values)
    return purpose


def purpose_update(*, purpose: Purpose, actor: Actor, changes: dict[str, Any]) -> Purpose:
    if "code" in changes and changes["code"] != purpose.code and purpose.consent_events.exists():
        raise Conflict(_("The code of a purpose with recorded consents cannot change."))
    for name, value in changes.items():
        setattr(purpose, name, value)
    _purpose_gate(purpose)
    with transaction.atomic():
        _save(purpose)
        audit_record(actor=actor, action="purpose.update", target=purpose, fields=changes)
    return purpose


def assessment_record(*, actor: Actor, **values: Any) -> LegitimateInterestAssessment:
    """Record a balancing assessment; a rejected one switches the purpose off."""
    assessment = LegitimateInterestAssessment(**values)
    purpose = assessment.purpose
    if purpose.legal_basis != LegalBasis.LEGITIMATE_INTEREST:
        raise Conflict(_("Only a purpose on legitimate interest needs a balancing assessment."))
    with transaction.atomic():
        _save(assessment)
        if assessment.outcome == LegitimateInterestAssessment.Outcome.REJECTED and purpose.is_active:
            Purpose.objects.filter(pk=purpose.pk).update(is_active=False)
        audit_record(actor=actor, action="assessment.record", target=assessment, fields=values)
    return assessment


def assessment_update(
    *, assessment: LegitimateInterestAssessment, actor: Actor, changes: dict[str, Any]
) -> LegitimateInterestAssessment:
    for name, value in changes.items():
        setattr(assessment, name, value)
    with transaction.atomic():
        _save(assessment)
        if assessment.outcome == LegitimateInterestAssessment.Outcome.REJECTED:
            Purpose.objects.filter(pk=assessment.purpose_id).update(is_active=False)
        audit_record(actor=actor, action="assessment.update", target=assessment, fields=changes)
    return assessment


# --- Privacy notices ----------------------------------------------------------------


def notice_create(*, actor: Actor, **values: Any) -> PrivacyNotice:
    values.pop("published_at", None)
    notice = PrivacyNotice(**values)
    with transaction.atomic():
        _save(notice)
        audit_record(actor=actor, action="notice.create", target=notice, fields=values)
    return notice


def notice_update(*, notice: PrivacyNotice, actor: Actor, changes: dict[str, Any]) -> PrivacyNotice:
    if notice.is_published:
        # Each old version stays readable as it was; a change is a new version.
        raise Conflict(_("A published notice cannot be changed; create a new version instead."))
    changes.pop("published_at", None)
    for name, value in changes.items():
        setattr(notice, name, value)
    with transaction.atomic():
        _save(notice)
        audit_record(actor=actor, action="notice.update", target=notice, fields=changes)
    return notice


def notice_publish(*, notice: PrivacyNotice, actor: Actor) -> PrivacyNotice:
    """Publish a version; a material change is emailed to every active contact before it takes effect."""
    now = timezone.now()
    if notice.is_published:
        raise Conflict(_("This version is already published."))
    if notice.is_material and notice.effective_from <= now:
        # Policy (Endringer): significant changes are announced before they take effect.
        raise Conflict(
            _("A material change must take effect in the future, so that everyone can be told first.")
        )
    with transaction.atomic():
        claimed = PrivacyNotice.objects.filter(pk=notice.pk, published_at__isnull=True).update(
            published_at=now
        )
        if not claimed:
            raise Conflict(_("This version is already published."))
        notice.published_at = now
        audit_record(actor=actor, action="notice.publish", target=notice, fields=["published_at"])
        if notice.is_material:
            from .tasks import notice_campaign_send

            notice_id = notice.pk
            transaction.on_commit(lambda: notice_campaign_send.delay(notice_id=notice_id))
    return notice


def notice_campaign_batch(*, notice_id: int, batch_size: int) -> tuple[int, bool]:
    """Tell the next ``batch_size`` active contacts about a material change; returns (sent, finished).

    Each email is sent inside the transaction that records its notification,
    and the (notice, contact) pair is unique: a second worker, a retry or a
    restart after a crash finds the row and skips the contact, so nobody is
    told twice, and whoever was not recorded is still to do.
    """
    notice = PrivacyNotice.objects.filter(pk=notice_id, published_at__isnull=False, is_material=True).first()
    if notice is None or notice.campaign_finished_at is not None:
        return 0, True
    sent = 0
    batch = list(
        selectors.contacts_to_notify(notice=notice).only("pk", "email", "language", "name", "source_type")[
            :batch_size
        ]
    )
    for contact in batch:
        try:
            with transaction.atomic():
                NoticeNotification.objects.create(notice=notice, contact=contact, language=contact.language)
                send_email(
                    "notice_change",
                    {
                        "notice": notice,
                        # hardening (issue 11, 10): a name typed into a web form came with an
                        # address nobody may have confirmed; it never goes into mail to it.
                        "contact_name": (
                            "" if contact.source_type == Contact.SourceType.WEB_FORM else contact.name
                        ),
                        "summary": notice.summary(contact.language),
                    },
                    to=contact.email,
                    language=contact.language,
                )
        except IntegrityError:
            continue  # someone else told this contact already
        sent += 1
    finished = len(batch) < batch_size and not selectors.contacts_to_notify(notice=notice).exists()
    if finished:
        PrivacyNotice.objects.filter(pk=notice.pk, campaign_finished_at__isnull=True).update(
            campaign_finished_at=timezone.now()
        )
        audit_record(actor=Actor.system("notice_campaign"), action="notice.campaign_finished", target=notice)
    return sent, finished


def art14_notices_send(*, limit: int = 500) -> int:
    """Art. 14(3)(a): tell people whose data came from someone else, within a month of collection.

    Each notice is recorded in the transaction that sends it (one row per
    contact, unique), so a rerun never sends twice; a notice past the month is
    still sent, and marked late.
    """
    notice = selectors.notice_current()
    if notice is None:
        return 0
    now = timezone.now()
    sent = 0
    for contact in selectors.contacts_due_art14_notice()[:limit]:
        late = contact.collected_at < now - timedelta(days=30)
        try:
            with transaction.atomic():
                InformationNotice.objects.create(
                    contact=contact, notice=notice, language=contact.language, late=late
                )
                send_email(
                    "art14_notice",
                    {
                        "contact_name": contact.name,
                        # Lazy label: rendered in the person's language.
                        "source": Contact.SourceType(contact.source_type).label,
                        "source_name": contact.source_name,
                        "notice": notice,
                        "controller": CONTROLLER,
                    },
                    to=contact.email,
                    language=contact.language,
                )
        except IntegrityError:
            continue
        sent += 1
    if sent:
        audit_record(
            actor=Actor.system("art14_notices"), action="art14_notice.send", target_type="subjects.contact"
        )
    return sent
