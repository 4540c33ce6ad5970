"""The ledger and its projection: the one way a consent state moves.

Every write to the ledger goes through ``_ledger_append``: it locks the
contact's row (so one person's events are ordered), appends the event,
updates the projection in the same transaction, and records the audit event.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.errors import Conflict, NotFound
from core.events import consent_changed
from core.models import AuditEvent
from subjects.models import Contact

from .. import machine, selectors
from ..models import (
    Channel,
    ConsentEvent,
    ConsentState,
    ConsentWording,
    LegalBasis,
    PrivacyNotice,
    Purpose,
    SuppressionEntry,
)
from .common import _save
from .decisions import decisions_refresh
from .evidence import SELF_SERVICE_CHANNELS, _check_evidence, _wording
from .suppression import suppression_add

Action = ConsentEvent.Action


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
    # The stored decision of the check moves in the same transaction as the state it follows.
    decisions_refresh(contact_ids=[contact.pk])
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
