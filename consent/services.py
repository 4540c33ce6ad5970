"""Writes: the ledger and its projection, purposes, assessments, notices and their mailings.

Every write to the ledger goes through ``_ledger_append``: it locks the
contact's row (so one person's events are ordered), appends the event,
updates the projection in the same transaction, and records the audit event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.crypto import email_hash, new_token, token_digest
from core.errors import ApplicationError, Conflict, NotFound
from core.events import consent_changed, suppression_added
from core.mail import render_email, send_email
from core.models import AuditEvent
from core.validators import clean_email, normalise_email
from subjects.models import Contact

from . import machine, selectors
from .forms import signup_wording
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
    PendingSignup,
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
    *, channel: str, actor: Actor, ip_address: str | None, reference: str, action: str, user_agent: str = ""
) -> None:
    """Art. 7(1): we must be able to demonstrate the consent; refuse an event without evidence."""
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if channel in SELF_SERVICE_CHANNELS and not (ip_address or user_agent):
        # Never an invented address: behind a proxy we may not know it, and then the
        # browser (and the session or link that proved the person) is the evidence.
        raise ValidationError(_("The evidence is missing: the IP address or browser the person acted from."))
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


def _direct_marketing_id() -> int | None:
    return Purpose.objects.filter(code=Purpose.DIRECT_MARKETING).values_list("pk", flat=True).first()


def _purpose_facts(purpose: Purpose) -> machine.PurposeFacts:
    return machine.PurposeFacts(
        id=purpose.pk,
        is_marketing=purpose.is_marketing,
        is_direct_marketing=purpose.code == Purpose.DIRECT_MARKETING,
        legal_basis=purpose.legal_basis,
    )


def _authority(channel: str, authority: str | None, actor: Actor | None = None) -> str:
    """The authority of an act: what the actor proves, never more than that.

    A staff member is ``staff``, an API client ``integration`` and a job ``import`` or
    ``system``, whatever channel they name; only the person's own door (the portal's
    session, a signed link) is ``person_confirmed``. A claimed authority must match.
    """
    kinds = AuditEvent.ActorKind
    if actor is None or actor.kind == kinds.SUBJECT:
        proven = machine.authority_of(authority="", channel=channel)
        if actor is not None and proven not in (machine.PERSON_CONFIRMED, machine.PERSON_UNCONFIRMED):
            proven = machine.PERSON_UNCONFIRMED
    elif actor.kind == kinds.STAFF:
        proven = machine.STAFF
    elif actor.kind == kinds.API_CLIENT:
        proven = machine.INTEGRATION
    else:
        proven = machine.IMPORT if channel == Channel.IMPORT else machine.SYSTEM
    if authority and authority != proven:
        raise ValidationError({"authority": _("The act's authority does not match who recorded it.")})
    return proven


def _check_authority(*, authority: str, channel: str, actor: Actor) -> None:
    """The authority claimed must fit the door it came through (Art. 7(1): demonstrable)."""
    if authority not in machine.AUTHORITIES:
        raise ValidationError({"authority": _("Unknown authority.")})
    if authority == machine.PERSON_CONFIRMED and channel not in SELF_SERVICE_CHANNELS:
        raise ValidationError(
            _("Only the person's own act through the portal or an emailed link is confirmed.")
        )
    if authority == machine.STAFF and actor.kind != AuditEvent.ActorKind.STAFF:
        raise ValidationError(_("Only a staff member can record a consent on the person's behalf."))


def _ledger_append(
    *,
    contact: Contact,
    purpose: Purpose,
    action: str,
    channel: str,
    actor: Actor,
    authority: str,
    ip_address: str | None = None,
    user_agent: str = "",
    reference: str = "",
    notice: PrivacyNotice | None = None,
    wording: ConsentWording | None = None,
    always_record: bool = False,
) -> ConsentEvent | None:
    """Ask the machine, append the event and move the projection (inside ``transaction.atomic``,
    contact locked). Refused acts raise ``Conflict`` and write nothing; an act that changes
    nothing writes nothing and returns None, unless ``always_record`` (a renewed consent is
    evidence of its own)."""
    rows = list(
        ConsentState.objects.filter(contact=contact).values_list(
            "purpose_id", "state", "purpose__is_marketing"
        )
    )
    states = {pid: state for pid, state, _m in rows}
    marketing_ids = {pid for pid, _s, is_marketing in rows if is_marketing}
    ruling = machine.rule(
        states=states,
        marketing_ids=marketing_ids,
        direct_marketing_id=_direct_marketing_id(),
        purpose=_purpose_facts(purpose),
        action=action,
        authority=authority,
    )
    if not ruling.allowed:
        raise Conflict(_(ruling.reason))
    if not ruling.changes and not always_record:
        return None
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
        authority=authority,
    )
    _save(event)
    for purpose_id, new in ruling.changes.items():
        ConsentState.objects.update_or_create(
            contact=contact,
            purpose_id=purpose_id,
            defaults={
                "state": new,
                "channel": channel,
                "changed_at": event.occurred_at,
                "last_event_id": event.pk,
            },
        )
    # Tell the receivers (webhooks, registers) the effective decision of every purpose the act
    # touched; an objection to direct marketing touches every marketing purpose (Art. 21(3)).
    touched = Q(pk__in=list(ruling.changes))
    if purpose.code == Purpose.DIRECT_MARKETING:
        touched |= Q(is_marketing=True)
    for code in Purpose.objects.filter(touched).values_list("code", flat=True):
        consent_changed.send(
            sender=ConsentEvent,
            email=contact.email,
            contact_id=contact.pk,
            purpose=code,
            allowed=selectors.consent_allowed(contact=contact, purpose_code=code),
            actor_kind=authority,
        )
    audit_record(
        actor=actor,
        action=f"consent.{action}",
        target=event,
        fields=["contact", "purpose", "action", "channel", "authority", "notice", "wording", "ip_address"],
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
    authority: str | None = None,
) -> ConsentEvent:
    """Record a consent, with its evidence and the exact wording shown (Art. 7(1)).

    ``authority`` (see ``consent.machine``) defaults from the channel: portal and email
    link are the person, confirmed; staff, import and API record for the person and can
    never lift an opt-out. A web form is not a door to the ledger: a sign-up is kept apart
    (``signup_create``) until confirmed. ``notice`` defaults to the one in force.
    """
    purpose = selectors.purpose_by_code(code=purpose_code)
    _check_evidence(
        channel=channel,
        actor=actor,
        ip_address=ip_address,
        reference=reference,
        action="grant",
        user_agent=user_agent,
    )
    authority = _authority(channel, authority, actor)
    if authority == machine.PERSON_UNCONFIRMED:
        raise Conflict(_("A sign-up from a public form counts only once confirmed; use the sign-up form."))
    _check_authority(authority=authority, channel=channel, actor=actor)
    if purpose.legal_basis != LegalBasis.CONSENT and purpose.code != Purpose.DIRECT_MARKETING:
        raise Conflict(_("This purpose does not rest on consent, so there is no consent to give."))
    if not purpose.is_active and purpose.code != Purpose.DIRECT_MARKETING:
        # (A consent to direct marketing as such lifts an earlier objection to it.)
        raise Conflict(_("This purpose is not in use."))
    shown = _wording(wording)
    notice = notice or selectors.notice_current()
    if notice is None:
        raise Conflict(_("No privacy notice is published yet, so no consent can be collected."))
    if (
        authority in machine.ON_THE_PERSONS_BEHALF
        and purpose.is_marketing
        and selectors.email_is_suppressed(email=contact.email)
    ):
        # Opt-outs outlive erasure: only the person's own, fresh consent brings them back.
        raise Conflict(
            _("This address opted out earlier; only the person themselves can subscribe it again.")
        )
    with transaction.atomic():
        _lock_contact(contact)
        event = _ledger_append(
            contact=contact,
            purpose=purpose,
            action=Action.GRANTED,
            channel=channel,
            actor=actor,
            authority=authority,
            ip_address=ip_address,
            user_agent=user_agent,
            reference=reference,
            notice=notice,
            wording=shown,
            always_record=True,
        )
    assert event is not None
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
    authority: str | None = None,
) -> ConsentEvent | None:
    """Withdraw (Art. 7(3)); also the opt-out of Marketing Control Act § 15(2).

    Harmless to repeat: when the purpose is already withdrawn or objected to,
    nothing is written and None is returned. A marketing opt-out also puts the
    address on the suppression list, so it outlives an erasure. An unconfirmed
    act (anyone typing an address) is refused: it could switch off someone else's consent.
    """
    authority = _authority(channel, authority, actor)
    purpose = selectors.purpose_by_code(code=purpose_code)
    if purpose.legal_basis != LegalBasis.CONSENT and not purpose.is_marketing:
        raise Conflict(
            _("This purpose does not rest on consent; to stop it, object to it or ask for erasure.")
        )
    _check_evidence(
        channel=channel, actor=actor, ip_address=ip_address, reference=reference, action="withdraw",
        user_agent=user_agent,
    )  # fmt: skip
    _check_authority(authority=authority, channel=channel, actor=actor)
    with transaction.atomic():
        _lock_contact(contact)
        event = _ledger_append(
            contact=contact,
            purpose=purpose,
            action=Action.WITHDRAWN,
            channel=channel,
            actor=actor,
            authority=authority,
            ip_address=ip_address,
            user_agent=user_agent,
            reference=reference,
            notice=selectors.notice_current(),
        )
        if event is not None and purpose.is_marketing:
            suppression_add(
                email=contact.email,
                reason=SuppressionEntry.Reason.OPT_OUT,
                actor=actor,
                purposes=[purpose.code],
            )
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
    authority: str | None = None,
) -> ConsentEvent | None:
    """Record an objection (Art. 21) in the ledger.

    An objection to any marketing purpose is an objection to direct marketing
    (Art. 21(2)-(3)): it is recorded against ``direct_marketing``, is absolute,
    and turns every consent given before it into an objection; the address goes
    on the suppression list. An objection to a legitimate-interest purpose
    (Art. 21(1)) stops it unless staff record compelling grounds
    (``objection_grounds_record``). Repeating one writes nothing and returns None.
    """
    authority = _authority(channel, authority, actor)
    purpose = selectors.purpose_by_code(code=purpose_code)
    if purpose.legal_basis in (LegalBasis.CONTRACT, LegalBasis.LEGAL_OBLIGATION):
        # Art. 21(1) covers processing on Art. 6(1)(e) or (f) only.
        raise Conflict(_("This purpose rests on a contract or the law; it cannot be objected to."))
    if purpose.is_marketing and purpose.code != Purpose.DIRECT_MARKETING:
        reference = reference or f"objection via {purpose.code}"
        purpose = selectors.purpose_by_code(code=Purpose.DIRECT_MARKETING)
    if purpose.legal_basis == LegalBasis.CONSENT:
        # Objecting to a consent is withdrawing it (Art. 7(3)).
        return consent_withdraw(
            contact=contact, purpose_code=purpose.code, channel=channel, actor=actor, ip_address=ip_address,
            user_agent=user_agent, reference=reference, authority=authority,
        )  # fmt: skip
    _check_evidence(
        channel=channel,
        actor=actor,
        ip_address=ip_address,
        reference=reference,
        action="object",
        user_agent=user_agent,
    )
    _check_authority(authority=authority, channel=channel, actor=actor)
    with transaction.atomic():
        _lock_contact(contact)
        event = _ledger_append(
            contact=contact,
            purpose=purpose,
            action=Action.OBJECTED,
            channel=channel,
            actor=actor,
            authority=authority,
            ip_address=ip_address,
            user_agent=user_agent,
            reference=reference,
            notice=selectors.notice_current(),
        )
        if purpose.is_marketing:
            suppression_add(
                email=contact.email, reason=SuppressionEntry.Reason.OBJECTION, actor=actor,
                purposes=[Purpose.DIRECT_MARKETING],
            )  # fmt: skip
    return event


def objection_grounds_record(
    *, contact: Contact, purpose_code: str, actor: Actor, reason: str
) -> ConsentEvent:
    """Art. 21(1): staff show compelling legitimate grounds that override the person's objection.

    Only for a legitimate-interest purpose that is not marketing (Art. 21(3) has no
    exception), only after an objection, only with the reason written down; the person
    is told the reason by email (Art. 12(1), 21(4)).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Write down the compelling legitimate grounds; the person is told them.")}
        )
    _check_authority(authority=machine.STAFF, channel=Channel.STAFF, actor=actor)
    purpose = selectors.purpose_by_code(code=purpose_code)
    with transaction.atomic():
        _lock_contact(contact)
        event = _ledger_append(
            contact=contact,
            purpose=purpose,
            action=Action.GROUNDS,
            channel=Channel.STAFF,
            actor=actor,
            authority=machine.STAFF,
            reference=reason[:200],
            notice=selectors.notice_current(),
        )
        assert event is not None
        context = {
            "purpose_name": purpose.name_en if contact.language == "en" else purpose.name_nb,
            "reason": reason,
        }
        email, language = contact.email, contact.language
        transaction.on_commit(lambda: send_email("objection_grounds", context, to=email, language=language))
    return event


