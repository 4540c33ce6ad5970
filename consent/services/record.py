"""One door for every other system (API, imports, integrations) to record a consent act."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.audit import Actor
from core.errors import NotFound
from core.validators import normalise_email
from subjects.models import Contact

from ..models import (
    Channel,
    ConsentEvent,
)
from .ledger import consent_grant, consent_withdraw
from .objections import objection_record


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
