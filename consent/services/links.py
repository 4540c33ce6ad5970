"""One-click unsubscribe links (RFC 8058), and the errors of the emailed links."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from core.audit import Actor
from core.errors import ApplicationError, NotFound
from subjects.models import Contact

from ..models import (
    Channel,
    ConsentEvent,
    Purpose,
)
from .ledger import consent_withdraw
from .objections import objection_record

UNSUBSCRIBE_SALT = "consent.unsubscribe"


class InvalidLink(ApplicationError):
    """A forged, tampered or unknown token (the message says so without details)."""


class ExpiredLink(ApplicationError):
    pass


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
