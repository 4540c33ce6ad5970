from __future__ import annotations

from django.db.models import QuerySet

from core.registry import SubjectSection, subject_data
from core.validators import normalise_email

from .models import Contact, Interaction


def contact_by_email(*, email: str) -> Contact | None:
    return Contact.objects.select_related("organisation").filter(email=normalise_email(email)).first()


def contact_recent_interactions(*, contact: Contact, limit: int = 50) -> QuerySet[Interaction]:
    return contact.interactions.select_related("staff_member").order_by("-occurred_at")[:limit]


def subject_everything(*, email: str) -> list[SubjectSection]:
    """Everything the registry finds for this address (the contact page, the access report)."""
    return subject_data(email)
