"""What the consent services share: the controller they name and a validated save."""

from __future__ import annotations

from django.db import models

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


def _save(instance: models.Model) -> None:
    instance.full_clean()
    instance.save()
