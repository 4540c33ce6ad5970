"""Evidence of a consent (Art. 7(1)): who acted, through which door, and the wording shown."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.audit import Actor
from core.models import AuditEvent

from ..models import (
    Channel,
    ConsentWording,
    wording_hash,
)

# The channels where the person acts themselves, online: the IP address is the evidence.
SELF_SERVICE_CHANNELS = frozenset({Channel.WEB_FORM, Channel.EMAIL_LINK, Channel.PORTAL})
# Channels where someone else records the consent: a suppressed address
# (an earlier opt-out, objection or erasure) cannot be subscribed this way.
RECORDED_FOR_THE_PERSON = frozenset({Channel.STAFF, Channel.API, Channel.IMPORT})


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