def objection_request_apply(
    *, contact: Contact, purpose_codes: Iterable[str] | None, actor: Actor, reference: str
) -> list[ConsentEvent]:
    """The consent side of an objection request (Art. 21), for the request workflow to call.

    ``purpose_codes`` names the purposes objected to; None means every purpose an
    objection can reach: direct marketing (Art. 21(2)-(3), absolute) and every
    legitimate-interest purpose (Art. 21(1)). Recorded by staff on the person's behalf.
    """
    if purpose_codes is None:
        others = Purpose.objects.filter(
            legal_basis=LegalBasis.LEGITIMATE_INTEREST, is_active=True, is_marketing=False
        ).exclude(code=Purpose.DIRECT_MARKETING)
        codes = [Purpose.DIRECT_MARKETING, *others.values_list("code", flat=True)]
    else:
        codes = list(purpose_codes)
    events = []
    for code in codes:
        event = objection_record(
            contact=contact, purpose_code=code, channel=Channel.STAFF, actor=actor, reference=reference,
        )  # fmt: skip
        if event is not None:
            events.append(event)
    return events


def consent_record(
    *,
    purpose: str,
    act: str,
    actor: Actor,
    authority: str | None = None,
    channel: str = Channel.API,
    contact: Contact | None = None,
    email: str | None = None,
    wording: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    reference: str = "",
) -> list[ConsentEvent]:
    """One door for every other system: record ``act`` ("grant", "withdraw", "object") on ``purpose``.

    Name the person by ``contact`` or by ``email`` (every register row with that address).
    ``authority`` is one of ``consent.machine.AUTHORITIES``: "person_confirmed",
    "person_unconfirmed", "staff", "import", "integration", "system". It follows from the
    ``actor`` (an API client is always "integration", staff "staff", a job "import" on the
    import channel, else "system"; only the person, through the portal or a signed link, is
    "person_confirmed"); a claimed authority that does not match is refused. ``channel`` says
    how the consent was collected. The machine refuses (``Conflict``) what the authority may
    not do: only the person's own confirmed act lifts an opt-out. Returns the events written
    (none when the act changed nothing).
    """
    if contact is None and not email:
        raise ValidationError(_("Name the person by contact or by email."))
    contacts = (
        [contact] if contact is not None else list(Contact.objects.filter(email=normalise_email(email or "")))
    )
    if not contacts:
        raise NotFound(_("There is no contact with that address."))
    common = {"purpose_code": purpose, "channel": channel, "actor": actor, "ip_address": ip_address,
              "user_agent": user_agent, "reference": reference, "authority": authority}  # fmt: skip
    events: list[ConsentEvent | None] = []
    for one in contacts:
        if act == "grant":
            events.append(consent_grant(contact=one, wording=wording, **common))
        elif act == "withdraw":
            events.append(consent_withdraw(contact=one, **common))
        elif act == "object":
            events.append(objection_record(contact=one, **common))
        else:
            raise ValidationError({"act": _("Unknown act: use grant, withdraw or object.")})
    return [e for e in events if e is not None]


