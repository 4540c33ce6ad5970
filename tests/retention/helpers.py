"""Building registers for the retention tests."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core.registry import registry
from subjects.models import Contact, Interaction, Organisation

from .factories import ContactFactory, InteractionFactory, OrganisationFactory

THREE_YEARS = timedelta(days=3 * 365)


def prospect(**kwargs) -> Organisation:
    """An organisation that is not a customer: its contacts are swept when due."""
    return OrganisationFactory(is_customer=False, is_prospect=True, **kwargs)


def contact_last_seen(
    days_ago: float | None, *, organisation=None, interactions: int = 2, **kwargs
) -> Contact:
    """A contact whose last interaction was ``days_ago`` days ago (None: never)."""
    now = timezone.now()
    contact = ContactFactory(organisation=organisation or prospect(), **kwargs)
    if days_ago is not None:
        when = now - timedelta(days=days_ago)
        for i in range(interactions):
            InteractionFactory(contact=contact, occurred_at=when - timedelta(days=30 * i))
        contact.last_interaction_at = when
        contact.save(update_fields=["last_interaction_at"])
    return contact


def alive(*contacts: Contact) -> set[int]:
    return set(Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list("pk", flat=True))


def interactions_of(contact: Contact) -> int:
    return Interaction.objects.filter(contact_id=contact.pk).count()


class open_requests:  # used like a function, as a context manager
    """Registers a test guard, as requests_dsar does for open requests, for the block's duration."""

    def __init__(self, *emails: str) -> None:
        self.emails = list(emails)
        self.name = "test_open_request"

    def __enter__(self) -> open_requests:
        emails = self.emails
        self.previous = registry.guards().get(self.name)
        registry.register_guard(
            self.name, lambda: Contact.objects.filter(email__in=emails).values_list("email", flat=True)
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            registry.register_guard(self.name, self.previous)
        else:
            registry._guards.pop(self.name, None)


def refuse_deleting_contact(contact_id: int) -> None:
    """A database trigger that makes deleting one contact fail, as a real fault would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE OR REPLACE FUNCTION refuse_contact_delete() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'refused'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_contact_delete BEFORE DELETE ON subjects_contact "
                f"FOR EACH ROW WHEN (OLD.id = {int(contact_id)}) EXECUTE FUNCTION refuse_contact_delete()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER refuse_contact_delete BEFORE DELETE ON subjects_contact "
                f"WHEN OLD.id = {int(contact_id)} BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
