"""Consent receipts (Kantara Consent Receipt v1.1, ISO/IEC TS 27560), shown and emailed."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from core.mail import render_email
from core.validators import normalise_email

from .. import machine, selectors
from ..models import (
    ConsentEvent,
)
from .common import CONTROLLER
from .links import unsubscribe_url

Action = ConsentEvent.Action


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
