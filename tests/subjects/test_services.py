from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from core.audit import Actor
from core.models import AuditEvent
from subjects import services
from subjects.models import Contact, Interaction, Organisation
from tests.subjects.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def test_contact_email_and_phone_are_stored_normalised():
    contact = services.contact_create(
        actor=SYSTEM, name="Ola Nordmann", email=" Ola.Nordmann@Firma.NO", phone="912 34 567",
        source_type=Contact.SourceType.PHONE,
    )  # fmt: skip
    contact.refresh_from_db()
    assert (contact.email, contact.phone) == ("ola.nordmann@firma.no", "+4791234567")
    assert contact.email_kind == Contact.EmailKind.PERSONAL


def test_a_functional_address_is_marked_as_such():
    contact = services.contact_create(
        actor=SYSTEM, name="Sentralbord", email="post@firma.no", source_type="phone"
    )
    assert contact.email_kind == Contact.EmailKind.FUNCTIONAL


def test_the_same_email_in_other_case_is_refused_and_nothing_is_saved():
    ContactFactory(email="kari@firma.no")
    with pytest.raises(ValidationError) as error:
        services.contact_create(actor=SYSTEM, name="Kari", email="KARI@firma.no", source_type="phone")
    assert "already exists" in str(error.value)
    assert Contact.objects.count() == 1
    assert not AuditEvent.objects.filter(action="contact.create").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "valid email"),
        ("phone", "12", "valid phone number"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_problem(field, value, message):
    values = {"name": "Kari", "email": "kari@firma.no", "source_type": "phone", field: value}
    with pytest.raises(ValidationError) as error:
        services.contact_create(actor=SYSTEM, **values)
    assert field in error.value.message_dict
    assert message in error.value.message_dict[field][0]
    assert not Contact.objects.exists()


def test_an_organisation_with_a_broken_number_is_refused():
    with pytest.raises(ValidationError) as error:
        services.organisation_create(actor=SYSTEM, name="Feil AS", org_number="977187762")
    assert "check digit" in error.value.message_dict["org_number"][0]
    assert not Organisation.objects.exists()


def test_an_organisation_number_is_stored_without_spaces():
    organisation = services.organisation_create(actor=SYSTEM, name="BITS", org_number="977 187 761")
    assert organisation.org_number == "977187761"


def test_two_foreign_organisations_without_number_may_coexist():
    services.organisation_create(actor=SYSTEM, name="Svensk AB", country="SE")
    services.organisation_create(actor=SYSTEM, name="Dansk ApS", country="DK")
    assert Organisation.objects.filter(org_number="").count() == 2


def test_recording_an_interaction_moves_last_interaction_forward_never_back():
    contact = ContactFactory()
    later = datetime(2026, 3, 1, 12, tzinfo=UTC)
    services.interaction_record(contact=contact, kind="call", occurred_at=later, actor=SYSTEM)
    assert contact.last_interaction_at == later
    services.interaction_record(
        contact=contact, kind="email", occurred_at=later - timedelta(days=30), actor=SYSTEM
    )
    contact.refresh_from_db()
    assert contact.last_interaction_at == later
    assert Interaction.objects.filter(contact=contact).count() == 2
    assert AuditEvent.objects.filter(action="interaction.create").count() == 2


def test_editing_an_interaction_date_recomputes_last_interaction():
    contact = ContactFactory()
    first = services.interaction_record(
        contact=contact, kind="call", occurred_at=datetime(2025, 1, 1, tzinfo=UTC), actor=SYSTEM
    )
    services.interaction_record(
        contact=contact, kind="call", occurred_at=datetime(2025, 6, 1, tzinfo=UTC), actor=SYSTEM
    )
    services.interaction_update(
        interaction=first, actor=SYSTEM, changes={"occurred_at": datetime(2025, 9, 1, tzinfo=UTC)}
    )
    contact.refresh_from_db()
    assert contact.last_interaction_at == datetime(2025, 9, 1, tzinfo=UTC)


def test_organisation_relationships_may_combine():
    organisation = OrganisationFactory(is_customer=True, is_partner=True)
    assert organisation.relationships == ["customer", "partner"]
