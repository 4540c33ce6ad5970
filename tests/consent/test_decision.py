"""The stored decision of the consent check (ConsentDecision) moves with every fact it reads.

The property test (test_authority_property.py) proves it equals a replay after every act of
the ledger; these tests cover the other facts: the register's own changes, the passing of
time for a customer relationship, a purpose switched off, and erasure.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentDecision, Purpose
from core.audit import Actor
from core.removal import Door, removal_execute, subject_targets
from subjects import services as subject_services
from subjects.models import Contact
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def allowed(contact, code="marketing_products") -> bool:
    single = selectors.consent_allowed(contact=contact, purpose_code=code)
    batch = contact.email in selectors.consent_allowed_emails(emails=[contact.email], purpose_code=code)
    assert single == batch, "the single and the batch check must agree"
    return single


def test_a_change_of_the_register_moves_the_decision(staff_user):
    contact = ContactFactory(email="post@firma.no", email_kind=Contact.EmailKind.PERSONAL)
    assert not allowed(contact)
    subject_services.contact_update(
        contact=contact, actor=Actor.staff(staff_user), changes={"email_kind": Contact.EmailKind.FUNCTIONAL}
    )
    assert allowed(contact)  # a function's address, outside § 15
    subject_services.contact_update(
        contact=contact, actor=Actor.staff(staff_user),
        changes={"source_type": "data_collector", "source_attests_consent": False},
    )  # fmt: skip
    assert not allowed(contact)  # a third party's data, without the source's attestation


def test_a_customer_relationship_ends_with_its_contract_without_anyone_saving_anything():
    organisation = OrganisationFactory(is_customer=True)
    organisation.customer_contract_ends = timezone.localdate() + timedelta(days=10)
    organisation.save(update_fields=["customer_contract_ends"])
    contact = ContactFactory(organisation=organisation)
    services.customer_address_record(
        contact=contact,
        sale_reference="ORD-9",
        obtained_at=timezone.now(),
        opt_out_offered=True,
        actor=SYSTEM,
    )
    assert allowed(contact)
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert not allowed(contact)


def test_a_purpose_switched_off_clears_nobody_and_switched_on_again_clears_as_before(staff_user):
    consenting = ContactFactory()
    grant(consenting, "marketing_events")
    assert allowed(consenting, "marketing_events")
    purpose = Purpose.objects.get(code="marketing_events")
    services.purpose_update(purpose=purpose, actor=Actor.staff(staff_user), changes={"is_active": False})
    assert not allowed(consenting, "marketing_events")
    services.purpose_update(purpose=purpose, actor=Actor.staff(staff_user), changes={"is_active": True})
    assert allowed(consenting, "marketing_events")


def test_a_changed_address_is_not_kept_in_the_decision(staff_user):
    contact = ContactFactory(email="kari@firma.no")
    grant(contact)
    subject_services.contact_update(
        contact=contact, actor=Actor.staff(staff_user), changes={"email": "kari.nordmann@firma.no"}
    )
    assert set(ConsentDecision.objects.filter(contact=contact).values_list("email", flat=True)) <= {
        "kari.nordmann@firma.no",
        "",
    }
    assert (
        selectors.consent_allowed_emails(emails=["kari@firma.no"], purpose_code="marketing_products") == set()
    )
    assert allowed(Contact.objects.get(pk=contact.pk))


def test_erasure_takes_the_decision_with_the_person():
    contact = ContactFactory()
    grant(contact)
    assert ConsentDecision.objects.filter(contact=contact).exists()
    removal_execute(targets=subject_targets([contact.email]), door=Door.REQUEST, actor=SYSTEM)
    assert not ConsentDecision.objects.filter(contact_id=contact.pk).exists()
