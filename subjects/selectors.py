from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from core.registry import SubjectSection, subject_data
from core.validators import normalise_email

from .models import Contact, Interaction


def contact_by_email(*, email: str) -> Contact | None:
    return Contact.objects.select_related("organisation").filter(email=normalise_email(email)).first()


# Hand-written: the mail tool's single consent check runs this before every send, and
# the ORM's compilation of the query cost more than the query (bench/bench_api.py).
_ID_BY_EMAIL_SQL = f"SELECT id FROM {Contact._meta.db_table} WHERE email = %s LIMIT 1"  # noqa: S608 (a name from the model)


def contact_by_email_id_only(*, email: str) -> Contact | None:
    """The contact with this address with only its id loaded; any other field loads when first read."""
    with connection.cursor() as cursor:
        cursor.execute(_ID_BY_EMAIL_SQL, [normalise_email(email)])
        row = cursor.fetchone()
    return Contact.from_db(connection.alias, ["id"], row) if row else None


def contact_recent_interactions(*, contact: Contact, limit: int = 50) -> QuerySet[Interaction]:
    return contact.interactions.select_related("staff_member").order_by("-occurred_at")[:limit]


def subject_everything(*, email: str) -> list[SubjectSection]:
    """Everything the registry finds for this address (the contact page, the access report)."""
    return subject_data(email)
