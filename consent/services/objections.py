"""Objections (Art. 21): to direct marketing (absolute) and to legitimate-interest purposes."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import Actor
from core.errors import Conflict
from core.mail import send_email
from subjects.models import Contact

from .. import machine, selectors
from ..models import (
    Channel,
    ConsentEvent,
    LegalBasis,
    Purpose,
    SuppressionEntry,
)
from .evidence import _check_evidence
from .ledger import _authority, _check_authority, _ledger_append, _lock_contact, consent_withdraw
from .suppression import suppression_add

Action = ConsentEvent.Action


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