# --- Web sign-ups: kept apart until confirmed (double opt-in) -----------------------------


def signup_create(
    *,
    email: str,
    name: str,
    topics: Iterable[str],
    language: str,
    ip_address: str | None,
    user_agent: str = "",
    reference: str = "consent:subscribe",
) -> PendingSignup:
    """Keep a web sign-up apart and email its confirmation link (after commit).

    The same work for every address, known or not: nothing here reads the register,
    so neither the answer nor its time tells anyone who is in it. Nothing changes any
    consent until the person follows the link (``signup_confirm``).
    """
    email = clean_email(email)
    language = "en" if (language or "").startswith("en") else "nb"
    wanted = sorted(set(topics))
    purposes = {
        p.code: p for p in selectors.purposes_consentable().filter(is_marketing=True, code__in=wanted)
    }
    if not wanted or set(wanted) - set(purposes):
        # Direct marketing as such, or a purpose not on consent, cannot be signed up for.
        raise ValidationError({"topics": _("Choose among the topics offered.")})
    notice = selectors.notice_current()
    if notice is None:
        raise Conflict(_("No privacy notice is published yet, so no consent can be collected."))
    token = new_token()
    with transaction.atomic():
        shown = [
            {"purpose": code, "wording": _wording(signup_wording(purposes[code], language=language)).sha256}
            for code in wanted
        ]
        signup = PendingSignup(
            email=email,
            name=(name or "").strip()[:200],
            language=language,
            topics=shown,
            notice=notice,
            ip_address=ip_address or None,
            user_agent=(user_agent or "")[:500],
            reference=reference,
            token_digest=token_digest(token),
            expires_at=timezone.now() + timedelta(days=settings.CONSENT_CONFIRMATION_DAYS),
        )
        _save(signup)
        audit_record(
            actor=Actor.subject(ip_address), action="consent.signup", target=signup, fields=["topics"]
        )
        from .tasks import signup_confirmation_send

        signup_id = signup.pk
        transaction.on_commit(lambda: signup_confirmation_send.delay(signup_id=signup_id, token=token))
    return signup


