"""The ledger is append-only (model layer; on PostgreSQL the database too); erasure is the way through."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from consent.models import ConsentEvent, ConsentState, LedgerIsAppendOnly
from core.audit import Actor
from core.registry import registry
from core.removal import Door, Target, removal_execute, subject_targets
from subjects.models import Contact
from tests.conftest import needs_postgres
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_a_consent_is_recorded_with_its_evidence_and_projected():
    contact = ContactFactory()
    event = grant(contact)
    event.refresh_from_db()
    assert (event.action, event.channel, event.ip_address) == ("granted", "portal", "192.0.2.7")
    assert event.notice.version == "2018-06-01"
    assert len(event.wording.sha256) == 64 and "nyheter" in event.wording.text
    state = ConsentState.objects.get(contact=contact, purpose__code="marketing_products")
    assert (state.state, state.last_event_id) == ("granted", event.pk)


def test_the_model_refuses_to_change_an_event():
    event = grant(ContactFactory())
    event.reference = "rewritten"
    with pytest.raises(LedgerIsAppendOnly):
        event.save()
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.filter(pk=event.pk).update(reference="rewritten")
    assert ConsentEvent.objects.get(pk=event.pk).reference == "test"


def test_the_model_refuses_to_delete_an_event():
    event = grant(ContactFactory())
    with pytest.raises(LedgerIsAppendOnly):
        event.delete()
    with pytest.raises(LedgerIsAppendOnly):
        ConsentEvent.objects.filter(pk=event.pk).delete()
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_erasure_deletes_the_ledger_and_the_projection_of_that_person_only():
    erased, kept = ContactFactory(), ContactFactory()
    grant(erased)
    grant(kept)
    # The person's erasure (Art. 17) through the one removal engine, as rights does it.
    outcome = removal_execute(targets=subject_targets([erased.email]), door=Door.REQUEST, actor=SYSTEM)
    assert outcome.erased["consent.consentevent"] == 1
    assert not ConsentEvent.objects.filter(contact=erased).exists()
    assert not ConsentState.objects.filter(contact=erased).exists()
    assert ConsentEvent.objects.filter(contact=kept).count() == 1


def test_the_registry_erases_the_ledger_through_its_declaration():
    contact = ContactFactory()
    grant(contact)
    declaration = registry.get(ConsentEvent)
    assert declaration.export([contact.email])[0]["action"] == "granted"
    assert declaration.erase_queryset(declaration.rows_for([contact.email])) == 1
    assert not ConsentEvent.objects.filter(contact=contact).exists()


def test_deleting_a_contact_erases_its_ledger():
    contact = ContactFactory()
    grant(contact)
    Contact.objects.filter(pk=contact.pk).delete()
    assert not ConsentEvent.objects.exists()


@needs_postgres
def test_the_database_refuses_a_plain_update_and_delete():
    event = grant(ContactFactory())
    table = ConsentEvent._meta.db_table
    for sql in (f"UPDATE {table} SET reference = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert ConsentEvent.objects.get(pk=event.pk).reference == "test"


@needs_postgres
def test_the_database_refuses_an_update_even_during_erasure():
    event = grant(ContactFactory())
    table = ConsentEvent._meta.db_table
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('personvern.erasure', 'on', true)")
        cursor.execute(f"UPDATE {table} SET reference = 'x' WHERE id = %s", [event.pk])


@needs_postgres
def test_the_erasure_setting_ends_with_the_erasure():
    contact, other = ContactFactory(), ContactFactory()
    grant(contact)
    event = grant(other)
    with transaction.atomic():
        declaration = registry.get(ConsentEvent)
        removal_execute(
            targets=[Target(declaration, declaration.rows_for([contact.email]))],
            door=Door.REQUEST,
            actor=SYSTEM,
        )
        assert not ConsentEvent.objects.filter(contact=contact).exists()
        # Still inside the same transaction: the way through is closed again.
        table = ConsentEvent._meta.db_table
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])
    assert ConsentEvent.objects.filter(pk=event.pk).exists()
