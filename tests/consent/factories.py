from __future__ import annotations

from consent import services
from consent.models import ConsentEvent
from core.audit import Actor
from subjects.models import Contact

WORDING = "Ja, IntegrasjonsPartner BITS AS kan sende meg e-post om nyheter. Jeg kan trekke samtykket tilbake."
PERSON = Actor.subject("192.0.2.7")
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


def grant(
    contact: Contact, purpose_code: str = "marketing_products", *, channel: str = "portal"
) -> ConsentEvent:
    """A consent as the person gives it in the portal (counts at once)."""
    return services.consent_grant(
        contact=contact,
        purpose_code=purpose_code,
        channel=channel,
        actor=PERSON,
        wording=WORDING,
        ip_address="192.0.2.7",
        user_agent=UA,
        reference="test",
    )