def signup_confirmation_send(*, signup_id: int, token: str) -> bool:
    """Email the confirmation link of a sign-up (the task's work); False when it is gone."""
    signup = PendingSignup.objects.filter(pk=signup_id, confirmed_at__isnull=True).first()
    if signup is None:
        return False
    names = dict(
        Purpose.objects.filter(code__in=[t["purpose"] for t in signup.topics]).values_list("code", "pk")
    )
    purposes = [p for p in Purpose.objects.filter(pk__in=names.values()).order_by("code")]
    url = settings.SITE_URL + reverse("consent:confirm", args=[token])
    context = {"purposes": purposes, "purpose": purposes[0] if purposes else None, "url": url,
               "days": settings.CONSENT_CONFIRMATION_DAYS}  # fmt: skip
    send_email("consent_confirm", context, to=signup.email, language=signup.language)
    return True


def signup_confirm(*, token: str, ip_address: str | None, user_agent: str = "") -> list[ConsentEvent]:
    """Double opt-in: the emailed link was followed, so the address is the person's own.

    Only now does the address become a contact (provenance "web form") and each topic a
    consent, recorded as the person's confirmed act (which may lift their own earlier
    opt-out for that topic, Art. 7(3), 21(3)). The sign-up itself is deleted; each consent's
    receipt is emailed to the person.
    """
    from subjects import services as subject_services
    from subjects.selectors import contact_by_email

    if not token or len(token) > 100:
        raise InvalidLink(_("This confirmation link is not valid."))
    with transaction.atomic():
        signup = PendingSignup.objects.select_for_update().filter(token_digest=token_digest(token)).first()
        if signup is None:
            raise InvalidLink(_("This confirmation link is not valid, or it was used already."))
        if signup.expires_at <= timezone.now():
            raise ExpiredLink(_("This confirmation link has expired. Please sign up again."))
        actor = Actor.subject(ip_address)
        contact = contact_by_email(email=signup.email) or subject_services.contact_create(
            actor=actor,
            name=signup.name or signup.email.split("@")[0],
            email=signup.email,
            language=signup.language,
            source_type=Contact.SourceType.WEB_FORM,
            source_name="consent:subscribe",
        )
        _lock_contact(contact)
        wordings = {
            w.sha256: w
            for w in ConsentWording.objects.filter(sha256__in=[t["wording"] for t in signup.topics])
        }
        purposes = {p.code: p for p in Purpose.objects.filter(code__in=[t["purpose"] for t in signup.topics])}
        events = []
        for topic in signup.topics:
            purpose = purposes.get(topic["purpose"])
            if purpose is None or not purpose.is_active:
                continue
            event = _ledger_append(
                contact=contact,
                purpose=purpose,
                action=Action.GRANTED,
                channel=Channel.WEB_FORM,
                actor=actor,
                authority=machine.PERSON_CONFIRMED,
                ip_address=ip_address,
                user_agent=user_agent,
                reference=f"web sign-up of {signup.requested_at:%Y-%m-%dT%H:%MZ}, confirmed by email link",
                notice=signup.notice,
                wording=wordings.get(topic["wording"]),
                always_record=True,
            )
            if event is not None:
                events.append(event)
        signup.delete()
        receipts = [consent_receipt(event=e) for e in events]
        email, language = contact.email, contact.language
        transaction.on_commit(lambda: _receipts_send(email=email, language=language, receipts=receipts))
    return events


