from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from core.audit import Actor, audit_record
from core.models import AppendOnlyError, AuditEvent
from subjects import services
from subjects.models import Contact
from tests.conftest import needs_postgres
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_an_event_cannot_be_changed_or_deleted():
    event = audit_record(actor=Actor.system("test"), action="contact.view", target_type="x", target_id=1)
    event.action = "something.else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "contact.view"


def test_creating_a_contact_records_who_what_and_which_fields_without_values(staff_user):
    actor = Actor.staff(staff_user, "198.51.100.7")
    contact = services.contact_create(
        actor=actor,
        name="Kari Nordmann",
        email="Kari@Firma.no",
        source_type="phone",
        phone="91234567",
    )
    event = AuditEvent.objects.get(action="contact.create")
    assert (event.actor_kind, event.actor_id, event.ip_address) == (
        "staff",
        str(staff_user.pk),
        "198.51.100.7",
    )
    assert (event.target_type, event.target_id) == ("subjects.contact", str(contact.pk))
    assert event.changed_fields == ["email", "email_kind", "name", "phone", "source_type"]
    stored = " ".join(str(v) for v in AuditEvent.objects.values_list(flat=False).get(pk=event.pk))
    assert "Kari" not in stored and "kari@firma.no" not in stored and "91234567" not in stored


def test_an_update_records_only_the_changed_field_names(staff_user):
    contact = ContactFactory()
    services.contact_update(contact=contact, actor=Actor.staff(staff_user), changes={"job_title": "CFO"})
    event = AuditEvent.objects.get(action="contact.update")
    assert event.changed_fields == ["job_title"]
    assert Contact.objects.get(pk=contact.pk).job_title == "CFO"


@needs_postgres
def test_postgresql_itself_refuses_to_change_or_delete_an_event():
    event = audit_record(actor=Actor.system("test"), action="contact.view", target_type="x", target_id=1)
    for statement in (
        "UPDATE core_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "contact.view"