def _receipts_send(*, email: str, language: str, receipts: list[dict[str, Any]]) -> None:
    """Email the person their consent receipts, each attached as Kantara v1.1 JSON."""
    if not receipts:
        return
    rendered = render_email("consent_receipt", {"receipts": receipts}, language=language)
    message = EmailMultiAlternatives(rendered.subject, rendered.body, settings.DEFAULT_FROM_EMAIL, [email])
    message.attach_alternative(rendered.html, "text/html")
    for receipt in receipts:
        message.attach(
            f"consent-receipt-{receipt['consentReceiptID']}.json",
            json.dumps(receipt, ensure_ascii=False, indent=2),
            "application/json",
        )
    message.send()


def consent_confirmations_expire(*, now: datetime | None = None) -> int:
    """Daily: delete web sign-ups nobody confirmed within the window (they were never consents).

    Also closes double opt-in confirmations left from before sign-ups were kept apart.
    """
    now = now or timezone.now()
    deleted, _detail = PendingSignup.objects.filter(confirmed_at__isnull=True, expires_at__lte=now).delete()
    ConsentConfirmation.objects.filter(
        confirmed_at__isnull=True, expired_at__isnull=True, expires_at__lte=now
    ).update(expired_at=now)
    if deleted:
        audit_record(actor=Actor.system("consent_confirmations_expire"), action="consent.signups_expire",
                     target_type="consent.pendingsignup")  # fmt: skip
    return deleted


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
        if emails is not None:
            PendingSignup.objects.filter(email__in=sorted({normalise_email(e) for e in emails})).delete()
        for pk in ids:
            audit_record(actor=actor, action="consent.erase", target_type="subjects.contact", target_id=pk)
    return deleted


# --- Suppression ------------------------------------------------------------------


def suppression_add(
    *, email: str, reason: str, actor: Actor, purposes: Iterable[str] = ()
) -> SuppressionEntry:
    """Put an address on the suppression list (idempotent; the first reason stays)."""
    digest = email_hash(email, purpose=SuppressionEntry.SUPPRESSION_PURPOSE)
    with transaction.atomic():
        entry, created = SuppressionEntry.objects.get_or_create(
            email_hash=digest, defaults={"reason": reason}
        )
        if created:
            audit_record(actor=actor, action="suppression.add", target=entry, fields=["email_hash", "reason"])
            suppression_added.send(sender=SuppressionEntry, email_hash=digest, purposes=list(purposes))
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

    Who (controller, with the required phone, and person), what (the purpose, its data
    categories, and who it is shared with), which notice and wording, when, how it was
    given and by whom (a consent recorded by an import or an integration is not an explicit
    act we saw), its *effective* status now (the machine's, so an objection shows), and how
    to withdraw it.
    """
    event = ConsentEvent.objects.select_related("contact", "purpose", "notice", "wording").get(pk=event.pk)
    contact, purpose = event.contact, event.purpose
    status = selectors.consent_effective_state(contact=contact, purpose=purpose)
    authority = machine.authority_of(authority=event.authority, channel=event.channel)
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
                "phone": settings.CONTROLLER_PHONE,
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
                        # Only an act we saw the person do is explicit; an import or an
                        # integration reports a consent someone else collected.
                        "consentType": "EXPLICIT"
                        if authority in (machine.PERSON_CONFIRMED, machine.STAFF)
                        else "IMPLICIT",
                        "piiCategory": list(purpose.data_categories),
                        "primaryPurpose": True,
                        "termination": "Until withdrawn",
                        "thirdPartyDisclosure": purpose.shares_with_third_parties,
                        **(
                            {"thirdPartyName": purpose.third_parties}
                            if purpose.shares_with_third_parties
                            else {}
                        ),
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        # ISO/IEC TS 27560 consent-record fields beyond the Kantara receipt.
        "legalBasis": purpose.legal_basis,
        "event": {
            "action": event.action,
            "channel": event.channel,
            "authority": authority,
            "reference": event.reference,
        },
        "consentStatus": status or "none",
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


def consent_receipts_for_email(*, email: str) -> list[dict[str, Any]]:
    """Every receipt of the consents given under this address (the portal's download)."""
    events = ConsentEvent.objects.filter(
        contact__email=normalise_email(email), action=Action.GRANTED
    ).order_by("occurred_at", "id")
    return [consent_receipt(event=event) for event in events]


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
    """Change a purpose. The rules compare with the row as stored, read afresh and locked, so a
    door that hands in an instance it has already changed (the admin's form) cannot slip past."""
    with transaction.atomic():
        stored = Purpose.objects.select_for_update().get(pk=purpose.pk)
        if "code" in changes and changes["code"] != stored.code and stored.consent_events.exists():
            # Art. 7(1): the ledger's events name the purpose; renaming it would rewrite the evidence.
            raise Conflict(_("The code of a purpose with recorded consents cannot change."))
        for name, value in changes.items():
            setattr(stored, name, value)
        _purpose_gate(stored)
        _save(stored)
        audit_record(actor=actor, action="purpose.update", target=stored, fields=changes)
    return stored


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
    with transaction.atomic():
        stored = LegitimateInterestAssessment.objects.select_for_update().get(pk=assessment.pk)
        for name, value in changes.items():
            setattr(stored, name, value)
        _save(stored)
        if stored.outcome == LegitimateInterestAssessment.Outcome.REJECTED:
            Purpose.objects.filter(pk=stored.purpose_id).update(is_active=False)
        audit_record(actor=actor, action="assessment.update", target=stored, fields=changes)
    return stored


# --- Privacy notices ----------------------------------------------------------------


def notice_create(*, actor: Actor, **values: Any) -> PrivacyNotice:
    values.pop("published_at", None)
    notice = PrivacyNotice(**values)
    with transaction.atomic():
        _save(notice)
        audit_record(actor=actor, action="notice.create", target=notice, fields=values)
    return notice


def notice_update(*, notice: PrivacyNotice, actor: Actor, changes: dict[str, Any]) -> PrivacyNotice:
    changes.pop("published_at", None)
    with transaction.atomic():
        stored = PrivacyNotice.objects.select_for_update().get(pk=notice.pk)
        if stored.is_published:
            # Each old version stays readable as it was; a change is a new version.
            raise Conflict(_("A published notice cannot be changed; create a new version instead."))
        for name, value in changes.items():
            setattr(stored, name, value)
        _save(stored)
        audit_record(actor=actor, action="notice.update", target=stored, fields=changes)
    return stored


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
